//! `git-credential-central`: git credential helper answering with the central-auth
//! access token. The protocol lives in the library; this file parses arguments,
//! opens the broker and maps failures to one stderr line and the shared exit code.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use central_auth_core::error::EXIT_CODES_HELP;
use central_auth_core::Broker;
use git_credential_central::{run, Options};

const NAME: &str = "git-credential-central";

/// git credential helper that answers with the current HPE Aruba Networking Central
/// access token held by central-auth.
///
/// Configure it in git as `credential.helper = central` (with this binary on PATH),
/// optionally `credential.helper = "central --profile NAME"`. Without --profile, the
/// profile whose git_hosts (or base_url host) matches git's host answers; for any
/// other host nothing is printed and git asks its next helper. Tokens are only
/// handed out for https, or http to a loopback host.
#[derive(Debug, Parser)]
#[command(name = NAME, version, after_help = EXIT_CODES_HELP)]
struct Cli {
    /// Answer with this profile whatever host git asks for.
    #[arg(short, long, value_name = "NAME")]
    profile: Option<String>,

    /// Minimum remaining validity of the token, e.g. `10m` (default: the profile's min_valid).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    min_valid: Option<Duration>,

    /// Log decisions, HTTP calls and lock waits to stderr.
    #[arg(short, long)]
    verbose: bool,

    /// The operation git appends: get, store, erase or capability. Missing means
    /// get; unknown operations are ignored.
    #[arg(value_name = "OPERATION")]
    operation: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    central_auth_core::duration::parse(s)
}

/// One stderr line; control characters from git's input (e.g. in `host`) are
/// escaped so they cannot drive the terminal.
#[allow(clippy::print_stderr)]
fn log(line: &str) {
    eprintln!("{}", central_auth_core::adapter::error_line(NAME, &line));
}

fn quiet(_: &str) {}

/// Parses the command line; usage errors become one `git-credential-central: ...`
/// line and exit code 2, `--help` and `--version` print as usual.
fn parse_cli() -> Result<Cli, ExitCode> {
    Cli::try_parse().map_err(|e| {
        if matches!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
        ) {
            e.exit();
        }
        let text = e.render().to_string();
        let first = text.lines().next().unwrap_or("bad command line");
        log(&format!(
            "{}; see `{NAME} --help`",
            first.trim_start_matches("error: ")
        ));
        ExitCode::from(central_auth_core::ExitCode::Usage as u8)
    })
}

fn main() -> ExitCode {
    central_auth_core::process::harden();
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let opts = Options {
        profile: cli.profile,
        min_valid: cli.min_valid,
        operation: cli.operation,
    };
    let verbose = cli.verbose;
    let note: &dyn Fn(&str) = if verbose { &log } else { &quiet };
    let open = || {
        let broker = Broker::from_env()?.with_client("git");
        if let Some(w) = central_auth_core::strict::exposure_warning(broker.home(), broker.config())
        {
            log(&w);
        }
        Ok(if verbose {
            broker.with_log(log)
        } else {
            broker
        })
    };
    match run(
        &opts,
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        open,
        note,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            log(&failure.message);
            ExitCode::from(failure.code as u8)
        }
    }
}
