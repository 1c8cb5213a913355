//! `central-auth-kube` binary: see the library for the protocol, and
//! `central-auth-cli-common` for the runner shared by every helper.

use std::process::ExitCode;

use central_auth_cli_common::{Context, Failure, Helper};
use central_auth_kube::exec_info::{self, ENV};
use central_auth_kube::{profile_choice, run_parsed, Cli, NAME, USAGE_HINT};

struct Kube;

impl Helper for Kube {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const CLIENT: &'static str = "kubectl";
    const USAGE_HINT: &'static str = USAGE_HINT;
    fn run(cli: Cli, cx: &Context) -> Result<(), Failure> {
        let exec_info = match std::env::var(ENV) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => Some(String::from("\u{fffd}")),
        };
        // Parsed once. The profile is the flag's, else the cluster extension's,
        // else the environment's or the default: one profile's part of the
        // config is read. A request that does not parse fails after the broker
        // opened, as before.
        let info = exec_info::from_env_value(exec_info.as_deref());
        let explicit = match &info {
            Ok(i) => profile_choice(&cli, i),
            Err(_) => cli.args.common.profile.as_deref(),
        };
        let broker = cx.open_broker_for(explicit)?;
        run_parsed(&cli, &info?, &broker, std::io::stdout().lock())
    }
}

fn main() -> ExitCode {
    central_auth_vault::register();
    central_auth_keyring::register();
    central_auth_cli_common::main::<Kube>()
}
