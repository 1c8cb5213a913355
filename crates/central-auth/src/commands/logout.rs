//! `central-auth logout`: delete the chosen profile's stored token.

use std::process::ExitCode;

use central_auth_core::Broker;

use super::{chosen, Outcome};
use crate::output::say;

/// Deletes the token and says whether one was stored.
pub(crate) fn run(broker: &Broker, explicit: Option<&str>) -> Outcome {
    let (profile, label) = chosen(broker, explicit)?;
    let note = if broker.logout(profile)? {
        "stored token deleted"
    } else {
        "no token was stored"
    };
    say(&format!("central-auth: {label}: {note}"))?;
    Ok(ExitCode::SUCCESS)
}
