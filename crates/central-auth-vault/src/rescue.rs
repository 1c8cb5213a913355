//! The rescue record: a rotated pair that the store would not take.
//!
//! When Central has rotated the pair and Vault stays unreachable for as long
//! as the lease lasts (the save is retried, the lease renewed, until then),
//! the new pair is the only live one and exists nowhere but in this process.
//! It is kept in `fleet/<store>/<profile>.rescue.json` (0600, in the private
//! state directory, written atomically under the profile's local lock) and
//! pushed to Vault by the next call on this machine that takes the lease:
//! written with check-and-set over the stored record while that still carries
//! a rotation mark or a lost chain (no newer pair was stored meanwhile), then
//! removed. A store that moved on to a live pair of its own (a login
//! elsewhere) wins, and the rescue record is removed. Peers that find the
//! mark and get the old refresh token rejected by Central leave the mark in
//! place and exit 5 for up to 15 minutes (`RESCUE_WAIT` in the core), so no
//! machine replaces the chain while the rescued pair may still come.
//!
//! The trade-off: while it exists, one machine's disk holds a refresh token,
//! which a Vault store otherwise never lets happen. `rescue = false` in
//! `[stores.NAME]` turns it off; the chain is then lost to such an outage.

use std::path::{Path, PathBuf};

use central_auth_core::error::Error;
use central_auth_core::fsutil::nofollow::open_read;
use central_auth_core::fsutil::write_atomically;
use central_auth_core::token::StoredToken;

/// The rescue record of a profile in a store's local directory.
pub fn path(dir: &Path, profile: &str) -> PathBuf {
    dir.join(format!("{profile}.rescue.json"))
}

/// Keeps `record` (a freshly rotated pair) in the rescue record.
pub fn save(path: &Path, record: &StoredToken) -> Result<(), Error> {
    let json = serde_json::to_vec(record)
        .map_err(|e| Error::store(format!("cannot encode the rescue record: {e}")))?;
    write_atomically(path, &json)
}

/// The rescued pair, if a rescue record is waiting. A record that cannot be
/// read is an error naming the file: it may hold the only live refresh token.
pub fn load(path: &Path) -> Result<Option<StoredToken>, Error> {
    let Some(mut file) = open_read(path, "rescue record")? else {
        return Ok(None);
    };
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut text).map_err(|e| {
        Error::store(format!(
            "cannot read the rescue record {}: {e}",
            path.display()
        ))
    })?;
    serde_json::from_slice(&text).map(Some).map_err(|_| {
        Error::store(format!(
            "the rescue record {} is damaged; it may hold the profile's only live refresh token: repair it, or remove it and log in again",
            path.display()
        ))
    })
}

/// Whether a rescue record is waiting (for `status` and `doctor`).
pub fn pending(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Removes the rescue record once its pair is in the store.
pub fn remove(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// What to do with a rescued pair, given the stored record.
#[derive(Debug, PartialEq, Eq)]
pub enum Push {
    /// Write it over the stored record (its mark is still there, or the chain
    /// was marked lost meanwhile).
    Write,
    /// The store holds a live pair of its own: drop the rescued one.
    Drop,
}

/// Decides what the rescued pair does over `stored`: it is written unless the
/// store holds a live pair without a mark (a login elsewhere replaced the
/// chain). A mark or a lost chain means nobody stored a newer pair.
pub fn decide(stored: Option<&StoredToken>) -> Push {
    match stored {
        Some(s) if s.lost.is_none() && s.rotating.is_none() => Push::Drop,
        _ => Push::Write,
    }
}
