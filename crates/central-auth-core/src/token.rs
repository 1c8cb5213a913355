//! The stored token of a profile and the arithmetic of its lifetime.
//!
//! Expiry is the issue time plus `expires_in`: the Download Token's `created_at`
//! for imports, the time the response was received otherwise. The 15-day clock of a
//! classic refresh token starts when that refresh token was issued, since every
//! refresh hands out a new one.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secret::{serde_exposed, SecretString};

/// Longest access-token lifetime trusted from an answer. Classic tokens live
/// 2 h and New Central / GreenLake tokens at most 2 h, so a larger `expires_in`
/// is clamped to this: a token is never handed out on the clock's word past the
/// longest lifetime Central documents.
pub const MAX_TRUSTED_LIFETIME: u64 = 7200;

/// Central removes a refresh token that has not been used for this long.
pub const REFRESH_TOKEN_IDLE_LIMIT: Duration = Duration::from_secs(15 * 86_400);

/// Version of the on-disk record format.
pub const FORMAT_VERSION: u32 = 1;

/// Where the stored pair came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenOrigin {
    /// `central-auth import` of a Web UI download or a token response.
    Import,
    /// The classic three-step OAuth login.
    Login,
    /// A refresh of the previous pair.
    Refresh,
    /// A client-credentials grant.
    ClientCredentials,
    /// An RFC 8693 exchange of an MSP token for a tenant token.
    TokenExchange,
}

/// A profile's token as kept in the store.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredToken {
    /// Record format version.
    pub format: u32,
    /// Increases by one with every write; the compare-and-write version.
    pub generation: u64,
    /// The bearer token.
    #[serde(serialize_with = "serde_exposed::serialize")]
    pub access_token: SecretString,
    /// The classic refresh token; `None` for client credentials.
    #[serde(serialize_with = "serde_exposed::serialize_option", default)]
    pub refresh_token: Option<SecretString>,
    /// Token type as Central sent it (`bearer`).
    pub token_type: String,
    /// When the access token was issued.
    #[serde(with = "time::serde::timestamp")]
    pub issued_at: OffsetDateTime,
    /// When the access token stops working.
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
    /// When the current refresh token was issued (its 15-day clock).
    #[serde(with = "time::serde::timestamp::option", default)]
    pub refresh_issued_at: Option<OffsetDateTime>,
    /// How this pair was obtained.
    pub origin: TokenOrigin,
    /// Set when a tool reported the access token rejected (HTTP 401); the next
    /// call refreshes even though the clock says it is still valid.
    #[serde(default)]
    pub access_rejected: bool,
    /// Write-ahead mark: a rotation of this pair was sent to Central and its
    /// outcome is not saved yet. Written durably before the refresh request and
    /// cleared by the write of its result. A later holder that finds it must not
    /// trust the access token on the clock's word (Central may have rotated the
    /// pair and deleted it); it settles the question with Central first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotating: Option<RotationMark>,
    /// Set when the chain is known dead (Central rejected the refresh token, or
    /// a rotated pair was lost) and no automatic login was possible. Every call
    /// then fails fast without calling Central until `import` or `login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<ChainLost>,
    /// For a tenant token: the tenant workspace id it was exchanged for
    /// (hexadecimal, no dashes), so a `tenant_name` is resolved through the
    /// tenant list only once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// The `tenant_name` that `tenant_id` was resolved from: a profile whose
    /// `tenant_name` changed since is resolved again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name: Option<String>,
}

/// A rotation in flight: who sent it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationMark {
    /// When the rotation request was about to be sent.
    #[serde(with = "time::serde::timestamp")]
    pub since: OffsetDateTime,
    /// The process that sent it.
    pub holder: crate::holder::Holder,
}

/// Why and when the chain was recorded dead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLost {
    /// When it was recorded.
    #[serde(with = "time::serde::timestamp")]
    pub at: OffsetDateTime,
    /// One line: what happened (no secret).
    pub reason: String,
}

/// When a token issued at `issued` with a lifetime of `expires_in` seconds
/// expires: `expires_in` is clamped to Central's longest documented lifetime
/// ([`MAX_TRUSTED_LIFETIME`]) and the sum saturates, so no answer
/// or import can overflow the arithmetic or push expiry past that lifetime.
pub fn expiry_after(issued: OffsetDateTime, expires_in: u64) -> OffsetDateTime {
    let secs = expires_in.min(MAX_TRUSTED_LIFETIME) as i64;
    issued.saturating_add(time::Duration::seconds(secs))
}

impl StoredToken {
    /// How long the access token was issued for.
    pub fn lifetime(&self) -> Duration {
        (self.expires_at - self.issued_at)
            .try_into()
            .unwrap_or(Duration::ZERO)
    }

    /// Time left on the access token (zero once expired).
    pub fn remaining(&self, now: OffsetDateTime) -> Duration {
        (self.expires_at - now).try_into().unwrap_or(Duration::ZERO)
    }

    /// True when the access token is usable for at least `min_valid` from `now`.
    ///
    /// `min_valid` is capped at half the token's lifetime, so asking for more than a
    /// token can ever give (e.g. 3h of a 2h token) does not refresh on every call.
    pub fn usable_for(&self, min_valid: Duration, now: OffsetDateTime) -> bool {
        let wanted = self.effective_min_valid(min_valid);
        !self.access_rejected && now < self.expires_at && self.remaining(now) >= wanted
    }

    /// The minimum validity applied for a wanted one: at most half the lifetime.
    pub fn effective_min_valid(&self, wanted: Duration) -> Duration {
        wanted.min(self.lifetime() / 2)
    }

    /// Age of the refresh token, if there is one.
    pub fn refresh_age(&self, now: OffsetDateTime) -> Option<Duration> {
        let issued = self.refresh_issued_at?;
        self.refresh_token.as_ref()?;
        Some((now - issued).try_into().unwrap_or(Duration::ZERO))
    }

    /// Time left before Central removes an unused refresh token.
    pub fn refresh_left(&self, now: OffsetDateTime) -> Option<Duration> {
        self.refresh_age(now)
            .map(|age| REFRESH_TOKEN_IDLE_LIMIT.saturating_sub(age))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn token(issued: OffsetDateTime, secs: i64) -> StoredToken {
        StoredToken {
            format: FORMAT_VERSION,
            generation: 1,
            access_token: SecretString::from("a".to_owned()),
            refresh_token: Some(SecretString::from("r".to_owned())),
            token_type: "bearer".into(),
            issued_at: issued,
            expires_at: issued + time::Duration::seconds(secs),
            refresh_issued_at: Some(issued),
            origin: TokenOrigin::Import,
            access_rejected: false,
            rotating: None,
            lost: None,
            tenant_id: None,
            tenant_name: None,
        }
    }

    #[test]
    fn validity_with_margin() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let t = token(t0, 7200);
        let m5 = Duration::from_secs(300);
        assert!(t.usable_for(m5, t0 + time::Duration::seconds(6899)));
        assert!(!t.usable_for(m5, t0 + time::Duration::seconds(6901)));
        assert!(!t.usable_for(Duration::ZERO, t0 + time::Duration::seconds(7200)));
    }

    #[test]
    fn oversized_margin_is_capped_at_half_the_lifetime() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let t = token(t0, 7200);
        let three_hours = Duration::from_secs(3 * 3600);
        assert!(t.usable_for(three_hours, t0 + time::Duration::seconds(60)));
        assert!(!t.usable_for(three_hours, t0 + time::Duration::seconds(3601)));
    }

    #[test]
    fn rejected_token_is_not_usable() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let mut t = token(t0, 7200);
        t.access_rejected = true;
        assert!(!t.usable_for(Duration::ZERO, t0));
    }

    #[test]
    fn expiry_never_overflows_or_exceeds_the_trusted_lifetime() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        assert_eq!(expiry_after(t0, 7200), t0 + time::Duration::hours(2));
        assert_eq!(expiry_after(t0, u64::MAX), t0 + time::Duration::hours(2));
        assert_eq!(expiry_after(t0, 60), t0 + time::Duration::minutes(1));
    }

    #[test]
    fn refresh_clock() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        let t = token(t0, 7200);
        let now = t0 + time::Duration::days(12);
        assert_eq!(t.refresh_left(now), Some(Duration::from_secs(3 * 86_400)));
        assert_eq!(
            t.refresh_left(t0 + time::Duration::days(20)),
            Some(Duration::ZERO)
        );
    }
}
