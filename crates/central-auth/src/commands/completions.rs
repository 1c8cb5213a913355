//! `central-auth completions SHELL`: the shell completion script on stdout,
//! rendered from the clap definition; no broker is opened.

use std::process::ExitCode;

use clap::CommandFactory;

use central_auth::cli::Cli;

use super::Outcome;
use crate::output::print_stdout;

/// Prints the completion script for `shell`.
pub(crate) fn run(shell: clap_complete::Shell) -> Outcome {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "central-auth", &mut out);
    print_stdout(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}
