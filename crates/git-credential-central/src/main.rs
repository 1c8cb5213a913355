//! `git-credential-central`: git credential helper answering with the central-auth
//! access token. The protocol and the command line live in the library; this
//! file hands the run to the runner every helper shares
//! (`central-auth-cli-common`), which maps failures to one stderr line and the
//! shared exit code.

use std::process::ExitCode;

use central_auth_cli_common::{Context, Failure, Helper};
use git_credential_central::cli::Cli;
use git_credential_central::{run, Options};

struct Git;

impl Helper for Git {
    type Cli = Cli;
    const NAME: &'static str = "git-credential-central";
    const CLIENT: &'static str = "git";
    fn run(cli: Cli, cx: &Context) -> Result<(), Failure> {
        let opts = Options {
            profile: cli.args.common.profile,
            min_valid: cli.args.min_valid,
            operation: cli.operation,
        };
        let note = |line: &str| cx.note(line);
        run(
            &opts,
            std::io::stdin().lock(),
            std::io::stdout().lock(),
            // With --profile one profile's part of the config is read; else
            // git's host picks the profile among all of them.
            || match &opts.profile {
                Some(p) => cx.open_broker_for(Some(p)),
                None => cx.open_broker(),
            },
            &note,
        )
    }
}

fn main() -> ExitCode {
    central_auth_vault::register();
    central_auth_keyring::register();
    central_auth_cli_common::main::<Git>()
}
