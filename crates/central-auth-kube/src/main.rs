//! `central-auth-kube` binary: see the library for the protocol, and
//! `central-auth-cli-common` for the runner shared by every helper.

use std::process::ExitCode;

use central_auth_cli_common::{Context, Failed, Helper};
use central_auth_kube::exec_info::ENV;
use central_auth_kube::{run, Cli, NAME, USAGE_HINT};

struct Kube;

impl Helper for Kube {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const CLIENT: &'static str = "kubectl";
    const USAGE_HINT: &'static str = USAGE_HINT;
    fn quick(args: &[std::ffi::OsString]) -> Option<Cli> {
        Cli::quick(args)
    }
    fn verbose(cli: &Cli) -> bool {
        cli.args.common.verbose
    }
    fn run(cli: Cli, cx: &Context) -> Result<(), Failed> {
        let exec_info = match std::env::var(ENV) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => Some(String::from("\u{fffd}")),
        };
        // The profile is the flag's, else the cluster extension's, else the
        // environment's or the default: one profile's part of the config is read.
        let cluster_profile = exec_info
            .as_deref()
            .and_then(|text| central_auth_kube::exec_info::parse(text).ok())
            .and_then(|info| info.cluster_profile);
        let explicit = cli.args.common.profile.clone().or(cluster_profile);
        let broker = cx.open_broker_for(explicit.as_deref())?;
        Ok(run(
            &cli,
            exec_info.as_deref(),
            &broker,
            std::io::stdout().lock(),
        )?)
    }
}

fn main() -> ExitCode {
    central_auth_vault::register();
    central_auth_cli_common::main::<Kube>()
}
