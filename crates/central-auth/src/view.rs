//! Rendering `status`, `profiles`, `doctor` and the confirmations for people
//! (text) and programs (JSON). The JSON field names are stable and documented in
//! docs/json.md.

use std::fmt::Write;
use std::time::Duration;

use central_auth_core::broker::ProfileChoice;
use central_auth_core::duration::format as dur;
use central_auth_core::status::ProfileStatus;
use central_auth_core::Config;

/// `profile NAME (from SOURCE)`, the subject of the confirmation lines; the
/// source is the broker's word on where the name came from (`--profile`,
/// `CENTRAL_AUTH_PROFILE`, `default_profile` or `the only profile`).
pub fn profile_label(choice: &ProfileChoice) -> String {
    format!("profile {} (from {})", choice.name, choice.source.label())
}

/// Inserts `  chosen by      SOURCE` after the first line of one profile's status.
pub fn with_source(status: String, source: &str) -> String {
    match status.split_once('\n') {
        Some((head, rest)) => format!("{head}\n  chosen by      {source}\n{rest}"),
        None => status,
    }
}

/// Pretty JSON and a newline.
pub fn json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// Human-readable status of each profile.
pub fn status_text(statuses: &[ProfileStatus]) -> String {
    let mut out = String::new();
    for (i, s) in statuses.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "profile {} ({}, {})", s.profile, s.grant, s.base_url);
        match (&s.token, &s.store_error) {
            (_, Some(err)) => {
                let _ = writeln!(out, "  token          unreadable: {err}");
            }
            (None, None) => match &s.logged_out_at {
                Some(at) => {
                    let _ = writeln!(
                        out,
                        "  token          logged out at {at}; nothing logs in until you run `central-auth login` or `central-auth import`"
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  token          none stored (run `central-auth login` or `central-auth import`)"
                    );
                }
            },
            (Some(t), None) => {
                let expiry = if t.expires_in_seconds > 0 {
                    format!(
                        "expires in {} ({})",
                        dur(Duration::from_secs(t.expires_in_seconds as u64)),
                        t.expires_at
                    )
                } else {
                    format!(
                        "expired {} ago ({})",
                        dur(Duration::from_secs(t.expires_in_seconds.unsigned_abs())),
                        t.expires_at
                    )
                };
                let origin = serde_json::to_value(t.origin)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let central = t
                    .central_expires_at
                    .as_ref()
                    .map(|c| format!(" (the fleet rotates it then; Central expires it at {c})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  access token   {expiry}{central}, from {origin}, lifetime {} granted",
                    dur(Duration::from_secs(t.lifetime_seconds))
                );
                if let Some(tenant) = &t.tenant_id {
                    let _ = writeln!(out, "  tenant         {tenant}");
                }
                if let Some(lost) = &t.lost {
                    let _ = writeln!(out, "  chain          LOST at {}: {}", lost.at, lost.reason);
                } else if let Some(since) = &t.rotation_pending_since {
                    let _ = writeln!(
                        out,
                        "  rotation       unsettled since {since} (checked with Central on the next call)"
                    );
                }
                if t.lost.is_some() {
                    let _ = writeln!(
                        out,
                        "  refresh token  dead (run `central-auth login` or `central-auth import`)"
                    );
                } else if let (Some(age), Some(left)) =
                    (t.refresh_age_seconds, t.refresh_left_seconds)
                {
                    let _ = writeln!(
                        out,
                        "  refresh token  age {}, {} left of the 15-day rule",
                        dur(Duration::from_secs(age)),
                        dur(Duration::from_secs(left))
                    );
                } else if !t.has_refresh_token {
                    let how = match t.origin {
                        central_auth_core::token::TokenOrigin::TokenExchange => {
                            "exchanged for the MSP's token"
                        }
                        _ => "minted with client credentials",
                    };
                    let _ = writeln!(out, "  refresh token  none ({how})");
                }
            }
        }
        let _ = writeln!(out, "  store          {}", s.store);
        if let Some(d) = &s.store_details {
            store_details_text(&mut out, d);
        }
        let min_valid = match s.effective_min_valid_seconds {
            Some(e) if e < s.min_valid_seconds => format!(
                "{} configured, {} applied (half the token's lifetime)",
                dur(Duration::from_secs(s.min_valid_seconds)),
                dur(Duration::from_secs(e))
            ),
            _ => dur(Duration::from_secs(s.min_valid_seconds)),
        };
        let _ = writeln!(out, "  min valid      {min_valid}");
        let _ = writeln!(
            out,
            "  lock           {}",
            if s.lock_held {
                "held by another process"
            } else {
                "free"
            }
        );
        if s.used_by.is_empty() {
            let _ = writeln!(out, "  used by        no tool yet");
        } else {
            let list: Vec<String> = s
                .used_by
                .iter()
                .map(|u| {
                    format!(
                        "{} {} ago",
                        u.client,
                        dur(Duration::from_secs(u.seconds_ago.max(0) as u64))
                    )
                })
                .collect();
            let _ = writeln!(out, "  used by        {}", list.join(", "));
        }
        if let Some(q) = &s.api_quota {
            let _ = writeln!(out, "  api quota      {}", quota_line(q));
        }
        for p in &s.proxies {
            let place = match (&p.url, &p.socket) {
                (Some(url), _) => url.clone(),
                (None, Some(socket)) => format!("unix socket {socket}"),
                (None, None) => "(unknown address)".to_owned(),
            };
            let _ = writeln!(
                out,
                "  proxy          serving {place} (pid {}, since {})",
                p.pid, p.since
            );
        }
        for w in &s.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
    }
    out
}

/// The `status` line for the day's quota the proxy saw.
fn quota_line(q: &central_auth_core::status::QuotaStatus) -> String {
    format!(
        "{} of {} calls left today (seen by the proxy at {})",
        q.remaining_day, q.limit_day, q.seen_at
    )
}

/// The lines of a remote store, as its backend words them.
fn store_details_text(out: &mut String, d: &central_auth_core::store::StoreDetails) {
    for (label, text) in d.lines() {
        let _ = writeln!(out, "  {label:<14} {text}");
    }
}

/// JSON status: one object, or an array with `--all`.
pub fn status_json(statuses: &[ProfileStatus], all: bool) -> String {
    let value = if all {
        serde_json::to_value(statuses)
    } else {
        serde_json::to_value(&statuses[0])
    };
    let mut text = value
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| "{}".to_owned());
    text.push('\n');
    text
}

/// One line per profile: name, grant, base URL, `*` for the default; and
/// which config file was read (or that it does not exist).
pub fn profiles(config: &Config) -> String {
    let mut out = String::new();
    if config.profiles.is_empty() {
        let state = if config.path.exists() {
            "has no [profiles.NAME] table"
        } else {
            "does not exist"
        };
        let _ = writeln!(
            out,
            "no profiles: the config file {} {state} (see {})",
            config.path.display(),
            central_auth_core::docs_ref::page("configuration")
        );
    }
    for (name, p) in &config.profiles {
        let mark = if config.default_profile.as_ref() == Some(name) {
            "*"
        } else {
            " "
        };
        let _ = writeln!(out, "{mark} {name}\t{}\t{}", p.grant.as_str(), p.base_url);
    }
    out
}

/// `profiles --json`: `{config_file, config_exists, default_profile, profiles:
/// [{name, grant, base_url, default}]}`.
pub fn profiles_json(config: &Config) -> String {
    let profiles: Vec<_> = config
        .profiles
        .iter()
        .map(|(name, p)| {
            serde_json::json!({
                "name": name.as_str(),
                "grant": p.grant.as_str(),
                "base_url": p.base_url,
                "default": config.default_profile.as_ref() == Some(name),
            })
        })
        .collect();
    json(&serde_json::json!({
        "config_file": config.path.display().to_string(),
        "config_exists": config.path.exists(),
        "default_profile": config.default_profile.as_ref().map(|d| d.as_str()),
        "profiles": profiles,
    }))
}

/// `doctor --json`: `{profile, ok, checks: [{name, verdict, detail}]}` with
/// verdict `ok`, `warn` or `fail`; `ok` is false when a check failed.
pub fn doctor_json(profile: &str, checks: &[central_auth_core::doctor::Check]) -> String {
    use central_auth_core::doctor::Verdict;
    let list: Vec<_> = checks
        .iter()
        .map(|c| {
            let verdict = match c.verdict {
                Verdict::Ok => "ok",
                Verdict::Warn => "warn",
                Verdict::Fail => "fail",
            };
            serde_json::json!({"name": c.name, "verdict": verdict, "detail": c.detail})
        })
        .collect();
    json(&serde_json::json!({
        "profile": profile,
        "ok": !checks.iter().any(|c| c.verdict == Verdict::Fail),
        "checks": list,
    }))
}

/// The doctor's report: one line per check.
pub fn doctor(profile: &str, checks: &[central_auth_core::doctor::Check]) -> String {
    use central_auth_core::doctor::Verdict;
    let mut out = format!("doctor: profile {profile}\n");
    for c in checks {
        let verdict = match c.verdict {
            Verdict::Ok => "ok  ",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
        };
        let _ = writeln!(out, "{verdict} {:<14} {}", c.name, c.detail);
    }
    out
}
