//! `central-auth store ...`: moving a chain between stores.

use std::process::ExitCode;

use central_auth_core::chain_move::{self, MigrateOutcome};
use central_auth_core::Broker;

use central_auth::cli::StoreAction;

use super::Outcome;
use crate::output::say;

/// Runs a `store` action; one line on stderr saying what happened.
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, action: StoreAction) -> Outcome {
    match action {
        StoreAction::Migrate { from: _ } => {
            let profile = broker.profile(explicit)?;
            let line = match chain_move::from_file(broker, profile)? {
                MigrateOutcome::Moved { to } => format!(
                    "central-auth: profile {}: moved from the local file store to {to} without a refresh; the local copy is deleted",
                    profile.name
                ),
                MigrateOutcome::AlreadyThere { to } => format!(
                    "central-auth: profile {}: {to} already held this pair; the local copy is deleted",
                    profile.name
                ),
            };
            say(&line)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
