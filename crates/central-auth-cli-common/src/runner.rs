//! The one runner of the tool helpers, and the one way any binary's failure
//! reaches stderr: parse the command line (the quick path first), open the
//! broker only when the run asks ([`Context`]), and map a [`Failure`] to
//! `NAME: message` on stderr and the shared exit code ([`fail`]).

use std::fmt::Display;
use std::process::ExitCode;

use central_auth_core::{Broker, Error};
use clap::Parser;

use crate::{Failure, HelperArgs};

/// Prints `name: message` on stderr as one terminal-safe line
/// (`central_auth_core::adapter::error_line`).
#[allow(clippy::print_stderr)]
pub fn print_line(name: &str, message: &dyn Display) {
    eprintln!("{}", central_auth_core::adapter::error_line(name, message));
}

/// Prints `failure` as `name: message` on stderr and gives the exit code it
/// ends the process with.
pub fn fail(name: &str, failure: &Failure) -> ExitCode {
    print_line(name, failure);
    ExitCode::from(failure.exit_code())
}

/// What a run gets from its binary: its name, the client it records, and
/// where `--verbose` lines and warnings go.
pub struct Context {
    name: &'static str,
    client: &'static str,
    verbose: bool,
    log: fn(&str),
}

impl Context {
    /// A context for binary `name`, recording use as `client`; `log` prints one
    /// line on stderr (the warnings always, the broker's log with `verbose`).
    pub fn new(name: &'static str, client: &'static str, verbose: bool, log: fn(&str)) -> Context {
        Context {
            name,
            client,
            verbose,
            log,
        }
    }

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

/// A helper's command line: a clap parser that carries [`HelperArgs`]. Only
/// [`HelperCli::helper_args`] is required.
pub trait HelperCli: Parser {
    /// The flags every helper has.
    fn helper_args(&self) -> &HelperArgs;

    /// `--verbose`.
    fn verbose(&self) -> bool {
        self.helper_args().common.verbose
    }

    /// The command line built without clap for the hot shapes (see
    /// [`crate::quick`]), exactly as clap would build it; `None` (the default)
    /// parses with clap.
    fn quick(args: &[std::ffi::OsString]) -> Option<Self> {
        let _ = args;
        None
    }
}

/// A tool helper: its command line and its one run. Implement it on a unit type
/// in the helper's `main.rs` and call [`main`].
pub trait Helper {
    /// The command line (a clap `Parser`, usually flattening [`HelperArgs`]).
    type Cli: HelperCli;
    /// The binary's name, the prefix of every stderr line.
    const NAME: &'static str;
    /// The client name recorded in the profile's usage (`status` shows it).
    const CLIENT: &'static str;
    /// Where a bad command line usually comes from (e.g. the kubeconfig's args);
    /// added to the usage error. Empty for none.
    const USAGE_HINT: &'static str = "";
    /// One run over the process's stdin and stdout.
    fn run(cli: Self::Cli, cx: &Context) -> Result<(), Failure>;
}

/// The whole `main` of a helper: parses the command line (a bad one is one line
/// on stderr and exit 2; `--help` and `--version` print as usual), runs the
/// helper and maps a failure to `NAME: message` on stderr and its exit code.
pub fn main<H: Helper>() -> ExitCode {
    // Non-dumpable before anything reads a secret (docs/security.md).
    central_auth_core::process::harden();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let parsed = match H::Cli::quick(&args) {
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
    let cx = Context::new(H::NAME, H::CLIENT, cli.verbose(), log::<H>);
    match H::run(cli, &cx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => fail(H::NAME, &failure),
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

    #[derive(Debug, Parser)]
    struct Plain {
        #[command(flatten)]
        args: HelperArgs,
    }

    impl HelperCli for Plain {
        fn helper_args(&self) -> &HelperArgs {
            &self.args
        }
    }

    #[test]
    fn default_methods_read_the_helper_args_and_decline_the_quick_path() {
        let args: Vec<std::ffi::OsString> = vec!["-p".into(), "prod".into()];
        assert!(Plain::quick(&args).is_none(), "clap parses by default");
        let quiet = Plain::try_parse_from(["t", "-p", "prod"]).expect("valid");
        assert!(!quiet.verbose());
        let loud = Plain::try_parse_from(["t", "-v"]).expect("valid");
        assert!(loud.verbose());
    }

    #[test]
    fn a_failure_ends_with_its_own_exit_code() {
        let core = Failure::Core(Error::bad_input("bad"));
        assert_eq!(fail("t", &core), ExitCode::from(2));
        let output = Failure::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(fail("t", &output), ExitCode::from(1));
    }
}
