//! `pilotage-client`: the open-data API from the command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pilotage_client::{Client, Format};

/// Reach the pilotage open-data API: list datasets, show one, query data, download files.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Server base URL.
    #[arg(
        long,
        env = "PILOTAGE_BASE_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    base_url: String,
    /// API key (higher quota).
    #[arg(long, env = "PILOTAGE_API_KEY")]
    api_key: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lists the datasets of the current release.
    Datasets,
    /// Shows a dataset: dimensions, measures, files.
    Show {
        /// Dataset id.
        id: String,
    },
    /// Writes a dataset's rows to standard output.
    Data {
        /// Dataset id.
        id: String,
        /// Filter `dimension=code[,code…]`, repeatable.
        #[arg(long)]
        filter: Vec<String>,
        /// Measures to keep, comma-separated.
        #[arg(long)]
        measures: Option<String>,
        /// Output format: json, csv, ndjson or parquet.
        #[arg(long, default_value = "csv")]
        format: Format,
        /// Release version (default: current).
        #[arg(long)]
        release: Option<String>,
    },
    /// Downloads a dataset's release file, resumable and checksum-verified.
    Download {
        /// Dataset id.
        id: String,
        /// File format: parquet or csv (the release's `<id>.parquet` or `<id>.csv`).
        #[arg(long, default_value = "parquet", value_parser = ["parquet", "csv"])]
        format: String,
        /// Release version, or `current`.
        #[arg(long, default_value = "current")]
        release: String,
        /// Output folder.
        #[arg(short, long, default_value = ".")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base_url = cli.base_url.clone();
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The whole chain of causes: "connection refused" is often only in the last one.
            eprintln!("error: {}", pilotage_client::cause_chain(e.as_ref()));
            let client_error = e.downcast_ref::<pilotage_client::Error>();
            if let Some(p) = client_error.and_then(|e| e.problem())
                && let Some(hint) = &p.hint
            {
                eprintln!("hint: {hint}");
            }
            if matches!(client_error, Some(pilotage_client::Error::Connect { .. })) {
                eprintln!(
                    "hint: is a pilotage server listening at {base_url}? Give its address with \
                     --base-url or PILOTAGE_BASE_URL"
                );
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Client::builder().base_url(&cli.base_url);
    if let Some(key) = &cli.api_key {
        builder = builder.api_key(key);
    }
    let client = builder.build()?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Datasets => {
            let list = client.datasets().list().await?;
            writeln!(out, "release {}", list.release)?;
            for d in &list.datasets {
                writeln!(out, "{:<32} {:>10} rows  {}", d.id, d.rows, d.title)?;
            }
        }
        Command::Show { id } => {
            let d = client.datasets().get(&id).await?;
            writeln!(
                out,
                "{} ({}) — {}\n{}\n",
                d.id, d.version, d.title, d.description
            )?;
            writeln!(
                out,
                "release {} · {} rows · {}",
                d.release, d.rows, d.license
            )?;
            writeln!(out, "\ndimensions:")?;
            for dim in &d.dimensions {
                writeln!(
                    out,
                    "  {:<20} {} ({} members)",
                    dim.id,
                    dim.label,
                    dim.members.len()
                )?;
            }
            writeln!(out, "\nmeasures:")?;
            for m in &d.measures {
                writeln!(out, "  {:<28} {} [{}]", m.id, m.label, m.unit)?;
            }
            writeln!(out, "\nfiles:")?;
            for f in &d.files {
                writeln!(
                    out,
                    "  {:<40} {:>10} bytes  sha256 {}",
                    f.name, f.bytes, f.sha256
                )?;
            }
        }
        Command::Data {
            id,
            filter,
            measures,
            format,
            release,
        } => {
            let mut q = client.data(&id);
            for f in &filter {
                let (dim, codes) = f
                    .split_once('=')
                    .ok_or_else(|| format!("--filter {f:?}: expected dimension=code[,code…]"))?;
                q = q.filter(dim, codes.split(','));
            }
            if let Some(m) = &measures {
                q = q.measures(m.split(','));
            }
            if let Some(r) = &release {
                q = q.release(r);
            }
            let bytes = q.bytes(format).await?;
            out.write_all(&bytes)?;
        }
        Command::Download {
            id,
            format,
            release,
            output,
        } => {
            let detail = client.datasets().release(&release).get(&id).await?;
            // The data file itself (`<id>.<format>`), never another file of the dataset
            // (its `.schema.json` definition).
            let name = format!("{id}.{format}");
            let file = detail
                .files
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| {
                    format!(
                        "dataset {id:?} has no {format} file in release {}",
                        detail.release
                    )
                })?;
            let bar = indicatif::ProgressBar::new(file.bytes);
            bar.set_style(indicatif::ProgressStyle::with_template(
                "{bytes}/{total_bytes} {wide_bar} {bytes_per_sec} {eta}",
            )?);
            let path = client
                .releases()
                .download(&detail.release, &file.name, &output, |p| {
                    bar.set_position(p.done)
                })
                .await?;
            bar.finish_and_clear();
            writeln!(out, "{} (sha256 {} verified)", path.display(), file.sha256)?;
        }
    }
    Ok(())
}
