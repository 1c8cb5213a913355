//! `central-auth keepalive [--all]`: refresh the profiles whose refresh token is
//! older than a threshold, so the 15-day rule never removes a needed one.

use std::process::ExitCode;
use std::time::Duration;

use central_auth_core::broker::KeepaliveOutcome;
use central_auth_core::duration::format;
use central_auth_core::Broker;

use super::Outcome;
use crate::output::{print_stdout, report};
use crate::view;

/// Runs keepalive over the chosen profiles; one line (or with `json` one object
/// in an array) per profile on stdout. The exit code is the first failure's,
/// after every profile was tried.
pub(crate) fn run(
    broker: &Broker,
    explicit: Option<&str>,
    all: bool,
    older_than: Duration,
    json: bool,
) -> Outcome {
    let profiles: Vec<_> = if all {
        broker.config().profiles.values().collect()
    } else {
        vec![broker.profile(explicit)?]
    };
    let mut first_error = None;
    let mut lines = String::new();
    let mut objects = Vec::new();
    for p in profiles {
        let (outcome, age, error) = match broker.keepalive(p, older_than) {
            Ok(KeepaliveOutcome::Refreshed { age }) => {
                let line = format!(
                    "{}: refreshed (refresh token was {} old)",
                    p.name,
                    format(age)
                );
                lines.push_str(&line);
                ("refreshed", Some(age), None)
            }
            Ok(KeepaliveOutcome::Fresh { age }) => {
                lines.push_str(&format!(
                    "{}: ok (refresh token {} old, threshold {})",
                    p.name,
                    format(age),
                    format(older_than)
                ));
                ("fresh", Some(age), None)
            }
            Ok(KeepaliveOutcome::NotApplicable) => {
                lines.push_str(&format!(
                    "{}: skipped (client credentials have no refresh token)",
                    p.name
                ));
                ("skipped", None, None)
            }
            Err(e) => {
                report(&e);
                lines.push_str(&format!("{}: FAILED", p.name));
                first_error.get_or_insert(e.exit_code() as u8);
                ("failed", None, Some(e.to_string()))
            }
        };
        lines.push('\n');
        objects.push(serde_json::json!({
            "profile": p.name.as_str(),
            "outcome": outcome,
            "refresh_token_age_seconds": age.map(|a| a.as_secs()),
            "threshold_seconds": older_than.as_secs(),
            "error": error,
        }));
    }
    if json {
        print_stdout(&view::json(&serde_json::Value::Array(objects)))?;
    } else {
        print_stdout(&lines)?;
    }
    Ok(first_error.map_or(ExitCode::SUCCESS, ExitCode::from))
}
