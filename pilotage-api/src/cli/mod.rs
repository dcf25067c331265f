//! The `pilotage` command line: one subcommand per stage of the data flow.
//!
//! Errors are printed as one line naming what is wrong (`error: …`) and give a non-zero exit
//! code: 2 for a command line that cannot be understood, 1 for a command that failed.

mod audit;
mod demo;
mod generate;
mod ingest;
mod keys;
mod progress;
mod publish;
mod serve;

pub use demo::DEMO_DATASETS;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// pilotage: anonymized indicators of France's inclusion-in-employment programmes.
#[derive(Debug, Parser)]
#[command(name = "pilotage", version, about, long_about = None)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of the `pilotage` binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate seeded national-scale synthetic sources in the canonical contract.
    Generate(generate::GenerateArgs),
    /// Validate source extracts and load them into the store, all or nothing.
    Ingest(ingest::IngestArgs),
    /// Compute, protect, check and write a release from the store; switch `current` to it.
    Publish(publish::PublishArgs),
    /// Check a published release's disclosure control again: in full from the store, or
    /// `--public` from the published files alone.
    Audit(audit::AuditArgs),
    /// Run the whole pipeline on small seeded data: the first command to try.
    Demo(demo::DemoArgs),
    /// Serve the releases over HTTP: the open-data API.
    Serve(serve::ServeArgs),
    /// Professional API keys: create, list, revoke, and read the access log.
    Keys(keys::KeysArgs),
}

/// Parses the command line and runs the chosen command; returns the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return report_usage_error(err),
    };
    let result = match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Publish(args) => publish::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Keys(args) => keys::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Prints help and version as clap does; any other parse error as one line.
fn report_usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        _ => {
            let rendered = err.render().to_string();
            let first = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid command line")
                .trim();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {first} (see `pilotage --help`)");
            ExitCode::from(2)
        }
    }
}

/// Joins an error and its causes on one line (`outer: inner: root`), skipping a cause that
/// the message before it already quotes.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}
