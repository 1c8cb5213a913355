//! `central-auth completions SHELL`: the shell completion script on stdout,
//! rendered from the clap definition (`central_auth::completion`); no broker
//! is opened.

use std::process::ExitCode;

use central_auth::cli::Cli;

use super::Outcome;
use crate::output::print_stdout;

/// Prints the completion script for `shell`.
pub(crate) fn run(shell: clap_complete::Shell) -> Outcome {
    let text = central_auth::completion::script(shell, &mut Cli::command(), "central-auth");
    print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
