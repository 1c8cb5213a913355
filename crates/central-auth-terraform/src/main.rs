//! `central-auth-terraform` binary: see the library for the protocol, and
//! `central-auth-cli-common` for the runner shared by every helper.

use std::process::ExitCode;

use central_auth_cli_common::{Context, Failed, Helper};
use central_auth_terraform::{run, Cli, NAME, USAGE_HINT};

struct Terraform;

impl Helper for Terraform {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const CLIENT: &'static str = "terraform";
    const USAGE_HINT: &'static str = USAGE_HINT;
    fn verbose(cli: &Cli) -> bool {
        cli.args.common.verbose
    }
    fn run(cli: Cli, cx: &Context) -> Result<(), Failed> {
        let broker = cx.open_broker()?;
        Ok(run(
            &cli,
            &broker,
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )?)
    }
}

fn main() -> ExitCode {
    central_auth_cli_common::main::<Terraform>()
}
