//! `central-auth-kube`: a kubectl / client-go exec credential plugin that hands out
//! the current Aruba Central access token held by central-auth.
//!
//! Protocol (`users[].user.exec` in a kubeconfig): client-go runs the plugin with
//! `KUBERNETES_EXEC_INFO` set to an `ExecCredential` request ([`exec_info`]); the
//! plugin answers on stdout with an `ExecCredential` of the same `apiVersion`
//! carrying `status.token` and `status.expirationTimestamp` ([`credential`]).
//! Without `KUBERNETES_EXEC_INFO` (a run by hand) the answer is
//! `client.authentication.k8s.io/v1`.
//!
//! The profile is, in this order: `--profile`, the cluster extension
//! `client.authentication.k8s.io/exec` with `{profile: NAME}` (arrives as
//! `spec.cluster.config.profile` when `provideClusterInfo: true`),
//! `CENTRAL_AUTH_PROFILE`, the config's default profile.
//!
//! The plugin never reads stdin and never prompts, whatever `interactiveMode` says:
//! the broker refreshes on its own, and when a login is needed it fails with one
//! line on stderr (kubectl shows it) saying which `central-auth` command to run.
//! The exit code is the shared one ([`central_auth_core::ExitCode`]).

pub mod credential;
pub mod exec_info;

use std::io::Write;

use central_auth_cli_common::{after_help, HelperArgs, HelperCli};
use central_auth_core::Broker;
use clap::Parser;

use exec_info::ExecInfo;

/// The binary's name, prefixed to every stderr line.
pub const NAME: &str = "central-auth-kube";

/// The command line. Everything is optional.
#[derive(Debug, Parser)]
#[command(
    name = "central-auth-kube",
    version,
    about = "kubectl exec credential plugin: prints the current Aruba Central access token as an ExecCredential",
    long_about = "kubectl exec credential plugin: prints the current Aruba Central access token as an \
ExecCredential on stdout.\n\n\
Reads KUBERNETES_EXEC_INFO (set by kubectl) and answers in the same apiVersion \
(client.authentication.k8s.io/v1 or v1beta1); without it the answer is v1. \
The profile is --profile, else the cluster extension client.authentication.k8s.io/exec \
`{profile: NAME}` (needs provideClusterInfo: true), else CENTRAL_AUTH_PROFILE, else the \
default profile. Never reads stdin and never prompts: when a login is needed it fails \
and says which central-auth command to run.\n\n\
kubeconfig:\n  users:\n  - name: central\n    user:\n      exec:\n        apiVersion: client.authentication.k8s.io/v1\n        command: central-auth-kube\n        args: [\"--profile\", \"prod\"]\n        interactiveMode: Never\n        provideClusterInfo: true",
    after_help = after_help("  KUBERNETES_EXEC_INFO  the ExecCredential request kubectl sets")
)]
pub struct Cli {
    /// `--profile`, `--min-valid`, `--verbose`, as on every helper.
    #[command(flatten)]
    pub args: HelperArgs,
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
        })
    }
}

/// Where a bad command line comes from, for the usage error.
pub const USAGE_HINT: &str = "check the args of users[].user.exec in the kubeconfig";

/// The profile to ask for: `--profile`, else the cluster extension's; `None` lets
/// the broker fall back to `CENTRAL_AUTH_PROFILE` and the default profile.
pub fn profile_choice<'a>(cli: &'a Cli, info: &'a ExecInfo) -> Option<&'a str> {
    cli.args
        .common
        .profile
        .as_deref()
        .or(info.cluster_profile.as_deref())
}

pub use central_auth_core::adapter::Failure;

/// One run: parses `exec_info` (the value of `KUBERNETES_EXEC_INFO`, if set), gets
/// the token from `broker`, writes the `ExecCredential` to `stdout`. Nothing is
/// written to `stdout` unless everything succeeded.
pub fn run(
    cli: &Cli,
    exec_info: Option<&str>,
    broker: &Broker,
    stdout: impl Write,
) -> Result<(), Failure> {
    run_parsed(cli, &exec_info::from_env_value(exec_info)?, broker, stdout)
}

/// [`run`] with the request already parsed (the binary parses it once, as it
/// needs the cluster's profile before it opens the broker).
pub fn run_parsed(
    cli: &Cli,
    info: &ExecInfo,
    broker: &Broker,
    stdout: impl Write,
) -> Result<(), Failure> {
    let profile = broker.profile(profile_choice(cli, info))?;
    let token = broker.token(profile, cli.args.min_valid)?;
    credential::write(stdout, info.api_version, &token).map_err(Failure::Output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_core::Error;
    use clap::CommandFactory;

    /// The line the runner prints for `failure`.
    fn error_line(failure: &Failure) -> String {
        central_auth_core::adapter::error_line(NAME, failure)
    }

    /// The line the runner prints for a bad command line.
    fn usage_error_line(e: &clap::Error) -> String {
        central_auth_core::adapter::usage_line(NAME, &e.to_string(), USAGE_HINT)
    }

    #[test]
    fn quick_lines_are_what_clap_builds() {
        let n = "central-auth-kube";
        central_auth_cli_common::quick::assert_agrees_with_clap(
            Cli::quick,
            &[&[n], &[n, "--profile", "prod"], &[n, "-p", "prod"]],
            &[&[n, "get"], &[n, "--min-valid", "5m"], &[n, "-v"]],
        );
    }

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once(NAME).chain(args.iter().copied()))
            .expect("valid command line")
    }

    /// The shared fixture: `main` (default, no token) and `lab` (a token).
    fn broker() -> (tempfile::TempDir, Broker) {
        central_auth_cli_common::test_support::broker("KUBE_UNIT_SECRET")
    }

    fn answer(cli: &Cli, info: Option<&str>) -> Result<serde_json::Value, Failure> {
        let (_dir, broker) = broker();
        let mut out = Vec::new();
        let result = run(cli, info, &broker, &mut out);
        match result {
            Ok(()) => Ok(serde_json::from_slice(&out).expect("json answer")),
            Err(f) => {
                assert!(out.is_empty(), "nothing on stdout on failure");
                Err(f)
            }
        }
    }

    const V1BETA1: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#;

    #[test]
    fn clap_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_exit_codes_and_precedence() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("KUBERNETES_EXEC_INFO"), "{help}");
        assert!(help.contains("interactiveMode: Never"), "{help}");
    }

    #[test]
    fn answers_in_the_version_asked_for() {
        let v = answer(&cli(&["--profile", "lab"]), Some(V1BETA1)).expect("token");
        assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1beta1");
        assert_eq!(v["kind"], "ExecCredential");
        assert_eq!(v["status"]["token"], "lab-access");
        let ts = v["status"]["expirationTimestamp"].as_str().expect("string");
        assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");
    }

    #[test]
    fn missing_exec_info_answers_v1() {
        let v = answer(&cli(&["--profile", "lab"]), None).expect("token");
        assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(v["status"]["token"], "lab-access");
    }

    #[test]
    fn cluster_config_picks_the_profile_and_flag_wins() {
        let info = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"config":{"profile":"lab"}}}}"#;
        let v = answer(&cli(&[]), Some(info)).expect("lab from the cluster");
        assert_eq!(v["status"]["token"], "lab-access");
        // --profile beats the cluster extension: main holds no token.
        let f = answer(&cli(&["--profile", "main"]), Some(info)).expect_err("main has none");
        assert_eq!(f.exit_code(), 3);
        assert!(
            error_line(&f).contains("central-auth login --profile main"),
            "{}",
            error_line(&f)
        );
    }

    #[test]
    fn needs_login_says_how_to_fix() {
        let f = answer(&cli(&[]), None).expect_err("default main has no token");
        assert_eq!(f.exit_code(), 3);
        let line = error_line(&f);
        assert!(line.starts_with("central-auth-kube: profile \"main\": no token is stored; run `central-auth login --profile main`"), "{line}");
    }

    #[test]
    fn bad_exec_info_fails_before_the_broker() {
        let f = answer(&cli(&["--profile", "lab"]), Some("{not json")).expect_err("malformed");
        assert_eq!(f.exit_code(), 2);
        let f = answer(
            &cli(&["--profile", "lab"]),
            Some(
                r#"{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential"}"#,
            ),
        )
        .expect_err("unknown version");
        assert_eq!(f.exit_code(), 2);
        assert!(error_line(&f).contains("v1alpha1"), "{}", error_line(&f));
    }

    #[test]
    fn unknown_profile_is_a_usage_error() {
        let f = answer(&cli(&["--profile", "nope"]), None).expect_err("unknown");
        assert_eq!(f.exit_code(), 2);
    }

    #[test]
    fn usage_error_is_one_line() {
        let e = Cli::try_parse_from([NAME, "--profil", "x"]).expect_err("unknown flag");
        let line = usage_error_line(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("central-auth-kube: unexpected argument '--profil' found"),
            "{line}"
        );
    }

    #[test]
    fn error_line_is_one_line_with_the_binary_name() {
        let f = Failure::Core(Error::bad_input("a\nb"));
        assert_eq!(error_line(&f), "central-auth-kube: a b");
        let o = Failure::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(o.exit_code(), 1);
    }
}
