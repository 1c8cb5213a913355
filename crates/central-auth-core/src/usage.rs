//! Which tools used a profile recently, so `status` can show who depends on it.
//!
//! A small JSON map `client -> last use (unix seconds)` next to the record,
//! `profiles/<name>/usage.json`, read without following links. It is written under the profile lock, and only when
//! the client's entry is older than [`RECORD_EVERY`], so a busy cached path does not
//! write on every call.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use crate::error::Error;
use crate::fsutil::{ensure_private_dir, nofollow, write_atomically};
use crate::local_state::{profile_dir, USAGE_FILE};
use crate::profile_name::ProfileName;

/// Minimum interval between two recorded uses by the same client.
pub const RECORD_EVERY: Duration = Duration::from_secs(60);

/// Last use per client name.
pub type Usage = BTreeMap<String, i64>;

/// The usage file of a profile.
pub fn path(state_dir: &Path, profile: &ProfileName) -> PathBuf {
    profile_dir(state_dir, profile).join(USAGE_FILE)
}

/// Reads the usage map; a missing or damaged file is an empty map (it is advisory).
pub fn read(path: &Path) -> Usage {
    use std::io::Read;
    let Ok(Some(file)) = nofollow::open_read(path, "usage file") else {
        return Usage::default();
    };
    let mut text = String::new();
    if file.take(64 * 1024).read_to_string(&mut text).is_err() {
        return Usage::default();
    }
    serde_json::from_str(&text).unwrap_or_default()
}

/// Records that `client` used the profile at `now`, if its entry is stale.
/// Call with the profile lock held.
pub fn record(path: &Path, client: &str, now: OffsetDateTime) -> Result<(), Error> {
    let mut usage = read(path);
    let now_s = now.unix_timestamp();
    if let Some(last) = usage.get(client) {
        if now_s - last < RECORD_EVERY.as_secs() as i64 && now_s >= *last {
            return Ok(());
        }
    }
    usage.insert(client.to_owned(), now_s);
    // A profile in a shared store has no file-store directory of its own yet.
    if let Some(dir) = path.parent().filter(|d| !d.is_dir()) {
        ensure_private_dir(dir)?;
    }
    let json = serde_json::to_vec(&usage)
        .map_err(|e| Error::store(format!("cannot encode usage record: {e}")))?;
    write_atomically(path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_at_most_once_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("u.json");
        let t0 = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        record(&p, "git", t0).unwrap();
        record(&p, "git", t0 + time::Duration::seconds(30)).unwrap();
        assert_eq!(read(&p)["git"], t0.unix_timestamp());
        record(&p, "git", t0 + time::Duration::seconds(61)).unwrap();
        record(&p, "kubectl", t0).unwrap();
        let u = read(&p);
        assert_eq!(u["git"], t0.unix_timestamp() + 61);
        assert_eq!(u.len(), 2);
    }
}
