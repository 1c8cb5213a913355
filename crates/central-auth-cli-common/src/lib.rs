//! The command-line conventions shared by every central-auth binary, kept out of
//! the core so that `central-auth-core` does not depend on clap:
//!
//! - [`Common`]: `-p/--profile` and `-v/--verbose`, global (before or after a
//!   subcommand);
//! - [`HelperArgs`]: [`Common`] plus `--min-valid`, the flags of every tool helper;
//! - [`after_help`]: the exit codes and every environment variable the binaries read;
//! - [`quick`]: the clap-free reading of the hot command lines (a cached call
//!   is a whole process start);
//! - [`HelperCli`]: a helper's command line, with `--verbose` and the quick path
//!   as default methods;
//! - [`Helper`] and [`main`]: the one runner of the tool helpers (parse, open the
//!   broker lazily, map a failure to one stderr line and the shared exit code),
//!   so each helper's `main` is one call, as Cargo's `cargo_credential::main`;
//! - [`Failure`] (the core's, the one failure type of every binary) and
//!   [`fail`]/[`print_line`], the one way a failure reaches stderr;
//! - `test_support` (feature `test-support`): the unit tests' broker fixture.

pub mod quick;
mod runner;
#[cfg(feature = "test-support")]
pub mod test_support;

use std::time::Duration;

use central_auth_core::error::EXIT_CODES_HELP;
use clap::Args;

pub use central_auth_core::adapter::Failure;
pub use runner::{fail, main, print_line, Context, Helper, HelperCli};

/// `-p/--profile` and `-v/--verbose`: accepted before or after a subcommand.
#[derive(Debug, Clone, Default, Args)]
pub struct Common {
    /// Profile to use (else $CENTRAL_AUTH_PROFILE, else default_profile, else the only profile).
    #[arg(short, long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Log HTTP calls (method, redacted URL, status, time) and lock waits on stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

/// The flags of every tool helper: [`Common`] and `--min-valid`.
#[derive(Debug, Clone, Default, Args)]
pub struct HelperArgs {
    /// `--profile`, `--verbose`.
    #[command(flatten)]
    pub common: Common,

    /// Minimum remaining validity of the token, e.g. 10m (else the profile's min_valid).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub min_valid: Option<Duration>,
}

impl HelperArgs {
    /// The flags with only `profile` given: what the quick path builds.
    pub fn with_profile(profile: Option<String>) -> HelperArgs {
        HelperArgs {
            common: Common {
                profile,
                verbose: false,
            },
            min_valid: None,
        }
    }
}

/// Parses a duration such as `30s`, `5m`, `1h`, `7d` (the value parser of the flags).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    central_auth_core::duration::parse(text)
}

/// The environment variables every binary reads, for `--help`.
pub const ENV_HELP: &str = "\
Environment:
  CENTRAL_AUTH_HOME     directory holding config.toml and state/ (else ~/.config/central-auth/
                        and ~/.local/state/central-auth/, or XDG_CONFIG_HOME / XDG_STATE_HOME)
  CENTRAL_AUTH_PROFILE  profile to use when --profile is not given
  SSL_CERT_FILE         extra CA certificates (PEM) when a profile has no ca_file
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY (and lower case)  proxy for Central
  a profile's client_secret_env and password_env name further variables to read";

/// `--help`'s closing text: the exit codes, the environment and `extra` (a
/// binary's own variables, lines starting with two spaces; may be empty).
pub fn after_help(extra: &str) -> String {
    let mut text = format!("{EXIT_CODES_HELP}\n\n{ENV_HELP}");
    if !extra.is_empty() {
        text.push('\n');
        text.push_str(extra);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser, Subcommand};

    #[derive(Debug, Parser)]
    struct Tool {
        #[command(flatten)]
        common: Common,
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Debug, Subcommand)]
    enum Sub {
        Token,
    }

    #[test]
    fn profile_and_verbose_are_global() {
        Tool::command().debug_assert();
        for args in [
            ["t", "-p", "x", "-v", "token"],
            ["t", "token", "--profile", "x", "--verbose"],
            ["t", "-v", "token", "-p", "x"],
        ] {
            let t = Tool::try_parse_from(args).expect("valid");
            assert_eq!(t.common.profile.as_deref(), Some("x"), "{args:?}");
            assert!(t.common.verbose, "{args:?}");
        }
    }

    #[test]
    fn after_help_lists_codes_and_env() {
        let text = after_help("  KUBERNETES_EXEC_INFO  set by kubectl");
        for needle in [
            "Exit codes:",
            "CENTRAL_AUTH_HOME",
            "CENTRAL_AUTH_PROFILE",
            "KUBERNETES_EXEC_INFO",
        ] {
            assert!(text.contains(needle), "{needle} missing");
        }
    }
}
