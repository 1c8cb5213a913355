//! The day's API quota as last seen by `central-auth proxy`, so `status` can
//! show it.
//!
//! Central answers every API call with `X-RateLimit-Limit-day` and
//! `X-RateLimit-Remaining-day` (per application). The proxy writes the latest
//! values to a small JSON next to the usage record,
//! `profiles/<name>/quota.json`; it is advisory, holds no secret, and a
//! missing or damaged file reads as "not seen".

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::fsutil::write_atomically;
use crate::local_state::{profile_dir, QUOTA_FILE};
use crate::profile_name::ProfileName;

/// The rate-limit figures of the last answer the proxy saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// `X-RateLimit-Limit-day`.
    pub limit_day: u64,
    /// `X-RateLimit-Remaining-day`.
    pub remaining_day: u64,
    /// `X-RateLimit-Limit-second`, when sent.
    pub limit_second: Option<u64>,
    /// When the answer was seen (unix seconds).
    pub seen_at: i64,
}

impl Quota {
    /// Reads the figures from lowercase response headers; `None` without the
    /// two per-day headers.
    pub fn from_headers(headers: &[(String, String)], seen_at: i64) -> Option<Quota> {
        let get = |name: &str| -> Option<u64> {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.trim().parse().ok())
        };
        Some(Quota {
            limit_day: get("x-ratelimit-limit-day")?,
            remaining_day: get("x-ratelimit-remaining-day")?,
            limit_second: get("x-ratelimit-limit-second"),
            seen_at,
        })
    }
}

/// The quota file of a profile.
pub fn path(state_dir: &Path, profile: &ProfileName) -> PathBuf {
    profile_dir(state_dir, profile).join(QUOTA_FILE)
}

/// Reads the last seen quota; missing or damaged is `None`.
pub fn read(path: &Path) -> Option<Quota> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// Writes the quota atomically. The profile's directory belongs to the store
/// (created with its permissions when a token is stored); without it nothing
/// is written.
pub fn write(path: &Path, quota: &Quota) -> Result<(), Error> {
    if path.parent().is_some_and(|d| !d.is_dir()) {
        return Ok(());
    }
    let json = serde_json::to_vec(quota)
        .map_err(|e| Error::store(format!("cannot encode the quota record: {e}")))?;
    write_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_kong_headers_and_round_trips() {
        let h = vec![
            ("x-ratelimit-limit-day".to_owned(), "5000".to_owned()),
            ("x-ratelimit-remaining-day".to_owned(), "4990".to_owned()),
            ("x-ratelimit-limit-second".to_owned(), "7".to_owned()),
        ];
        let q = Quota::from_headers(&h, 1_800_000_000).unwrap();
        assert_eq!(
            (q.limit_day, q.remaining_day, q.limit_second),
            (5000, 4990, Some(7))
        );
        assert!(Quota::from_headers(&h[2..], 0).is_none());
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("q.json");
        write(&p, &q).unwrap();
        assert_eq!(read(&p), Some(q));
    }
}
