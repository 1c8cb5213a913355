//! `central-auth status [--all]`: expiry, refresh-token age, store and recent
//! users of one profile or all; exit 3 when a chain is known dead (recorded
//! lost, or its refresh token past the 15-day rule), so scripts and timers
//! notice without parsing.

use std::process::ExitCode;

use central_auth_core::status::ProfileStatus;
use central_auth_core::Broker;

use super::Outcome;
use crate::output::print_stdout;
use crate::view;

/// Prints the status (text, or with `json` the documented object).
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, all: bool, json: bool) -> Outcome {
    let (statuses, source) = if all {
        let all = broker
            .config()
            .profiles
            .values()
            .map(|p| broker.status(p))
            .collect::<Result<Vec<ProfileStatus>, _>>()?;
        (all, None)
    } else {
        let (profile, choice) = broker.choose(explicit)?;
        (vec![broker.status(profile)?], Some(choice.source.label()))
    };
    let text = if json {
        view::status_json(&statuses, all)
    } else {
        match source {
            Some(source) => view::with_source(view::status_text(&statuses), source),
            None => view::status_text(&statuses),
        }
    };
    print_stdout(&text)?;
    if statuses.iter().any(|s| s.chain_dead()) {
        return Ok(ExitCode::from(
            central_auth_core::ExitCode::NeedsLogin as u8,
        ));
    }
    Ok(ExitCode::SUCCESS)
}
