//! `central-auth login` and `central-auth refresh`: a new token for the chosen
//! profile, said in one stderr line (or with `--json` one object on stdout).

use std::process::ExitCode;

use central_auth_core::broker::AccessToken;
use central_auth_core::{Broker, Error, Profile};

use super::{chosen, Outcome};
use crate::output::{print_stdout, say};
use crate::{password, view};

/// Logs in with the password (prompted, from stdin, or the profile's); a
/// cancelled prompt changes nothing and exits 130.
pub(crate) fn login(
    broker: &Broker,
    explicit: Option<&str>,
    password_stdin: bool,
    json: bool,
) -> Outcome {
    let (profile, label) = chosen(broker, explicit)?;
    let password = match password::obtain(profile, password_stdin)? {
        password::Password::Given(p) => Some(p),
        password::Password::FromProfile => None,
        password::Password::Cancelled => {
            say("central-auth: login cancelled at the password prompt; nothing changed")?;
            return Ok(ExitCode::from(130));
        }
    };
    let t = broker.login(profile, password)?;
    renewed(&label, profile, "logged in", "login", &t, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Refreshes the token now, whatever its expiry.
pub(crate) fn refresh(broker: &Broker, explicit: Option<&str>, json: bool) -> Outcome {
    let (profile, label) = chosen(broker, explicit)?;
    let t = broker.force_refresh(profile)?;
    renewed(&label, profile, "refreshed", "refresh", &t, json)?;
    Ok(ExitCode::SUCCESS)
}

/// Reports a new token from `login` or `refresh`: a line on stderr, or with
/// `json` the object `{profile, action, expires_at}` on stdout.
fn renewed(
    label: &str,
    profile: &Profile,
    done: &str,
    action: &str,
    t: &AccessToken,
    json: bool,
) -> Result<(), Error> {
    let expires_at = central_auth_core::status::rfc3339(t.expires_at);
    if json {
        print_stdout(&view::json(&serde_json::json!({
            "profile": profile.name.as_str(),
            "action": action,
            "expires_at": expires_at,
        })))
    } else {
        say(&format!(
            "central-auth: {label}: {done}; token valid until {expires_at}"
        ))
    }
}
