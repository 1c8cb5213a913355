//! The local read-through cache of a Vault-stored profile.
//!
//! One 0600 file per profile under the state directory,
//! `fleet/<store>/<profile>.cache.json`, holding only the access token, its
//! issue and expiry times, the record's KV version and generation, and when it
//! was read from Vault. It never holds the refresh token: a machine's disk then
//! holds nothing that can extend the chain. Written atomically (temp, fsync,
//! rename); an unreadable or group-readable file is ignored, never trusted.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use central_auth_core::secret::{serde_exposed, SecretString};
use central_auth_core::token::StoredToken;

/// One cached access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The bearer token.
    #[serde(serialize_with = "serde_exposed::serialize")]
    pub access_token: SecretString,
    /// When it was issued.
    #[serde(with = "time::serde::timestamp")]
    pub issued_at: OffsetDateTime,
    /// When it stops working.
    #[serde(with = "time::serde::timestamp")]
    pub expires_at: OffsetDateTime,
    /// The KV version of the record it came from.
    pub version: u64,
    /// The record's generation.
    pub generation: u64,
    /// When it was read from (or written to) Vault.
    #[serde(with = "time::serde::timestamp")]
    pub read_at: OffsetDateTime,
}

impl CacheEntry {
    /// The cacheable part of a record, or `None` when the record must not be
    /// served from a cache (rejected, mid-rotation, or chain lost).
    pub fn from_record(record: &StoredToken, version: u64, now: OffsetDateTime) -> Option<Self> {
        if record.access_rejected || record.rotating.is_some() || record.lost.is_some() {
            return None;
        }
        Some(CacheEntry {
            access_token: central_auth_core::secret::duplicate(&record.access_token),
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            version,
            generation: record.generation,
            read_at: now,
        })
    }
}

/// The cache file of a profile in a store's local directory.
pub fn path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{profile}.cache.json"))
}

/// Loads the cache; `None` if absent, unreadable or not private.
pub fn load(path: &Path) -> Option<CacheEntry> {
    let text = std::fs::read(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    serde_json::from_slice(&text).ok()
}

/// Saves the cache atomically with mode 0600. Failures are ignored by callers:
/// the cache is an optimisation, Vault stays the truth.
pub fn save(path: &Path, entry: &CacheEntry) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("cache"),
        std::process::id()
    ));
    let json = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Removes the cache (after a reject, a rotation mark, or a logout).
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// The file keeping the highest KV version of a profile's record this machine
/// has read or written, and that record's generation
/// (`fleet/<store>/<profile>.seen`, two numbers, not secret): a store that
/// later serves an older version, or a newer version holding an older
/// generation of the same chain, was restored from a backup, written back by
/// hand, or answers from a lagging node.
pub fn seen_path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{profile}.seen"))
}

/// The highest KV version seen and its record's generation (0: absent).
pub fn load_seen(dir: &Path, profile: &str) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(seen_path(dir, profile)).ok()?;
    let mut parts = text.split_whitespace().map(str::parse::<u64>);
    Some((parts.next()?.ok()?, parts.next()?.ok()?))
}

/// Records `version` and its record's `generation` as seen when the version
/// is higher than the one recorded (best effort, like the cache).
pub fn note_seen(dir: &Path, profile: &str, version: u64, generation: u64) {
    if load_seen(dir, profile).is_some_and(|(v, _)| v >= version) {
        return;
    }
    let _ = central_auth_core::fsutil::write_atomically(
        &seen_path(dir, profile),
        format!("{version} {generation}\n").as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seen_mark_only_rises() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_seen(dir.path(), "p"), None);
        note_seen(dir.path(), "p", 7, 5);
        assert_eq!(load_seen(dir.path(), "p"), Some((7, 5)));
        note_seen(dir.path(), "p", 6, 9);
        assert_eq!(load_seen(dir.path(), "p"), Some((7, 5)));
        note_seen(dir.path(), "p", 8, 0);
        assert_eq!(load_seen(dir.path(), "p"), Some((8, 0)));
    }
}
