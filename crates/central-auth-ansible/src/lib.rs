//! `central-auth-ansible`: the program behind the Ansible lookup
//! `central_auth.central.token` (collection `ansible/central_auth/central`).
//!
//! Protocol: the lookup plugin runs `central-auth-ansible [--profile P]
//! [--min-valid D]` with stdin closed; nothing else is passed, and never the token.
//! On success stdout is one JSON object and a newline ([`answer`]):
//! `{"access_token","expires_at","base_url","profile"}` with `expires_at` in
//! RFC 3339. On failure stdout stays empty, stderr gets exactly one line
//! `central-auth-ansible: ...` saying how to fix it (the plugin puts that line into
//! its `AnsibleError`), and the exit code is the shared one
//! ([`central_auth_core::ExitCode`]).
//!
//! Ansible evaluates a lookup at every use of the variable holding it; every call
//! asks the broker, which returns the stored token without any network call while
//! it stays valid for `--min-valid`, and refreshes it exactly once otherwise.

pub mod answer;

use std::io::Write;

use central_auth_cli_common::{after_help, HelperArgs, HelperCli};
use central_auth_core::Broker;
use clap::Parser;

/// The binary's name, the prefix of every stderr line.
pub const NAME: &str = "central-auth-ansible";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "central-auth-ansible",
    version,
    about = "Ansible lookup program: prints the current Aruba Central access token as JSON",
    long_about = "Ansible lookup program behind `lookup('central_auth.central.token', ...)`: \
prints {\"access_token\",\"expires_at\",\"base_url\",\"profile\"} as one JSON object on \
stdout (expires_at in RFC 3339). Reads stdin only with --reject-stdin.\n\n\
The token is the one every other central-auth tool gets: it is refreshed only when it \
is valid for less than --min-valid, and then exactly once for everyone.",
    after_help = after_help("")
)]
pub struct Cli {
    /// `--profile`, `--min-valid`, `--verbose`, as on every helper.
    #[command(flatten)]
    pub args: HelperArgs,

    /// Read the access token a server rejected (401 invalid_token) from the first
    /// line of stdin and mark it rejected first, so the answer is a refreshed
    /// token (one refresh for every process on the chain). Used by the pycentral
    /// provider (`central_auth_pycentral`).
    #[arg(long)]
    pub reject_stdin: bool,
}

impl HelperCli for Cli {
    fn helper_args(&self) -> &HelperArgs {
        &self.args
    }

    /// No arguments but a profile, built without clap (see
    /// `central_auth_cli_common::quick`); `None` for every other command line.
    fn quick(args: &[std::ffi::OsString]) -> Option<Cli> {
        let (profile, words) = central_auth_cli_common::quick::split(args)?;
        words.is_empty().then(|| Cli {
            args: HelperArgs::with_profile(profile),
            reject_stdin: false,
        })
    }
}

/// Where a bad command line comes from, for the usage error.
pub const USAGE_HINT: &str = "check the lookup's profile and min_valid options";

pub use central_auth_core::adapter::Failure;

/// One run: gets the token of the chosen profile from `broker` and writes the
/// answer to `stdout`. Nothing is written to `stdout` unless everything succeeded.
pub fn run(cli: &Cli, broker: &Broker, stdout: impl Write) -> Result<(), Failure> {
    run_with_input(cli, broker, std::io::empty(), stdout)
}

/// Like [`run`], reading the rejected token from `stdin` with `--reject-stdin`.
pub fn run_with_input(
    cli: &Cli,
    broker: &Broker,
    stdin: impl std::io::Read,
    stdout: impl Write,
) -> Result<(), Failure> {
    let profile = broker.profile(cli.args.common.profile.as_deref())?;
    if cli.reject_stdin {
        let rejected = read_rejected(stdin)?;
        broker.reject(profile, &rejected)?;
    }
    let token = broker.token(profile, cli.args.min_valid)?;
    answer::write(stdout, profile.name.as_str(), &token).map_err(Failure::Output)
}

/// The first line of `stdin`, at most 16 KiB, as a secret.
fn read_rejected(stdin: impl std::io::Read) -> Result<central_auth_core::SecretString, Failure> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(stdin.take(16 * 1024))
        .read_line(&mut line)
        .map_err(|e| {
            central_auth_core::Error::bad_input(format!(
                "cannot read the rejected token from stdin: {e}"
            ))
        })?;
    let token = line.trim();
    if token.is_empty() {
        return Err(central_auth_core::Error::bad_input(
            "--reject-stdin needs the rejected access token on the first line of stdin",
        )
        .into());
    }
    Ok(central_auth_core::SecretString::from(token.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line the runner prints for `failure`.
    fn error_line(failure: &Failure) -> String {
        central_auth_core::adapter::error_line(NAME, failure)
    }

    /// The line the runner prints for a bad command line.
    fn usage_error_line(e: &clap::Error) -> String {
        central_auth_core::adapter::usage_line(NAME, &e.to_string(), USAGE_HINT)
    }
    use central_auth_core::Error;
    use clap::CommandFactory;
    use std::time::Duration;

    #[test]
    fn quick_lines_are_what_clap_builds() {
        let n = "central-auth-ansible";
        central_auth_cli_common::quick::assert_agrees_with_clap(
            Cli::quick,
            &[&[n], &[n, "--profile", "prod"], &[n, "-p", "prod"]],
            &[
                &[n, "get"],
                &[n, "--min-valid", "5m"],
                &[n, "-v"],
                &[n, "--reject-stdin"],
            ],
        );
    }

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once(NAME).chain(args.iter().copied()))
            .expect("valid command line")
    }

    /// The shared fixture: `main` (default, no token) and `lab` (a token); the
    /// base URL is a closed port, so any network call fails the test.
    fn broker() -> (tempfile::TempDir, Broker) {
        central_auth_cli_common::test_support::broker("ANSIBLE_UNIT_SECRET")
    }

    fn answer(cli: &Cli) -> Result<serde_json::Value, Failure> {
        let (_dir, broker) = broker();
        let mut out = Vec::new();
        let result = run(cli, &broker, &mut out);
        match result {
            Ok(()) => {
                let text = String::from_utf8(out).expect("UTF-8");
                assert_eq!(text.lines().count(), 1, "one line: {text:?}");
                Ok(serde_json::from_str(&text).expect("json answer"))
            }
            Err(f) => {
                assert!(out.is_empty(), "nothing on stdout on failure");
                Err(f)
            }
        }
    }

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("central_auth.central.token"), "{help}");
        assert!(help.contains("--min-valid"), "{help}");
    }

    #[test]
    fn answers_the_stored_token_of_the_profile() {
        let v = answer(&cli(&["--profile", "lab", "--min-valid", "5m"])).expect("token");
        assert_eq!(v["access_token"], "lab-access");
        assert_eq!(v["profile"], "lab");
        assert_eq!(v["base_url"], "http://127.0.0.1:9");
        let ts = v["expires_at"].as_str().expect("string");
        let parsed =
            time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                .expect("RFC 3339");
        assert!(parsed > time::OffsetDateTime::now_utc() + time::Duration::minutes(110));
    }

    #[test]
    fn reject_stdin_marks_only_the_stored_token_and_needs_one() {
        let (_dir, broker) = broker();
        let lab_cli = cli(&["--profile", "lab", "--reject-stdin"]);
        let mut out = Vec::new();
        run_with_input(&lab_cli, &broker, &b"someone-elses\n"[..], &mut out).expect("answer");
        assert!(String::from_utf8(out)
            .expect("UTF-8")
            .contains("lab-access"));
        let mut out = Vec::new();
        let f = run_with_input(&lab_cli, &broker, &b"lab-access\n"[..], &mut out)
            .expect_err("refresh needed");
        assert!(out.is_empty());
        assert_eq!(f.exit_code(), 5, "{f}");
        let empty = run_with_input(&lab_cli, &broker, &b""[..], Vec::new()).expect_err("no token");
        assert_eq!(empty.exit_code(), 2);
        assert!(
            empty.to_string().contains("--reject-stdin needs"),
            "{empty}"
        );
    }

    #[test]
    fn min_valid_is_parsed_as_a_duration() {
        assert_eq!(
            cli(&["--min-valid", "5m"]).args.min_valid,
            Some(Duration::from_secs(300))
        );
        assert_eq!(cli(&[]).args.min_valid, None);
    }

    #[test]
    fn failed_refresh_leaves_stdout_empty_and_leaks_nothing() {
        // A rejected token must be refreshed; the closed port makes that fail as
        // "try later" with nothing on stdout and no secret in the message.
        let (_dir, broker) = broker();
        let lab = broker.profile(Some("lab")).expect("lab exists");
        let secret = central_auth_core::SecretString::from("lab-access".to_owned());
        assert!(broker.reject(lab, &secret).expect("reject"));
        std::env::set_var("ANSIBLE_UNIT_SECRET", "unit-client-secret");
        let mut out = Vec::new();
        let f = run(&cli(&["--profile", "lab"]), &broker, &mut out).expect_err("refresh fails");
        assert!(out.is_empty());
        assert_eq!(f.exit_code(), 5, "{}", error_line(&f));
        let line = error_line(&f);
        assert!(!line.contains('\n'), "{line}");
        for secret in ["lab-access", "lab-refresh", "unit-client-secret"] {
            assert!(!line.contains(secret), "{line}");
        }
    }

    #[test]
    fn needs_login_says_how_to_fix() {
        let f = answer(&cli(&[])).expect_err("default main has no token");
        assert_eq!(f.exit_code(), 3);
        let line = error_line(&f);
        assert!(
            line.starts_with("central-auth-ansible: profile \"main\": no token is stored; run `central-auth login --profile main`"),
            "{line}"
        );
    }

    #[test]
    fn unknown_profile_is_a_usage_error() {
        let f = answer(&cli(&["--profile", "nope"])).expect_err("unknown");
        assert_eq!(f.exit_code(), 2);
        assert!(error_line(&f).contains("nope"), "{}", error_line(&f));
    }

    #[test]
    fn bad_min_valid_is_a_usage_error() {
        let e = Cli::try_parse_from([NAME, "--min-valid", "soon"]).expect_err("bad duration");
        let line = usage_error_line(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("central-auth-ansible: invalid value 'soon'"),
            "{line}"
        );
    }

    #[test]
    fn usage_error_is_one_line() {
        let e = Cli::try_parse_from([NAME, "--profil", "x"]).expect_err("unknown flag");
        let line = usage_error_line(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("central-auth-ansible: unexpected argument '--profil' found"),
            "{line}"
        );
    }

    #[test]
    fn error_line_is_one_line_with_the_binary_name() {
        let f = Failure::Core(Error::bad_input("a\nb"));
        assert_eq!(error_line(&f), "central-auth-ansible: a b");
        let o = Failure::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(o.exit_code(), 1);
        assert_eq!(
            error_line(&o),
            "central-auth-ansible: cannot write the token to stdout: broken pipe"
        );
    }
}
