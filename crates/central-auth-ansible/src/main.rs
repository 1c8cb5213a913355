//! `central-auth-ansible` binary: see the library for the protocol, and
//! `central-auth-cli-common` for the runner shared by every helper.

use std::process::ExitCode;

use central_auth_ansible::{run_with_input, Cli, NAME, USAGE_HINT};
use central_auth_cli_common::{Context, Failure, Helper};

struct Ansible;

impl Helper for Ansible {
    type Cli = Cli;
    const NAME: &'static str = NAME;
    const CLIENT: &'static str = "ansible";
    const USAGE_HINT: &'static str = USAGE_HINT;
    fn run(cli: Cli, cx: &Context) -> Result<(), Failure> {
        run_with_input(
            &cli,
            &cx.open_broker_for(cli.args.common.profile.as_deref())?,
            std::io::stdin().lock(),
            std::io::stdout().lock(),
        )
    }
}

fn main() -> ExitCode {
    central_auth_vault::register();
    central_auth_keyring::register();
    central_auth_cli_common::main::<Ansible>()
}
