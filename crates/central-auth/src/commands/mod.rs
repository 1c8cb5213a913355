//! One module per subcommand. Each takes the opened broker and the command's
//! flags, prints its own output (`crate::output`, `crate::view`) and returns the
//! process exit code; a failure goes back to `main`, which prints it as one line.
//! What several commands share lives here: opening the broker and choosing the
//! profile.

pub(crate) mod cencli;
pub(crate) mod completions;
pub(crate) mod doctor;
pub(crate) mod import;
pub(crate) mod keepalive;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod profiles;
pub(crate) mod secret;
pub(crate) mod status;
pub(crate) mod store;
pub(crate) mod tenants;
pub(crate) mod token;
mod tool_cache;

use std::process::ExitCode;

use central_auth::cli::ProxyArgs;
use central_auth_cli_common::Failure;
use central_auth_core::{Broker, Error, Profile};

/// What every command returns: the exit code, or the failure `main` prints.
pub(crate) type Outcome = Result<ExitCode, Failure>;

/// The profile to use and its label `profile NAME (from SOURCE)`, from the
/// broker's one choice (`Broker::choose`).
pub(crate) fn chosen<'b>(
    broker: &'b Broker,
    explicit: Option<&str>,
) -> Result<(&'b Profile, String), Error> {
    let (p, choice) = broker.choose(explicit)?;
    Ok((p, crate::view::profile_label(&choice)))
}

/// `central-auth proxy` (unix only; `crate::proxy`).
pub(crate) fn proxy(
    broker: &Broker,
    explicit: Option<&str>,
    args: &ProxyArgs,
    verbose: bool,
) -> Outcome {
    let profile = broker.profile(explicit)?;
    #[cfg(unix)]
    return Ok(crate::proxy::run(
        profile,
        &broker.home().state_dir,
        args,
        verbose,
    )?);
    #[cfg(not(unix))]
    {
        let _ = (profile, args, verbose);
        Err(Error::bad_input(
            "proxy is not supported on this platform (it needs Unix sockets and the kernel's word on who connects)",
        )
        .into())
    }
}
