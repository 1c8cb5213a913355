//! `central-auth-terraform` binary: see the library for the protocol.

use std::process::ExitCode;

use central_auth_terraform::{error_line, run, usage_error_line, Cli};
use clap::Parser;

fn main() -> ExitCode {
    central_auth_core::process::harden();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print to stdout and exit 0.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            report(&usage_error_line(&e));
            return ExitCode::from(central_auth_core::ExitCode::Usage as u8);
        }
    };
    let result =
        central_auth_core::adapter::open_broker("terraform", cli.verbose, log).and_then(|broker| {
            run(
                &cli,
                &broker,
                std::io::stdin().lock(),
                std::io::stdout().lock(),
            )
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            report(&error_line(&failure));
            ExitCode::from(failure.exit_code())
        }
    }
}

#[allow(clippy::print_stderr)]
fn report(line: &str) {
    eprintln!("{line}");
}

#[allow(clippy::print_stderr)]
fn log(line: &str) {
    eprintln!("central-auth-terraform: {line}");
}
