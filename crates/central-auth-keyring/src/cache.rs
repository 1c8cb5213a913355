//! The access-token cache of a keyring profile: one 0600 file,
//! `keyring/<store>/<profile>.cache.json`, holding the access token, its issue
//! and expiry times and the record's generation, never the refresh token.
//!
//! It is the cached `token` path: served while valid without opening D-Bus.
//! Its order with the keyring is what keeps a crash safe: it is written only
//! after the keyring holds the record it copies, and removed before a record
//! that must not be served (a rotation mark, a rejected or lost token) is
//! written to the keyring. Written atomically; an unreadable or group-readable
//! file is ignored, never trusted.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use central_auth_core::error::Error;
use central_auth_core::fsutil::{nofollow, write_atomically};
use central_auth_core::secret::{duplicate, serde_exposed, SecretString};
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
    /// The generation of the keyring record it came from.
    pub generation: u64,
}

impl CacheEntry {
    /// The cacheable part of a record, or `None` when the record must not be
    /// served from the cache (rejected, mid-rotation, or chain lost).
    pub fn from_record(record: &StoredToken) -> Option<Self> {
        if record.access_rejected || record.rotating.is_some() || record.lost.is_some() {
            return None;
        }
        Some(CacheEntry {
            access_token: duplicate(&record.access_token),
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            generation: record.generation,
        })
    }
}

/// The cache file of a profile in a store's local directory.
pub fn path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{profile}.cache.json"))
}

/// Loads the cache; `None` if absent, unreadable or not private.
pub fn load(path: &Path) -> Option<CacheEntry> {
    let mut file = nofollow::open_read(path, "keyring cache").ok()??;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata().ok()?.permissions().mode() & 0o077 != 0 {
            return None;
        }
    }
    let mut text = Vec::new();
    file.by_ref().take(64 * 1024).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Saves the cache atomically with mode 0600.
pub fn save(path: &Path, entry: &CacheEntry) -> Result<(), Error> {
    let json = serde_json::to_vec(entry)
        .map_err(|e| Error::store(format!("cannot encode the keyring cache: {e}")))?;
    write_atomically(path, &json)
}

/// Removes the cache; absent is fine, anything else is an error (a cache
/// that cannot be removed must not be trusted over the keyring).
pub fn remove(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::store(format!(
            "cannot remove the keyring cache {}: {e}; fix the directory's permissions",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> CacheEntry {
        CacheEntry {
            access_token: SecretString::from("at".to_owned()),
            issued_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH + time::Duration::hours(2),
            generation: 3,
        }
    }

    #[test]
    fn saved_private_loaded_back_and_a_loose_file_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "work");
        save(&p, &entry()).unwrap();
        assert_eq!(load(&p).unwrap().generation, 3);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
            assert!(load(&p).is_none(), "a group-readable cache is ignored");
        }
        remove(&p).unwrap();
        remove(&p).unwrap();
        assert!(load(&p).is_none());
    }
}
