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
    fn verbose(cli: &Cli) -> bool {
        cli.args.common.verbose
    }
    fn run(cli: Cli, cx: &Context) -> Result<(), Failed> {
        let exec_info = match std::env::var(ENV) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => Some(String::from("\u{fffd}")),
        };
        let broker = cx.open_broker()?;
        Ok(run(
            &cli,
            exec_info.as_deref(),
            &broker,
            std::io::stdout().lock(),
        )?)
    }
}

fn main() -> ExitCode {
    central_auth_cli_common::main::<Kube>()
}
