//! `central-auth doctor`: check the chosen profile end to end
//! (`central_auth_core::doctor`); exit 1 when a check fails.

use std::process::ExitCode;

use central_auth_core::doctor::{self, Verdict};
use central_auth_core::Broker;

use super::Outcome;
use crate::output::print_stdout;
use crate::view;

/// Prints one line per check (or with `json` the documented object).
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, json: bool) -> Outcome {
    let profile = broker.profile(explicit)?;
    let checks = doctor::run(broker, profile);
    let text = if json {
        view::doctor_json(profile.name.as_str(), &checks)
    } else {
        view::doctor(profile.name.as_str(), &checks)
    };
    print_stdout(&text)?;
    let failed = checks.iter().any(|c| c.verdict == Verdict::Fail);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
