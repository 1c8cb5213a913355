//! `git-credential-central`: git credential helper answering with the central-auth
//! access token. The protocol lives in the library; this file declares the
//! command line and hands the run to the runner every helper shares
//! (`central-auth-cli-common`), which maps failures to one stderr line and the
//! shared exit code.

use std::process::ExitCode;

use clap::Parser;

use central_auth_cli_common::{after_help, Context, Failed, Helper, HelperArgs};
use git_credential_central::{run, Options};

/// git credential helper that answers with the current HPE Aruba Networking Central
/// access token held by central-auth.
///
/// Configure it in git as `credential.helper = central` (with this binary on PATH),
/// optionally `credential.helper = "central --profile NAME"`. Without --profile, the
/// profile whose git_hosts (or base_url host) matches git's host answers; for any
/// other host nothing is printed and git asks its next helper. Tokens are only
/// handed out for https, or http to a loopback host.
#[derive(Debug, Parser)]
#[command(name = "git-credential-central", version, after_help = after_help(""))]
struct Cli {
    /// `--profile` (answer with this profile whatever host git asks for),
    /// `--min-valid`, `--verbose`, as on every helper.
    #[command(flatten)]
    args: HelperArgs,

    /// The operation git appends: get, store, erase or capability. Missing means
    /// get; unknown operations are ignored.
    #[arg(value_name = "OPERATION")]
    operation: Option<String>,
}

struct Git;

impl Helper for Git {
    type Cli = Cli;
    const NAME: &'static str = "git-credential-central";
    const CLIENT: &'static str = "git";
    fn verbose(cli: &Cli) -> bool {
        cli.args.common.verbose
    }
    fn run(cli: Cli, cx: &Context) -> Result<(), Failed> {
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
            || cx.open_broker(),
            &note,
        )
        .map_err(|f| Failed::new(f.message, f.code as u8))
    }
}

fn main() -> ExitCode {
    central_auth_cli_common::main::<Git>()
}
