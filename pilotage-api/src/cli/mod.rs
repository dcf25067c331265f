//! The `pilotage` command line.

use std::process::ExitCode;

/// Parses the command line and runs the chosen command; returns the process exit code.
pub fn run() -> ExitCode {
    ExitCode::SUCCESS
}
