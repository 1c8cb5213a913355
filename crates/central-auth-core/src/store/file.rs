//! The file token store: one directory per profile.
//!
//! Layout under the state directory (mode 0700): `profiles/` (0700) and, for each
//! profile, `profiles/<name>/` (0700) holding `token.json` (the record, 0600),
//! `lock` and `usage.json`. Two profiles never share a path, whatever their names.
//! Writes go to a temp file in the same directory, are fsynced, renamed over the
//! record, and the directory is fsynced, so a crash leaves the old record or the new
//! one. A record readable by group or others is refused with the `chmod` to run.
//! No file or directory there is reached through a symbolic link ([`nofollow`]).
//!
//! A store written by an older central-auth (flat `profiles/<name>.json`,
//! `<name>.lock`, `<name>.usage.json`) is moved into the new layout the first time
//! a profile is locked, by renames under the profile's old and new locks: no
//! refresh, nothing sent to Central. See [`crate::store::flat_layout`].

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::fsutil::{check_private_dir, ensure_private_dir, nofollow, sync_dir};
use crate::profile_name::ProfileName;
use crate::store::lock::FileLock;
use crate::store::{flat_layout, StoreGuard, TokenStore, Version};
use crate::token::StoredToken;

pub use crate::store::record::read_record;

/// The atomic writes, re-exported where callers outside the core found them.
pub use crate::fsutil::{replace_shared, write_atomically};

/// The record's file name inside a profile directory.
pub const RECORD_FILE: &str = "token.json";
/// The lock's file name inside a profile directory.
pub const LOCK_FILE: &str = "lock";

/// Token store in a local directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store rooted at the state directory `state_dir`.
    pub fn new(state_dir: &Path) -> FileStore {
        FileStore {
            dir: crate::local_state::profiles_dir(state_dir),
        }
    }

    /// The directory holding the profile directories.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of one profile ([`crate::local_state::profile_dir`]).
    pub fn profile_dir(&self, profile: &ProfileName) -> PathBuf {
        self.dir.join(profile.as_str())
    }

    /// The record path of a profile.
    pub fn record_path(&self, profile: &ProfileName) -> PathBuf {
        self.profile_dir(profile).join(RECORD_FILE)
    }

    /// The lock path of a profile.
    pub fn lock_path(&self, profile: &ProfileName) -> PathBuf {
        self.profile_dir(profile).join(LOCK_FILE)
    }

    /// Creates the directory chain with mode 0700 if needed.
    pub fn ensure_dir(&self) -> Result<(), Error> {
        ensure_private_dir(&self.dir)
    }

    /// Creates the profile's directory (0700), first moving an old-layout file that
    /// is in its way into its owner's directory.
    fn ensure_profile_dir(&self, profile: &ProfileName, bound: Duration) -> Result<(), Error> {
        self.ensure_dir()?;
        let dir = self.profile_dir(profile);
        // One lstat on the common path (the directory exists).
        match std::fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_file() => {
                flat_layout::clear_way(self, profile, bound)?;
                ensure_private_dir(&dir)
            }
            Ok(meta) => check_private_dir(&dir, &meta),
            Err(_) => ensure_private_dir(&dir),
        }
    }

    /// Takes the lock of a profile whose directory may have to be created first.
    pub(crate) fn lock_profile(
        &self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<FileLock, Error> {
        self.ensure_profile_dir(profile, bound)?;
        FileLock::acquire(&self.lock_path(profile), bound, profile.as_str())
    }
}

impl flat_layout::FileLayout for FileStore {
    fn dir(&self) -> &Path {
        FileStore::dir(self)
    }

    fn profile_dir(&self, profile: &ProfileName) -> PathBuf {
        FileStore::profile_dir(self, profile)
    }

    fn record_path(&self, profile: &ProfileName) -> PathBuf {
        FileStore::record_path(self, profile)
    }

    fn lock_and_release(&self, profile: &ProfileName, bound: Duration) -> Result<(), Error> {
        drop(self.lock(profile, bound)?);
        Ok(())
    }
}

impl TokenStore for FileStore {
    fn lock<'a>(
        &'a self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error> {
        let lock = self.lock_profile(profile, bound)?;
        let lock_path = self.lock_path(profile);
        flat_layout::profile(self, profile, bound)?;
        Ok(Box::new(FileGuard {
            record: self.record_path(profile),
            lock_path,
            lock,
            bound,
            profile: profile.to_string(),
        }))
    }

    fn peek(&self, profile: &ProfileName) -> Result<Option<StoredToken>, Error> {
        match read_record(&self.record_path(profile))? {
            Some(record) => Ok(Some(record)),
            // Not migrated yet: show what the next locked call will move.
            None => Ok(flat_layout::peek_legacy(self, profile)),
        }
    }

    fn location(&self, profile: &ProfileName) -> String {
        self.record_path(profile).display().to_string()
    }

    fn lock_held(&self, profile: &ProfileName) -> Result<bool, Error> {
        FileLock::is_held(&self.lock_path(profile))
    }

    fn kind(&self) -> &'static str {
        "file"
    }

    #[cfg(unix)]
    fn stamp(&self, profile: &ProfileName) -> Option<super::RecordStamp> {
        use std::os::unix::fs::MetadataExt;
        // lstat: a link in the record's place is never followed, and its
        // stamp matches no record read through the lock.
        let m = std::fs::symlink_metadata(self.record_path(profile)).ok()?;
        Some(super::RecordStamp([
            m.dev() as i64,
            m.ino() as i64,
            m.size() as i64,
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        ]))
    }
}

struct FileGuard {
    record: PathBuf,
    lock_path: PathBuf,
    lock: FileLock,
    bound: Duration,
    profile: String,
}

impl StoreGuard for FileGuard {
    fn read(&mut self) -> Result<Option<StoredToken>, Error> {
        read_record(&self.record)
    }

    fn write(&mut self, record: &StoredToken, expected: Option<Version>) -> Result<(), Error> {
        self.relock_if_replaced()?;
        self.check_version(expected)?;
        super::check_next_generation(record, expected)?;
        let json = serde_json::to_vec_pretty(record)
            .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
        write_atomically(&self.record, &json)
    }

    fn check_writable(&mut self) -> Result<(), Error> {
        let dir = self.record.parent().ok_or_else(|| {
            Error::store(format!(
                "token record path {} has no directory: set CENTRAL_AUTH_HOME to a directory",
                self.record.display()
            ))
        })?;
        // The directory may have been removed while we waited; recreate it.
        ensure_private_dir(dir)?;
        let probe = dir.join(format!(".write-probe.{}", std::process::id()));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        match nofollow::no_follow(&mut options).open(&probe) {
            Ok(_) => {
                let _ = std::fs::remove_file(&probe);
                Ok(())
            }
            Err(e) => Err(Error::store(format!(
                "cannot write in {}: {e}; nothing was sent to Central, fix the directory (or set CENTRAL_AUTH_HOME) and retry",
                dir.display()
            ))),
        }
    }

    fn delete(&mut self, expected: Version) -> Result<(), Error> {
        self.relock_if_replaced()?;
        self.check_version(Some(expected))?;
        std::fs::remove_file(&self.record)
            .map_err(|e| Error::store(format!("cannot delete {}: {e}", self.record.display())))?;
        sync_dir(&self.record)
    }

    fn discard(&mut self) -> Result<(), Error> {
        self.relock_if_replaced()?;
        match std::fs::remove_file(&self.record) {
            Ok(()) => sync_dir(&self.record),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::store(format!(
                "cannot remove {}: {e}",
                self.record.display()
            ))),
        }
    }

    fn waited(&self) -> Duration {
        self.lock.waited()
    }
}

impl FileGuard {
    /// If the lock file was deleted or replaced while we held it, another process
    /// may hold a lock on the new file: take that one too before writing, so the
    /// compare-and-write below is still made under mutual exclusion. A pair fresh
    /// from Central is then saved if nobody wrote in between, and refused (with
    /// nothing written) if somebody did.
    fn relock_if_replaced(&mut self) -> Result<(), Error> {
        if self.lock.still_guards(&self.lock_path) {
            return Ok(());
        }
        if let Some(dir) = self.lock_path.parent() {
            ensure_private_dir(dir)?;
        }
        self.lock = FileLock::acquire(&self.lock_path, self.bound, &self.profile)?;
        Ok(())
    }

    /// The compare of compare-and-write. A record that vanished (its directory was
    /// wiped) counts as older than anything: writing a pair fresh from Central then
    /// loses nothing, while refusing would lose the only live chain.
    fn check_version(&self, expected: Option<Version>) -> Result<(), Error> {
        let current = read_record(&self.record)?.map(|r| r.generation);
        if current == expected || current.is_none() {
            Ok(())
        } else {
            Err(Error::store(format!(
                "token record {} changed underneath this process (version {current:?}, expected {expected:?}); nothing was written, retry the command",
                self.record.display()
            )))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::secret::SecretString;
    use crate::token::TokenOrigin;
    use crate::token::FORMAT_VERSION;
    use std::fs::File;
    use std::io::{Read, Write};
    use time::OffsetDateTime;

    pub(crate) fn record(generation: u64) -> StoredToken {
        let now = OffsetDateTime::now_utc();
        StoredToken {
            format: FORMAT_VERSION,
            generation,
            access_token: SecretString::from(format!("at{generation}")),
            refresh_token: Some(SecretString::from(format!("rt{generation}"))),
            token_type: "bearer".into(),
            issued_at: now,
            expires_at: now + time::Duration::hours(2),
            refresh_issued_at: Some(now),
            origin: TokenOrigin::Import,
            access_rejected: false,
            rotating: None,
            lost: None,
            tenant_id: None,
            tenant_name: None,
        }
    }

    #[test]
    fn write_read_and_compare() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let p = ProfileName::new("p").unwrap();
        let mut g = store.lock(&p, Duration::from_secs(1)).unwrap();
        assert!(g.read().unwrap().is_none());
        g.write(&record(1), None).unwrap();
        assert_eq!(g.read().unwrap().unwrap().generation, 1);
        assert!(g.write(&record(1), None).is_err(), "stale expectation");
        g.write(&record(2), Some(1)).unwrap();
        drop(g);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.record_path(&p))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = std::fs::metadata(store.dir()).unwrap().permissions().mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
        assert_eq!(store.peek(&p).unwrap().unwrap().generation, 2);
    }

    #[cfg(unix)]
    #[test]
    fn group_readable_record_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let p = ProfileName::new("p").unwrap();
        store
            .lock(&p, Duration::from_secs(1))
            .unwrap()
            .write(&record(1), None)
            .unwrap();
        let path = store.record_path(&p);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = store.peek(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
    }

    /// The write replaces the record by rename: a reader that opened the record
    /// before the write still reads the old record, whole (an in-place rewrite
    /// would show it a truncated or new one), and a fresh open sees the new one.
    #[test]
    fn a_write_replaces_the_record_and_never_rewrites_it_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let p = ProfileName::new("p").unwrap();
        let mut g = store.lock(&p, Duration::from_secs(1)).unwrap();
        g.write(&record(1), None).unwrap();
        let old_bytes = std::fs::read(store.record_path(&p)).unwrap();
        let mut reader = File::open(store.record_path(&p)).unwrap();
        g.write(&record(2), Some(1)).unwrap();
        let mut seen = Vec::new();
        reader.read_to_end(&mut seen).unwrap();
        assert_eq!(
            seen, old_bytes,
            "the open reader sees the old record, whole"
        );
        let old: StoredToken = serde_json::from_slice(&seen).unwrap();
        assert_eq!(old.generation, 1);
        assert_eq!(g.read().unwrap().unwrap().generation, 2);
    }

    /// A write that fails half-way (here: half the bytes written, then an I/O
    /// error) leaves the previous record intact and no temp file behind.
    #[test]
    fn a_write_failing_half_way_leaves_the_previous_record() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let p = ProfileName::new("p").unwrap();
        store
            .lock(&p, Duration::from_secs(1))
            .unwrap()
            .write(&record(1), None)
            .unwrap();
        let path = store.record_path(&p);
        let before = std::fs::read(&path).unwrap();
        let next = serde_json::to_vec_pretty(&record(2)).unwrap();
        let e = crate::fsutil::write_atomically_with(
            &path,
            &next,
            crate::fsutil::Writers::Locked,
            |file, bytes| {
                file.write_all(&bytes[..bytes.len() / 2])?;
                Err(std::io::Error::other("disk full (injected)"))
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("disk full (injected)"), "{e}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "previous record intact"
        );
        assert_eq!(store.peek(&p).unwrap().unwrap().generation, 1);
        let names: Vec<String> = std::fs::read_dir(store.dir())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp."))
            .collect();
        assert!(names.is_empty(), "no temp file left: {names:?}");
    }

    #[test]
    fn damaged_record_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let p = ProfileName::new("p").unwrap();
        ensure_private_dir(&store.profile_dir(&p)).unwrap();
        write_atomically(&store.record_path(&p), b"{\"format\":1,").unwrap();
        let e = store.peek(&p).unwrap_err().to_string();
        assert!(
            e.contains("damaged (truncated;") && e.contains("import --force"),
            "{e}"
        );
    }
}
