//! `central-auth token` and `central-auth exec`: the current access token of the
//! chosen profile, on stdout or in a command's environment (`crate::exec`).

use std::ffi::OsString;
use std::process::ExitCode;
use std::time::Duration;

use central_auth_core::duration::format;
use central_auth_core::secret::ExposeSecret;
use central_auth_core::{AccessToken, Broker, Error};

use super::Outcome;
use crate::output::{print_stdout, say};

/// Prints the token and a newline, nothing else.
pub(crate) fn token(
    broker: &Broker,
    explicit: Option<&str>,
    min_valid: Option<Duration>,
) -> Outcome {
    let profile = broker.profile(explicit)?;
    let t = broker.token(profile, min_valid)?;
    note_min_valid(min_valid.is_some(), &t)?;
    print_stdout(&format!("{}\n", t.token.expose_secret()))?;
    Ok(ExitCode::SUCCESS)
}

/// Runs `command` with the token in its environment; its exit code.
pub(crate) fn exec(
    broker: &Broker,
    explicit: Option<&str>,
    min_valid: Option<Duration>,
    command: &[OsString],
) -> Outcome {
    let profile = broker.profile(explicit)?;
    let t = broker.token(profile, min_valid)?;
    note_min_valid(min_valid.is_some(), &t)?;
    Ok(crate::exec::run("exec", command, profile, &t)?)
}

/// Says in one stderr line when an explicit `--min-valid` cannot be met.
fn note_min_valid(explicit: bool, t: &AccessToken) -> Result<(), Error> {
    if explicit && t.effective_min_valid < t.min_valid {
        say(&format!(
            "central-auth: --min-valid {} cannot be met: this token lives {}; using {} (half its lifetime)",
            format(t.min_valid),
            format(t.effective_min_valid * 2),
            format(t.effective_min_valid)
        ))?;
    }
    Ok(())
}
