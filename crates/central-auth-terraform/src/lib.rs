//! `central-auth-terraform`: a program for Terraform's `external` data source
//! (`hashicorp/external`) that hands out the current Aruba Central access token.
//!
//! Protocol: stdin is the data source's `query`, one JSON object of strings with
//! the optional keys `profile` and `min_valid` ([`query`]); stdout is one JSON
//! object of strings `access_token`, `expires_at` (RFC 3339), `base_url` and
//! `profile` ([`answer`]). On failure stdout stays empty, stderr gets one line
//! `central-auth-terraform: ...` and the exit code is the shared one
//! ([`central_auth_core::ExitCode`]).
//!
//! The result lands in `terraform.tfstate` and `TF_LOG=trace` logs it; the docs
//! (`docs/terraform.md`) recommend `central-auth exec -- terraform ...` with a
//! sensitive variable instead, and this program for setups that need a data source.

pub mod answer;
pub mod query;

use std::io::{Read, Write};
use std::time::Duration;

use central_auth_cli_common::{after_help, HelperArgs, HelperCli};
use central_auth_core::{Broker, Error};
use clap::Parser;

/// The command line. Everything is optional; the query on stdin can say the same.
#[derive(Debug, Parser)]
#[command(
    name = "central-auth-terraform",
    version,
    about = "Terraform `external` data source program: prints the current Aruba Central access token",
    long_about = "Terraform `external` data source program: reads the query (a JSON object of \
strings; keys `profile` and `min_valid`, both optional) on stdin and prints \
{\"access_token\",\"expires_at\",\"base_url\",\"profile\"} as a JSON object on stdout.\n\n\
The result is saved in terraform.tfstate; prefer `central-auth exec -- terraform plan` \
with a sensitive variable `central_access_token` where you can.",
    after_help = after_help("")
)]
pub struct Cli {
    /// `--profile`, `--min-valid`, `--verbose`, as on every helper; the query's
    /// `profile` and `min_valid` apply when the flags are not given.
    #[command(flatten)]
    pub args: HelperArgs,
}

/// What to ask the broker for, from the command line and the query together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Explicit profile, if any (else `CENTRAL_AUTH_PROFILE` or the default).
    pub profile: Option<String>,
    /// Minimum remaining validity, if any (else the profile's).
    pub min_valid: Option<Duration>,
}

/// Combines argv and the query. A setting given in both places must agree:
/// `program = [..., "--profile", "a"]` with `query = { profile = "b" }` is an error
/// rather than a silent choice.
pub fn request(cli: &Cli, query: query::Query) -> Result<Request, Error> {
    Ok(Request {
        profile: agree("profile", cli.args.common.profile.clone(), query.profile)?,
        min_valid: agree("min_valid", cli.args.min_valid, query.min_valid)?,
    })
}

fn agree<T: PartialEq>(key: &str, argv: Option<T>, query: Option<T>) -> Result<Option<T>, Error> {
    match (argv, query) {
        (Some(a), Some(q)) if a != q => Err(Error::bad_input(format!(
            "--{} on the command line and {key:?} in the query differ; give it in one place only",
            key.replace('_', "-")
        ))),
        (a, q) => Ok(a.or(q)),
    }
}

pub use central_auth_core::adapter::Failure;

/// The binary's name, the prefix of its stderr lines.
pub const NAME: &str = "central-auth-terraform";

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
        })
    }
}

/// Where a bad command line comes from, for the usage error.
pub const USAGE_HINT: &str = "check `program` of the external data source";

/// One run: reads the query from `stdin`, gets the token from `broker`, writes the
/// answer to `stdout`. Nothing is written to `stdout` unless everything succeeded.
pub fn run(
    cli: &Cli,
    broker: &Broker,
    stdin: impl Read,
    stdout: impl Write,
) -> Result<(), Failure> {
    let req = request(cli, query::parse(stdin)?)?;
    let profile = broker.profile(req.profile.as_deref())?;
    let token = broker.token(profile, req.min_valid)?;
    answer::write(stdout, profile.name.as_str(), &token).map_err(Failure::Output)
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
    use clap::CommandFactory;

    #[test]
    fn quick_lines_are_what_clap_builds() {
        let n = "central-auth-terraform";
        central_auth_cli_common::quick::assert_agrees_with_clap(
            Cli::quick,
            &[&[n], &[n, "--profile", "prod"], &[n, "-p", "prod"]],
            &[&[n, "get"], &[n, "--min-valid", "5m"], &[n, "-v"]],
        );
    }

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("central-auth-terraform").chain(args.iter().copied()))
            .expect("valid command line")
    }

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("terraform.tfstate"), "{help}");
    }

    #[test]
    fn argv_or_query_gives_the_profile() {
        let from_argv = request(&cli(&["--profile", "prod"]), query::Query::default());
        assert_eq!(from_argv.expect("valid").profile.as_deref(), Some("prod"));
        let q = query::Query {
            profile: Some("lab".into()),
            min_valid: Some(Duration::from_secs(600)),
        };
        let from_query = request(&cli(&[]), q.clone()).expect("valid");
        assert_eq!(
            from_query,
            Request {
                profile: Some("lab".into()),
                min_valid: Some(Duration::from_secs(600))
            }
        );
        let same = request(&cli(&["--profile", "lab", "--min-valid", "10m"]), q).expect("agree");
        assert_eq!(same.profile.as_deref(), Some("lab"));
    }

    #[test]
    fn argv_and_query_must_agree() {
        let q = query::Query {
            profile: Some("lab".into()),
            min_valid: None,
        };
        let e = request(&cli(&["--profile", "prod"]), q).expect_err("they differ");
        assert_eq!(
            e.to_string(),
            "--profile on the command line and \"profile\" in the query differ; give it in one place only"
        );
        assert_eq!(e.exit_code() as u8, 2);
    }

    #[test]
    fn usage_error_is_one_line() {
        let e = Cli::try_parse_from(["central-auth-terraform", "--profil", "x"])
            .expect_err("unknown flag");
        let line = usage_error_line(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("central-auth-terraform: unexpected argument '--profil' found"),
            "{line}"
        );
        assert!(
            line.ends_with("see `central-auth-terraform --help`"),
            "{line}"
        );
    }

    #[test]
    fn error_line_is_one_line_with_the_binary_name() {
        let f = Failure::Core(Error::bad_input("a\nb"));
        assert_eq!(error_line(&f), "central-auth-terraform: a b");
        let o = Failure::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(o.exit_code(), 1);
    }
}
