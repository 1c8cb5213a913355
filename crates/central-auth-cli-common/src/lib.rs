//! The command-line conventions shared by every central-auth binary, kept out of
//! the core so that `central-auth-core` does not depend on clap:
//!
//! - [`Common`]: `-p/--profile` and `-v/--verbose`, global (before or after a
//!   subcommand);
//! - [`HelperArgs`]: [`Common`] plus `--min-valid`, the flags of every tool helper;
//! - [`after_help`]: the exit codes and every environment variable the binaries read;
//! - [`quick`]: the clap-free reading of the hot command lines (a cached call
//!   is a whole process start);
//! - [`Helper`] and [`main`]: the one runner of the tool helpers (parse, open the
//!   broker lazily, map a failure to one stderr line and the shared exit code),
//!   so each helper's `main` is one call, as Cargo's `cargo_credential::main`.

pub mod quick;

use std::fmt::Display;
use std::process::ExitCode;
use std::time::Duration;

use central_auth_core::error::EXIT_CODES_HELP;
use central_auth_core::{Broker, Error};
use clap::{Args, Parser};

pub use central_auth_core::adapter::Failure;

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

/// Why a helper run failed, reduced to what the runner prints: one message
/// (never a secret) and the shared exit code.
#[derive(Debug)]
pub struct Failed {
    /// What went wrong and how to fix it.
    pub message: String,
    /// The process exit code.
    pub code: u8,
}

impl Failed {
    /// A failure with `message` and exit `code`.
    pub fn new(message: impl Display, code: u8) -> Failed {
        Failed {
            message: message.to_string(),
            code,
        }
    }
}

impl From<Failure> for Failed {
    fn from(f: Failure) -> Failed {
        Failed::new(&f, f.exit_code())
    }
}

impl From<Error> for Failed {
    fn from(e: Error) -> Failed {
        Failed::new(&e, e.exit_code() as u8)
    }
}

/// What a helper's run gets from the runner.
pub struct Context {
    name: &'static str,
    client: &'static str,
    verbose: bool,
    log: fn(&str),
}

impl Context {
    /// Opens the broker from the environment, recording use as this helper's
    /// client; with `--verbose` its redacted log lines go to stderr. A warning
    /// about a literal secret in a config others can read is always printed.
    pub fn open_broker(&self) -> Result<Broker, Error> {
        self.finish(Broker::from_env()?)
    }

    /// [`Context::open_broker`] for a run whose profile is `explicit`, else
    /// `CENTRAL_AUTH_PROFILE`, else the default: only that profile's part of the
    /// config is read (`Broker::open_for`). A helper whose profile may come from
    /// its input (a Terraform query, git's host) calls [`Context::open_broker`].
    pub fn open_broker_for(&self, explicit: Option<&str>) -> Result<Broker, Error> {
        self.finish(Broker::from_env_for(explicit)?)
    }

    fn finish(&self, broker: Broker) -> Result<Broker, Error> {
        let broker = broker.with_client(self.client);
        // A literal secret in a config others can read is said on every run,
        // verbose or not (docs/security.md).
        if let Some(w) = central_auth_core::strict::exposure_warning(broker.home(), broker.config())
        {
            (self.log)(&w);
        }
        Ok(if self.verbose {
            broker.with_log(self.log)
        } else {
            broker
        })
    }

    /// With `--verbose`, prints `name: line` on stderr; else nothing.
    pub fn note(&self, line: &str) {
        if self.verbose {
            (self.log)(line);
        }
    }

    /// The binary's name.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// A tool helper: its command line and its one run. Implement it on a unit type
/// in the helper's `main.rs` and call [`main`].
pub trait Helper {
    /// The command line (a clap `Parser`, usually flattening [`HelperArgs`]).
    type Cli: Parser;
    /// The binary's name, the prefix of every stderr line.
    const NAME: &'static str;
    /// The client name recorded in the profile's usage (`status` shows it).
    const CLIENT: &'static str;
    /// Where a bad command line usually comes from (e.g. the kubeconfig's args);
    /// added to the usage error. Empty for none.
    const USAGE_HINT: &'static str = "";
    /// `--verbose` of the parsed command line.
    fn verbose(cli: &Self::Cli) -> bool;
    /// The command line built without clap for the hot shapes (see [`quick`]),
    /// exactly as clap would build it; `None` (the default) parses with clap.
    fn quick(args: &[std::ffi::OsString]) -> Option<Self::Cli> {
        let _ = args;
        None
    }
    /// One run over the process's stdin and stdout.
    fn run(cli: Self::Cli, cx: &Context) -> Result<(), Failed>;
}

/// The whole `main` of a helper: parses the command line (a bad one is one line
/// on stderr and exit 2; `--help` and `--version` print as usual), runs the
/// helper and maps a failure to `NAME: message` on stderr and its exit code.
pub fn main<H: Helper>() -> ExitCode {
    // Non-dumpable before anything reads a secret (docs/security.md).
    central_auth_core::process::harden();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let parsed = match H::quick(&args) {
        Some(cli) => Ok(cli),
        None => H::Cli::try_parse(),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        // --help and --version print to stdout and exit 0.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            report(&central_auth_core::adapter::usage_line(
                H::NAME,
                &e.to_string(),
                H::USAGE_HINT,
            ));
            return ExitCode::from(central_auth_core::ExitCode::Usage as u8);
        }
    };
    let cx = Context {
        name: H::NAME,
        client: H::CLIENT,
        verbose: H::verbose(&cli),
        log: log::<H>,
    };
    match H::run(cli, &cx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failed) => {
            report(&central_auth_core::adapter::error_line(
                H::NAME,
                &failed.message,
            ));
            ExitCode::from(failed.code)
        }
    }
}

#[allow(clippy::print_stderr)]
fn report(line: &str) {
    eprintln!("{line}");
}

#[allow(clippy::print_stderr)]
fn log<H: Helper>(line: &str) {
    eprintln!("{}: {line}", H::NAME);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Subcommand};

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
