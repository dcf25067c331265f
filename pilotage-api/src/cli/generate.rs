//! `pilotage generate`: seeded synthetic sources at any scale.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use pilotage_core::synth::{self, GeneratorConfig, OutputFormat, SynthError};

use super::progress::GeneratorProgress;

/// Options of `pilotage generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Size relative to the whole country (1 = national scale, 0.01 = one hundredth).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Seed of the random generator: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Years covered, as `FIRST-LAST` (e.g. `2021-2025`) or a single year.
    #[arg(long, default_value = "2021-2025", value_parser = parse_years)]
    pub years: (i32, i32),
    /// Output folder; must not exist or be empty. Written atomically.
    #[arg(long)]
    pub out: PathBuf,
    /// File format of the written tables.
    #[arg(long, value_enum, default_value_t = FormatArg::Parquet)]
    pub format: FormatArg,
}

/// File formats offered on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Apache Parquet, zstd-compressed.
    Parquet,
    /// UTF-8 CSV with a header row.
    Csv,
    /// As delivered upstream: platform tables as CSV, ASP tables as gzipped fluxIAE views.
    Fluxiae,
}

impl From<FormatArg> for OutputFormat {
    fn from(value: FormatArg) -> Self {
        match value {
            FormatArg::Parquet => OutputFormat::Parquet,
            FormatArg::Csv => OutputFormat::Csv,
            FormatArg::Fluxiae => OutputFormat::FluxIae,
        }
    }
}

/// Parses `2021-2025` or `2024` into an inclusive pair of years, first ≤ last.
pub fn parse_years(text: &str) -> Result<(i32, i32), String> {
    let parse = |s: &str| {
        s.trim()
            .parse::<i32>()
            .map_err(|_| format!("{s:?} is not a year (expected e.g. 2021-2025)"))
    };
    let (first, last) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let y = parse(text)?;
            (y, y)
        }
    };
    if first > last {
        return Err(format!(
            "years {first}-{last} are in the wrong order (first year must not be after the last)"
        ));
    }
    Ok((first, last))
}

/// Runs `pilotage generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let config = GeneratorConfig {
        scale: args.scale,
        seed: args.seed,
        first_year: args.years.0,
        last_year: args.years.1,
        format: args.format.into(),
    };
    config.validate().map_err(with_flag_names)?;
    let started = Instant::now();
    let mut progress = GeneratorProgress::new();
    let summary = synth::generate(&config, &args.out, &mut |e| progress.on_event(e))
        .with_context(|| format!("generating into {}", args.out.display()))?;
    println!(
        "generated {} tables into {} in {:.1} s",
        summary.tables.len(),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    for table in &summary.tables {
        println!(
            "  {:<28} {:>12} rows {:>14} bytes",
            table.file_name, table.rows, table.bytes
        );
    }
    Ok(())
}

/// Names the command-line flag rather than the configuration field in validation errors.
pub(crate) fn with_flag_names(err: SynthError) -> anyhow::Error {
    match err {
        SynthError::InvalidConfig { parameter, reason } => {
            let flag = match parameter {
                "first_year" | "last_year" => "--years",
                "scale" => "--scale",
                "seed" => "--seed",
                "format" => "--format",
                "out" => "--out",
                other => other,
            };
            anyhow::anyhow!("invalid {flag}: {reason}")
        }
        other => other.into(),
    }
}
