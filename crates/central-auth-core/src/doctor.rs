//! `central-auth doctor`: one check per line, each `ok` or the fix.
//!
//! Checks config and state permissions, that secret sources resolve, DNS/TLS to the
//! gateway (with the proxy and `ca_file` in effect), clock skew against the gateway's
//! `Date` header, that the token is accepted by
//! `GET /configuration/v2/groups?limit=1&offset=0`, the lock, and the days left on
//! the refresh token. Nothing here prints; the CLI renders the result.

use std::time::Duration;

use time::OffsetDateTime;

use crate::broker::{Broker, DoctorAccess, SecretKind};
use crate::config::Profile;
use crate::token::REFRESH_TOKEN_IDLE_LIMIT;

/// Largest clock difference to the gateway that is still fine.
pub const MAX_SKEW: Duration = Duration::from_secs(60);

/// Outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// All good.
    Ok,
    /// Works, but needs attention soon.
    Warn,
    /// Broken; the detail says how to fix it.
    Fail,
}

/// One line of the doctor's report.
#[derive(Debug)]
pub struct Check {
    /// Short name of the check.
    pub name: &'static str,
    /// The verdict.
    pub verdict: Verdict,
    /// What was found, or the fix. Never a secret.
    pub detail: String,
}

fn check(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        name,
        verdict,
        detail: detail.into(),
    }
}

/// Runs every check for `profile`.
pub fn run(broker: &Broker, profile: &Profile) -> Vec<Check> {
    let access = broker.doctor_access(profile);
    let mut out = vec![permissions(broker, &access)];
    out.extend(store_checks(&access));
    out.push(secrets(&access, profile));
    let reach = reachability(&access, profile);
    out.extend(reach);
    out.push(token_accepted(broker, &access, profile));
    out.push(lock_state(&access));
    out.push(refresh_days_left(&access, profile));
    out
}

fn permissions(broker: &Broker, access: &DoctorAccess<'_>) -> Check {
    // Owner and mode of the home, config.toml and state/ (StrictModes), and a
    // literal secret in a config others can read: every finding, worst first.
    let mut found = crate::strict::findings(broker.home(), broker.config());
    found.sort_by_key(|f| !f.fatal);
    if !found.is_empty() {
        let config = &broker.home().config_file;
        let verdict = if found.iter().any(|f| f.fatal || &f.path == config) {
            Verdict::Fail
        } else {
            Verdict::Warn
        };
        let detail: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        return check("permissions", verdict, detail.join("; "));
    }
    if access.store_shared() {
        // The record is remote: the `store ...` checks read it.
        return check("permissions", Verdict::Ok, "config and state are private");
    }
    match access.record() {
        Ok(_) => check("permissions", Verdict::Ok, "config and state are private"),
        Err(e) => check("permissions", Verdict::Fail, e.to_string()),
    }
}

/// The store kind and place, and a remote store's own checks.
fn store_checks(access: &DoctorAccess<'_>) -> Vec<Check> {
    let (kind, place) = access.store_place();
    let mut out = vec![check(
        "store",
        Verdict::Ok,
        format!("{kind} store: {place}"),
    )];
    for (name, result) in access.store_checks() {
        out.push(match result {
            Ok(detail) => check(name, Verdict::Ok, detail),
            Err(e) => check(name, Verdict::Fail, e.to_string()),
        });
    }
    out
}

fn secrets(access: &DoctorAccess<'_>, profile: &Profile) -> Check {
    if let Some(t) = &profile.tenant {
        return check(
            "secrets",
            Verdict::Ok,
            format!("none of its own (the MSP profile {} holds them)", t.from),
        );
    }
    if let Err(e) = access.check_secret(SecretKind::ClientSecret) {
        return check("secrets", Verdict::Fail, e.to_string());
    }
    match &profile.password {
        Some(_) => match access.check_secret(SecretKind::Password) {
            Ok(_) => check("secrets", Verdict::Ok, "client secret and password resolve"),
            Err(e) => check("secrets", Verdict::Fail, e.to_string()),
        },
        None => check(
            "secrets",
            Verdict::Ok,
            format!(
                "client secret resolves ({})",
                profile.client_secret.describe()
            ),
        ),
    }
}

/// DNS + TLS (one unauthenticated request) and the clock skew from its `Date`.
fn reachability(access: &DoctorAccess<'_>, profile: &Profile) -> Vec<Check> {
    let proxy = access
        .proxy_variable()
        .map(|v| format!(", proxy from {v}"))
        .unwrap_or_default();
    let roots = profile
        .ca_file
        .as_ref()
        .map(|p| format!(", ca_file {}", p.display()))
        .unwrap_or_default();
    match access.probe_gateway(None) {
        Ok(response) => {
            let reach = check(
                "gateway",
                Verdict::Ok,
                format!(
                    "{} answers (HTTP {}){proxy}{roots}",
                    crate::config::host_of(&profile.base_url),
                    response.status
                ),
            );
            let skew = match response.date.as_deref().and_then(parse_http_date) {
                Some(date) => {
                    let diff = (OffsetDateTime::now_utc() - date).abs();
                    let secs = diff.whole_seconds();
                    if diff > time::Duration::seconds(MAX_SKEW.as_secs() as i64) {
                        check("clock", Verdict::Fail, format!("this machine's clock is {secs}s off the gateway's; fix NTP, token expiry depends on it"))
                    } else {
                        check(
                            "clock",
                            Verdict::Ok,
                            format!("within {secs}s of the gateway"),
                        )
                    }
                }
                None => check(
                    "clock",
                    Verdict::Warn,
                    "the gateway sent no Date header; skew not checked",
                ),
            };
            vec![reach, skew]
        }
        Err(e) => vec![
            check(
                "gateway",
                Verdict::Fail,
                format!("{e}{proxy}{roots}; check DNS, proxy variables and ca_file"),
            ),
            check("clock", Verdict::Warn, "not checked: gateway unreachable"),
        ],
    }
}

fn token_accepted(broker: &Broker, access: &DoctorAccess<'_>, profile: &Profile) -> Check {
    let token = match broker.token(profile, Some(Duration::from_secs(60))) {
        Ok(t) => t,
        Err(e) => return check("token", Verdict::Fail, e.to_string()),
    };
    match access.probe_gateway(Some(&token.token)) {
        Ok(r) if r.status == 200 => check(
            "token",
            Verdict::Ok,
            "accepted by GET /configuration/v2/groups",
        ),
        Ok(r) => {
            // A real rejection: make sure no tool gets this token again.
            let marked = r.status == 401 && broker.reject(profile, &token.token).unwrap_or(false);
            check(
                "token",
                Verdict::Fail,
                format!(
                    "rejected by GET /configuration/v2/groups ({}){}; run `central-auth refresh --profile {}`, and if that exits 3, log in or import a new token",
                    r.problem,
                    if marked { ", marked rejected so the next call refreshes" } else { "" },
                    profile.name
                ),
            )
        }
        Err(e) => check("token", Verdict::Fail, e.to_string()),
    }
}

fn lock_state(access: &DoctorAccess<'_>) -> Check {
    let (_, place) = access.store_place();
    match access.lock_held() {
        Ok(false) => check("lock", Verdict::Ok, format!("the lock of {place} is free")),
        Ok(true) => check(
            "lock",
            Verdict::Warn,
            format!("the lock of {place} is held by another process right now; if that lasts, look for a stuck central-auth (`central-auth status`)"),
        ),
        Err(e) => check("lock", Verdict::Fail, e.to_string()),
    }
}

fn refresh_days_left(access: &DoctorAccess<'_>, profile: &Profile) -> Check {
    if profile.grant.is_minted() {
        return check(
            "refresh token",
            Verdict::Ok,
            format!("none needed ({})", profile.grant.as_str().replace('_', " ")),
        );
    }
    let record = match access.record() {
        Ok(Some(r)) => r,
        Ok(None) => {
            return check(
                "refresh token",
                Verdict::Fail,
                format!(
                    "none stored; run `central-auth login --profile {}` or `central-auth import`",
                    profile.name
                ),
            )
        }
        Err(e) => return check("refresh token", Verdict::Fail, e.to_string()),
    };
    if let Some(lost) = &record.lost {
        return check(
            "refresh token",
            Verdict::Fail,
            format!(
                "the chain was recorded lost at {} ({}); `refresh` cannot help: run `central-auth login --profile {}` or download a new token and run `central-auth import --profile {} FILE`",
                crate::status::rfc3339(lost.at),
                lost.reason,
                profile.name,
                profile.name
            ),
        );
    }
    let now = OffsetDateTime::now_utc();
    match record.refresh_left(now) {
        Some(left) if left == Duration::ZERO => check(
            "refresh token",
            Verdict::Fail,
            format!(
                "older than {} days; Central has removed it, log in or import",
                REFRESH_TOKEN_IDLE_LIMIT.as_secs() / 86_400
            ),
        ),
        Some(left) if left < Duration::from_secs(crate::status::WARN_DAYS_LEFT * 86_400) => check(
            "refresh token",
            Verdict::Warn,
            format!(
                "{} left of the 15-day rule; run `central-auth keepalive`",
                crate::duration::format(left)
            ),
        ),
        Some(left) => check(
            "refresh token",
            Verdict::Ok,
            format!("{} left of the 15-day rule", crate::duration::format(left)),
        ),
        None => check(
            "refresh token",
            Verdict::Fail,
            "no refresh token stored; log in or import",
        ),
    }
}

/// Parses an RFC 7231 HTTP date, e.g. `Sat, 28 Nov 2026 05:30:00 GMT`.
pub fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), format)
        .ok()
        .map(|t| t.assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_parse() {
        let t = parse_http_date("Sat, 28 Nov 2026 05:30:00 GMT").unwrap();
        assert_eq!(t.unix_timestamp(), 1_795_843_800);
        assert!(parse_http_date("yesterday").is_none());
    }
}
