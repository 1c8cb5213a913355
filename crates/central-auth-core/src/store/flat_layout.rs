//! The flat store layout of older releases, moved into per-profile directories.
//!
//! The old layout put every profile's files side by side in `profiles/`:
//! `<name>.json` (record), `<name>.lock` and `<name>.usage.json` (usage). It was
//! ambiguous: `p.usage.json` is both the usage file of profile `p` and the record
//! of profile `p.usage`. The content decides: a file that parses as a usage map
//! (`{"client": seconds, ...}`, which no token record does) is usage; anything else
//! named `<name>.json` is the record of `<name>`, moved as it is (a damaged or
//! too-open record is then reported at its new path, never dropped).
//!
//! A profile is migrated the first time it is locked: under its new lock and its
//! old `<name>.lock` (so an older central-auth running at the same time waits), the
//! files are renamed into `profiles/<name>/`; nothing is refreshed or sent to
//! Central. A record already present in the new layout wins and the old file stays.
//! An old file standing where a profile directory must go (`profiles/a.json` is
//! profile `a`'s old record and profile `a.json`'s directory) is first moved by
//! migrating its owner.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::fsutil::nofollow;
use crate::local_state::USAGE_FILE;
use crate::profile_name::ProfileName;
use crate::store::lock::FileLock;
use crate::store::record::read_record;
use crate::token::StoredToken;

/// What the move needs of the file store: its paths, and taking a profile's
/// lock (which moves that profile's old files), to clear the way for another.
/// The file store implements it, so this module never names the store.
pub(crate) trait FileLayout {
    /// The directory holding the profile directories (and the old flat files).
    fn dir(&self) -> &Path;
    /// The directory of one profile.
    fn profile_dir(&self, profile: &ProfileName) -> PathBuf;
    /// The record path of a profile.
    fn record_path(&self, profile: &ProfileName) -> PathBuf;
    /// Takes `profile`'s lock, waiting at most `bound`, and releases it.
    fn lock_and_release(&self, profile: &ProfileName, bound: Duration) -> Result<(), Error>;
}

/// Old files larger than this are neither records nor usage maps.
const MAX_OLD_FILE: u64 = 64 * 1024;

/// What an old-layout file holds.
#[derive(Debug, PartialEq, Eq)]
enum Old {
    Absent,
    Usage,
    Record,
}

fn classify(path: &Path) -> Old {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Old::Absent;
    };
    if !meta.is_file() {
        return Old::Absent;
    }
    let Ok(Some(mut file)) = nofollow::open_read(path, "old state file") else {
        return Old::Record;
    };
    let mut bytes = Vec::new();
    if (&mut file)
        .take(MAX_OLD_FILE)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return Old::Record;
    }
    if serde_json::from_slice::<BTreeMap<String, i64>>(&bytes).is_ok() {
        Old::Usage
    } else {
        Old::Record
    }
}

fn old_path(store: &impl FileLayout, profile: &str, suffix: &str) -> PathBuf {
    store.dir().join(format!("{profile}{suffix}"))
}

/// Migrates `profile`'s old files, if any. Call with the profile's new lock held.
/// The common case (nothing old) costs two `lstat` calls.
pub(crate) fn profile(
    store: &impl FileLayout,
    profile: &ProfileName,
    bound: Duration,
) -> Result<(), Error> {
    let old_record = old_path(store, profile.as_str(), ".json");
    let old_usage = old_path(store, profile.as_str(), ".usage.json");
    let record = classify(&old_record) == Old::Record;
    let usage = classify(&old_usage) == Old::Usage;
    if !record && !usage {
        return Ok(());
    }
    let old_lock = old_path(store, profile.as_str(), ".lock");
    let held = FileLock::acquire(&old_lock, bound, profile.as_str())?;
    let dir = store.profile_dir(profile);
    if record && classify(&old_record) == Old::Record {
        move_if_absent(&old_record, &store.record_path(profile))?;
    }
    if usage && classify(&old_usage) == Old::Usage {
        move_if_absent(&old_usage, &dir.join(USAGE_FILE))?;
    }
    // The old lock guards nothing any more; remove it while holding it.
    let _ = std::fs::remove_file(&old_lock);
    drop(held);
    sync(store.dir())?;
    sync(&dir)
}

fn move_if_absent(from: &Path, to: &Path) -> Result<(), Error> {
    if std::fs::symlink_metadata(to).is_ok() {
        return Ok(());
    }
    std::fs::rename(from, to).map_err(|e| {
        Error::store(format!(
            "cannot move {} to {} (new state layout): {e}; move it by hand and retry",
            from.display(),
            to.display()
        ))
    })
}

fn sync(dir: &Path) -> Result<(), Error> {
    match nofollow::open_read(dir, "state directory")? {
        Some(d) => d
            .sync_all()
            .map_err(|e| Error::store(format!("cannot sync {}: {e}", dir.display()))),
        None => Ok(()),
    }
}

/// Moves the old-layout file standing at `profile`'s directory path by migrating
/// the profile it belongs to. Old lock files nobody holds are removed.
pub(crate) fn clear_way(
    store: &impl FileLayout,
    profile: &ProfileName,
    bound: Duration,
) -> Result<(), Error> {
    let name = profile.as_str();
    let owners = [".usage.json", ".json", ".lock"]
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .filter_map(|owner| ProfileName::new(owner).ok());
    for owner in owners {
        store.lock_and_release(&owner, bound)?;
    }
    let path = store.profile_dir(profile);
    if name.ends_with(".lock") && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
        let held = FileLock::acquire(&path, bound, name)?;
        let _ = std::fs::remove_file(&path);
        drop(held);
    }
    Ok(())
}

/// The old-layout record of `profile`, for display before its first migration.
pub(crate) fn peek_legacy(store: &impl FileLayout, profile: &ProfileName) -> Option<StoredToken> {
    let path = old_path(store, profile.as_str(), ".json");
    if classify(&path) == Old::Record {
        read_record(&path).ok().flatten()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::file::FileStore;
    use crate::store::TokenStore;

    fn put(path: &Path, bytes: &[u8]) {
        std::fs::write(path, bytes).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    #[test]
    fn ambiguous_old_names_go_by_content() {
        let state = tempfile::tempdir().unwrap();
        let store = FileStore::new(state.path());
        store.ensure_dir().unwrap();
        // Profile `p`: record and usage; profile `p.usage`: a record whose old
        // name is also `p`'s usage file name. Here it is a record.
        let record = |g: u64| serde_json::to_vec(&crate::store::file::tests::record(g)).unwrap();
        put(&store.dir().join("p.json"), &record(3));
        put(&store.dir().join("p.usage.json"), &record(7));
        put(&store.dir().join("p.lock"), b"");
        let p = ProfileName::new("p").unwrap();
        let pu = ProfileName::new("p.usage").unwrap();
        assert_eq!(store.peek(&pu).unwrap().unwrap().generation, 7);
        let mut g = store.lock(&p, Duration::from_secs(1)).unwrap();
        assert_eq!(g.read().unwrap().unwrap().generation, 3);
        drop(g);
        // `p.usage.json` was not taken as p's usage.
        assert!(store.dir().join("p.usage.json").exists());
        assert!(!store.dir().join("p.lock").exists());
        let mut g = store.lock(&pu, Duration::from_secs(1)).unwrap();
        assert_eq!(g.read().unwrap().unwrap().generation, 7);
        drop(g);
        assert!(!store.dir().join("p.usage.json").exists());
        assert!(!store.dir().join("p.json").exists());
    }

    #[test]
    fn usage_map_is_usage_and_old_file_in_the_way_is_moved() {
        let state = tempfile::tempdir().unwrap();
        let store = FileStore::new(state.path());
        store.ensure_dir().unwrap();
        put(&store.dir().join("a.usage.json"), br#"{"git":1800000000}"#);
        put(&store.dir().join("a.lock"), b"");
        // Profile `a.lock`'s directory is where `a`'s old lock file is.
        let al = ProfileName::new("a.lock").unwrap();
        drop(store.lock(&al, Duration::from_secs(1)).unwrap());
        assert!(store.profile_dir(&al).is_dir());
        assert!(store.dir().join("a").join(USAGE_FILE).is_file());
        assert!(!store.dir().join("a.usage.json").exists());
    }
}
