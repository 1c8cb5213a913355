//! `central-auth-terraform` binary: see the library for the protocol, and
//! `central-auth-cli-common` for the runner shared by every helper.

use std::process::ExitCode;

use central_auth_cli_common::{Context, Failure, Helper};
use central_auth_terraform::{run, Cli, NAME, USAGE_HINT};

struct Terraform;

impl Helper for Terraform {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const CLIENT: &'static str = "terraform";
    const USAGE_HINT: &'static str = USAGE_HINT;
    fn run(cli: Cli, cx: &Context) -> Result<(), Failure> {
        // A profile on the command line is the one asked for; else the query
        // (read later) may name one, so the whole config is read.
        let broker = match &cli.args.common.profile {
            Some(p) => cx.open_broker_for(Some(p))?,
            None => cx.open_broker()?,
        };
        run(
            &cli,
            &broker,
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )
    }
}

fn main() -> ExitCode {
    central_auth_vault::register();
    central_auth_keyring::register();
    central_auth_cli_common::main::<Terraform>()
}
