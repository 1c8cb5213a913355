//! The status report of a profile: expiry countdown, refresh-token age, the 15-day
//! rule, store location, lock state and recent users. It never holds a secret.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::Profile;
use crate::error::Error;
use crate::store::TokenStore;
use crate::token::{StoredToken, TokenOrigin};
use crate::usage::Usage;

/// RFC 3339 as every report shows it (the helper lives in [`crate::timefmt`]).
pub use crate::timefmt::rfc3339;

/// Warn when fewer than this many days are left on the refresh token.
pub const WARN_DAYS_LEFT: u64 = 3;

/// Status of one profile.
#[derive(Debug, Serialize)]
pub struct ProfileStatus {
    /// Profile name.
    pub profile: String,
    /// `refresh_token` or `client_credentials`.
    pub grant: &'static str,
    /// API base URL.
    pub base_url: String,
    /// Where the record lives.
    pub store: String,
    /// The store kind: `file` or `vault`.
    pub store_kind: &'static str,
    /// A remote store's place, auth method and local cache; `None` for the
    /// file store.
    pub store_details: Option<crate::store::StoreDetails>,
    /// Whether another process holds the profile lock right now.
    pub lock_held: bool,
    /// The stored token, if any.
    pub token: Option<TokenStatus>,
    /// When `logout` removed the token (RFC 3339), while none is stored again.
    pub logged_out_at: Option<String>,
    /// Why the record could not be read, if it could not.
    pub store_error: Option<String>,
    /// Tools that used the profile, most recent first.
    pub used_by: Vec<ClientUse>,
    /// The profile's default minimum validity (`min_valid`), in seconds.
    pub min_valid_seconds: u64,
    /// The minimum validity actually applied to the stored token (at most half
    /// its lifetime), in seconds.
    pub effective_min_valid_seconds: Option<u64>,
    /// Warnings for the user (lost chain, interrupted refresh, expiring refresh
    /// token, rejected token).
    pub warnings: Vec<String>,
    /// The day's API quota as last seen by `central-auth proxy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_quota: Option<QuotaStatus>,
    /// The `central-auth proxy` processes serving the profile now.
    pub proxies: Vec<ProxyStatus>,
}

/// The day's API quota the proxy last saw, as `status` shows it: the quota
/// record with its time in RFC 3339, like every timestamp of the JSON.
#[derive(Debug, Serialize)]
pub struct QuotaStatus {
    /// `X-RateLimit-Limit-day`.
    pub limit_day: u64,
    /// `X-RateLimit-Remaining-day`.
    pub remaining_day: u64,
    /// `X-RateLimit-Limit-second`, when sent.
    pub limit_second: Option<u64>,
    /// When the answer was seen (RFC 3339).
    pub seen_at: String,
}

impl QuotaStatus {
    /// The status form of a quota record.
    pub fn from_record(q: &crate::quota::Quota) -> QuotaStatus {
        QuotaStatus {
            limit_day: q.limit_day,
            remaining_day: q.remaining_day,
            limit_second: q.limit_second,
            seen_at: OffsetDateTime::from_unix_timestamp(q.seen_at)
                .map(rfc3339)
                .unwrap_or_default(),
        }
    }
}

/// One running `central-auth proxy`, as `status` shows it.
#[derive(Debug, Serialize)]
pub struct ProxyStatus {
    /// Its process id.
    pub pid: u32,
    /// `http://127.0.0.1:PORT` for TCP, else `null`.
    pub url: Option<String>,
    /// The Unix socket path, else `null`.
    pub socket: Option<String>,
    /// When it started (RFC 3339).
    pub since: String,
}

impl ProxyStatus {
    /// The status form of a record.
    pub fn from_record(r: &crate::proxies::ProxyRecord) -> ProxyStatus {
        ProxyStatus {
            pid: r.holder.pid,
            url: r.url.clone(),
            socket: r.socket.as_ref().map(|p| p.display().to_string()),
            since: OffsetDateTime::from_unix_timestamp(r.since)
                .map(rfc3339)
                .unwrap_or_default(),
        }
    }
}

impl ProfileStatus {
    /// True when the stored chain is recorded lost: no call can succeed until
    /// `login` or `import` (`status` exits non-zero then).
    pub fn chain_lost(&self) -> bool {
        self.token.as_ref().is_some_and(|t| t.lost.is_some())
    }

    /// True when the stored chain is known dead: recorded lost, or its
    /// refresh token is past the 15-day rule (Central has most likely
    /// removed it). `status` exits 3 then.
    pub fn chain_dead(&self) -> bool {
        self.chain_lost()
            || self
                .token
                .as_ref()
                .is_some_and(|t| t.refresh_left_seconds == Some(0))
    }
}

/// The stored token without its secrets.
#[derive(Debug, Serialize)]
pub struct TokenStatus {
    /// How it was obtained.
    pub origin: TokenOrigin,
    /// Access token issue time (RFC 3339).
    pub issued_at: String,
    /// Access token expiry (RFC 3339): the one every command shows and every
    /// tool is told (`store::reported_expiry`): for a shared store the fleet's
    /// rotation moment.
    pub expires_at: String,
    /// Seconds until expiry (negative once expired).
    pub expires_in_seconds: i64,
    /// Central's own expiry of the access token, when it is later than
    /// `expires_at` (a shared store); else `null`.
    pub central_expires_at: Option<String>,
    /// The lifetime Central granted the access token (issue to expiry), in
    /// seconds: 900 for a GreenLake-scoped token, 7200 for a Central one.
    pub lifetime_seconds: u64,
    /// For a tenant token: the tenant workspace id it was exchanged for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// A tool reported the access token rejected.
    pub access_rejected: bool,
    /// A refresh token is stored.
    pub has_refresh_token: bool,
    /// Refresh token issue time (RFC 3339).
    pub refresh_issued_at: Option<String>,
    /// Refresh token age in seconds.
    pub refresh_age_seconds: Option<u64>,
    /// Seconds left before the 15-day rule removes an unused refresh token.
    pub refresh_left_seconds: Option<u64>,
    /// Record version.
    pub generation: u64,
    /// Set when the chain is recorded lost: when and why.
    pub lost: Option<LostStatus>,
    /// Set when a refresh was sent and its result is not saved (a rotation in
    /// flight, or one interrupted that the next call settles with Central).
    pub rotation_pending_since: Option<String>,
}

/// A lost chain, as `status` shows it.
#[derive(Debug, Serialize)]
pub struct LostStatus {
    /// When it was recorded (RFC 3339).
    pub at: String,
    /// What happened.
    pub reason: String,
}

/// One tool's last use.
#[derive(Debug, Serialize)]
pub struct ClientUse {
    /// Tool name (`cli`, `git`, `kubectl`, `terraform`, `ansible`, ...).
    pub client: String,
    /// Last use (RFC 3339).
    pub last_used: String,
    /// Seconds since.
    pub seconds_ago: i64,
}

/// Builds the status from what the store and usage file hold.
pub fn build(
    profile: &Profile,
    store: &dyn TokenStore,
    record: Result<Option<StoredToken>, Error>,
    usage: Usage,
    now: OffsetDateTime,
) -> Result<ProfileStatus, Error> {
    let mut warnings = Vec::new();
    let effective_min_valid_seconds = record
        .as_ref()
        .ok()
        .and_then(|r| r.as_ref())
        .map(|t| t.effective_min_valid(profile.min_valid).as_secs());
    let (token, store_error) = match record {
        Ok(Some(t)) => {
            let shown = crate::store::reported_expiry(
                store.shared(),
                profile.min_valid,
                t.issued_at,
                t.expires_at,
            );
            (Some(token_status(&t, shown, now, &mut warnings)), None)
        }
        Ok(None) => (None, None),
        Err(e) => (None, Some(e.to_string())),
    };
    let mut used_by: Vec<ClientUse> = usage
        .into_iter()
        .filter_map(|(client, ts)| {
            let at = OffsetDateTime::from_unix_timestamp(ts).ok()?;
            Some(ClientUse {
                client,
                last_used: rfc3339(at),
                seconds_ago: (now - at).whole_seconds(),
            })
        })
        .collect();
    used_by.sort_by_key(|u| u.seconds_ago);
    Ok(ProfileStatus {
        profile: profile.name.to_string(),
        grant: profile.grant.as_str(),
        base_url: profile.base_url.clone(),
        store: store.location(&profile.name),
        store_kind: store.kind(),
        store_details: store.details(&profile.name),
        lock_held: store.lock_held(&profile.name).unwrap_or(false),
        token,
        logged_out_at: None,
        store_error,
        used_by,
        min_valid_seconds: profile.min_valid.as_secs(),
        effective_min_valid_seconds,
        warnings,
        api_quota: None,
        proxies: Vec::new(),
    })
}

fn token_status(
    t: &StoredToken,
    shown: OffsetDateTime,
    now: OffsetDateTime,
    warnings: &mut Vec<String>,
) -> TokenStatus {
    let refresh_left = t.refresh_left(now);
    if let Some(lost) = &t.lost {
        warnings.push(format!(
            "the refresh chain was recorded lost at {}: {}; no tool gets a token until you run `central-auth login` or download a new token and run `central-auth import`",
            rfc3339(lost.at),
            lost.reason
        ));
    } else if let Some(mark) = &t.rotating {
        warnings.push(format!(
            "a refresh by process {} started at {} has not saved its result; the next call checks with Central before it uses the stored token",
            mark.holder.pid,
            rfc3339(mark.since)
        ));
    }
    if let (Some(left), None) = (refresh_left, &t.lost) {
        if left == Duration::ZERO {
            warnings.push("the refresh token is older than 15 days: Central has probably removed it; log in or import a new token".to_owned());
        } else if left < Duration::from_secs(WARN_DAYS_LEFT * 86_400) {
            warnings.push(format!(
                "only {} left before Central removes the unused refresh token; run `central-auth refresh` or schedule `central-auth keepalive`",
                crate::duration::format(left)
            ));
        }
    }
    if t.access_rejected {
        warnings.push(
            "a tool reported the access token rejected; the next call refreshes it".to_owned(),
        );
    }
    TokenStatus {
        origin: t.origin,
        issued_at: rfc3339(t.issued_at),
        expires_at: rfc3339(shown),
        expires_in_seconds: (shown - now).whole_seconds(),
        central_expires_at: (shown != t.expires_at).then(|| rfc3339(t.expires_at)),
        lifetime_seconds: t.lifetime().as_secs(),
        tenant_id: t.tenant_id.clone(),
        access_rejected: t.access_rejected,
        has_refresh_token: t.refresh_token.is_some(),
        refresh_issued_at: t.refresh_issued_at.map(rfc3339),
        refresh_age_seconds: t.refresh_age(now).map(|d| d.as_secs()),
        refresh_left_seconds: refresh_left.map(|d| d.as_secs()),
        generation: t.generation,
        lost: t.lost.as_ref().map(|l| LostStatus {
            at: rfc3339(l.at),
            reason: l.reason.clone(),
        }),
        rotation_pending_since: t.rotating.as_ref().map(|m| rfc3339(m.since)),
    }
}
