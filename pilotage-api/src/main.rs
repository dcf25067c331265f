//! The `pilotage` command line.

fn main() -> std::process::ExitCode {
    pilotage_api::cli::run()
}
