//! `central-auth status [--all]`: expiry, refresh-token age, store and recent
//! users of one profile or all; exit 3 when a chain is lost, so scripts and
//! timers notice without parsing.

use std::process::ExitCode;

use central_auth_core::status::ProfileStatus;
use central_auth_core::Broker;

use super::Outcome;
use crate::output::print_stdout;
use crate::view;

/// Prints the status (text, or with `json` the documented object).
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, all: bool, json: bool) -> Outcome {
    let statuses: Vec<ProfileStatus> = if all {
        broker
            .config()
            .profiles
            .values()
            .map(|p| broker.status(p))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![broker.status(broker.profile(explicit)?)?]
    };
    let text = if json {
        view::status_json(&statuses, all)
    } else if all {
        view::status_text(&statuses)
    } else {
        let source = view::profile_source(broker, explicit);
        view::with_source(view::status_text(&statuses), source)
    };
    print_stdout(&text)?;
    if statuses.iter().any(|s| s.chain_lost()) {
        return Ok(ExitCode::from(
            central_auth_core::ExitCode::NeedsLogin as u8,
        ));
    }
    Ok(ExitCode::SUCCESS)
}
