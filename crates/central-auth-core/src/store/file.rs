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
//! refresh, nothing sent to Central. See [`crate::store::migrate`].

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::ProfileName;
use crate::error::Error;
use crate::store::lock::FileLock;
use crate::store::nofollow;
use crate::store::{migrate, StoreGuard, TokenStore, Version};
use crate::token::{StoredToken, FORMAT_VERSION};

/// Largest record we are willing to read; real ones are well under 4 KiB.
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// The record's file name inside a profile directory.
pub const RECORD_FILE: &str = "token.json";
/// The lock's file name inside a profile directory.
pub const LOCK_FILE: &str = "lock";
/// The usage file's name inside a profile directory.
pub const USAGE_FILE: &str = "usage.json";

/// Token store in a local directory.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    /// A store rooted at the state directory `state_dir`.
    pub fn new(state_dir: &Path) -> FileStore {
        FileStore {
            dir: state_dir.join("profiles"),
        }
    }

    /// The directory holding the profile directories.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of one profile.
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
                migrate::clear_way(self, profile, bound)?;
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

/// Creates `dir` (and parents) with mode 0700; refuses an existing one that others
/// can write to, or a symbolic link.
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            builder.create(dir).map_err(|e| {
                Error::store(format!(
                    "cannot create state directory {}: {e}; create it or set CENTRAL_AUTH_HOME to a writable place",
                    dir.display()
                ))
            })?;
            std::fs::symlink_metadata(dir)
                .map_err(|e| Error::store(format!("cannot inspect {}: {e}", dir.display())))?
        }
        Err(e) => {
            return Err(Error::store(format!(
                "cannot inspect {}: {e}",
                dir.display()
            )))
        }
    };
    check_private_dir(dir, &meta)
}

/// Refuses a link, a non-directory, or a directory others can write to.
fn check_private_dir(dir: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    if meta.file_type().is_symlink() {
        return Err(nofollow::symlink_refused(dir, "state directory"));
    }
    if !meta.is_dir() {
        return Err(Error::store(format!(
            "state directory {} is not a directory; move it away and retry",
            dir.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(Error::store(format!(
                "state directory {} is writable by group or others; run `chmod 700 {}`",
                dir.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

impl TokenStore for FileStore {
    fn lock<'a>(
        &'a self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error> {
        let lock = self.lock_profile(profile, bound)?;
        let lock_path = self.lock_path(profile);
        migrate::profile(self, profile, bound)?;
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
            None => Ok(migrate::peek_legacy(self, profile)),
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
        let want = expected.map_or(1, |v| v + 1);
        if record.generation != want {
            return Err(Error::store(format!(
                "BUG: record generation {} written over version {expected:?}",
                record.generation
            )));
        }
        let json = serde_json::to_vec_pretty(record)
            .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
        write_atomically(&self.record, &json)
    }

    fn check_writable(&mut self) -> Result<(), Error> {
        let dir = self
            .record
            .parent()
            .expect("record paths always have a parent directory");
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

/// Reads and checks a record: permissions, size, format.
pub fn read_record(path: &Path) -> Result<Option<StoredToken>, Error> {
    let mut options = OpenOptions::new();
    options.read(true);
    let mut file = match nofollow::no_follow(&mut options).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if nofollow::is_symlink_error(&e) => {
            return Err(nofollow::symlink_refused(path, "token file"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Error::store(format!(
                "cannot read token file {}: permission denied; it must be owned by you with mode 0600 (`chmod 600 {}`)",
                path.display(),
                path.display()
            )))
        }
        Err(e) => {
            return Err(Error::store(format!(
                "cannot read token file {}: {e}",
                path.display()
            )))
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::store(format!("cannot inspect {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::store(format!(
                "token file {} is readable by group or others (mode {:o}); run `chmod 600 {}` and consider the tokens in it exposed",
                path.display(),
                meta.permissions().mode() & 0o777,
                path.display()
            )));
        }
    }
    if meta.len() > MAX_RECORD_BYTES {
        return Err(Error::store(format!(
            "token file {} is {} bytes, too large to be a token record (`central-auth import --force` replaces it, `central-auth logout` removes it)",
            path.display(),
            meta.len()
        )));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| Error::store(format!("cannot read {}: {e}", path.display())))?;
    let record: StoredToken = serde_json::from_str(&text).map_err(|e| {
        Error::store(format!(
            "token file {} is damaged ({}; `central-auth import --force` replaces it, `central-auth logout` removes it)",
            path.display(),
            e.classify_name()
        ))
    })?;
    if record.format != FORMAT_VERSION {
        return Err(Error::store(format!(
            "token file {} has format {} but this central-auth reads format {FORMAT_VERSION}; use a matching central-auth version, or replace it with `central-auth import --force`",
            path.display(),
            record.format
        )));
    }
    Ok(Some(record))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        if self.is_eof() {
            "truncated"
        } else if self.is_syntax() {
            "not JSON"
        } else {
            "missing or wrong fields"
        }
    }
}

/// Writes `bytes` to `path` atomically: temp file (0600) in the same directory,
/// fsync, rename, fsync the directory. The caller holds the lock that guards
/// `path`, so any temp file left beside it is a killed writer's and is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomically_with(path, bytes, Writers::Locked, |file, bytes| {
        file.write_all(bytes)
    })
}

/// [`write_atomically`] for a file that several processes may replace at the
/// same moment without a lock (another tool's token cache, written by every
/// `central-auth cencli` run): a concurrent writer's temp file may be in
/// flight, so only temp files older than a minute, left by a killed writer, are
/// removed. Readers see the old or the new content, never a mix.
pub fn replace_shared(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomically_with(path, bytes, Writers::Unlocked, |file, bytes| {
        file.write_all(bytes)
    })
}

/// Who else may be writing the same file, which decides what temp files beside
/// it are stale.
#[derive(Clone, Copy)]
enum Writers {
    /// Only lock holders: every temp file left is stale.
    Locked,
    /// Anyone, at any moment: a temp file is stale after a minute.
    Unlocked,
}

/// The one atomic write, with the step that writes the bytes into the temp file
/// given by the caller (tests inject a failure half-way through it). Each
/// writer's temp file has a name of its own (pid and a counter), so writers in
/// several processes or threads never share one.
fn write_atomically_with(
    path: &Path,
    bytes: &[u8],
    writers: Writers,
    write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<(), Error> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::store(format!("{} has no parent directory", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.tmp.");
    remove_stale_temp_files(dir, &prefix, writers);
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!("{prefix}{}.{n}", std::process::id()));
    let fail = |what: &str, e: std::io::Error| {
        let _ = std::fs::remove_file(&tmp);
        Error::store(format!(
            "cannot {what} {}: {e}; nothing was replaced on disk",
            tmp.display()
        ))
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = nofollow::no_follow(&mut options)
        .open(&tmp)
        .map_err(|e| fail("create", e))?;
    write(&mut file, bytes).map_err(|e| fail("write", e))?;
    file.sync_all().map_err(|e| fail("sync", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| fail("rename", e))?;
    sync_dir(path)
}

/// Removes the temp files named `prefix…` in `dir` that a killed writer left
/// behind: all of them when writers hold a lock, else those older than a minute.
fn remove_stale_temp_files(dir: &Path, prefix: &str, writers: Writers) {
    let stale = |e: &std::fs::DirEntry| match writers {
        Writers::Locked => true,
        Writers::Unlocked => e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60)),
    };
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(prefix) && stale(&entry) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

fn sync_dir(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let mut options = OpenOptions::new();
        options.read(true);
        nofollow::no_follow(&mut options)
            .open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::store(format!("cannot sync {}: {e}", dir.display())))?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::secret::SecretString;
    use crate::token::TokenOrigin;
    use time::OffsetDateTime;

    #[test]
    fn replace_shared_never_shows_a_torn_file_to_readers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok_c_x.json");
        write_atomically(&path, b"start").unwrap();
        let bodies: Vec<Vec<u8>> = (0..8u8).map(|i| vec![b'a' + i; 4096]).collect();
        let writers_left = std::sync::atomic::AtomicUsize::new(bodies.len());
        let (reads, failures) = std::thread::scope(|s| {
            let mut writers = Vec::new();
            for b in &bodies {
                let (path, writers_left) = (&path, &writers_left);
                writers.push(s.spawn(move || {
                    let failed = (0..25).filter(|_| replace_shared(path, b).is_err()).count();
                    writers_left.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    failed
                }));
            }
            let mut reads = 0;
            while writers_left.load(std::sync::atomic::Ordering::SeqCst) > 0 {
                let got = std::fs::read(&path).unwrap();
                assert!(
                    got == b"start" || bodies.contains(&got),
                    "a torn read of {} bytes",
                    got.len()
                );
                reads += 1;
            }
            let failures: usize = writers.into_iter().map(|w| w.join().unwrap()).sum();
            (reads, failures)
        });
        assert!(reads > 0);
        assert_eq!(failures, 0, "every concurrent replace succeeded");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["tok_c_x.json".to_owned()], "no temp file left");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

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
        let e = write_atomically_with(&path, &next, Writers::Locked, |file, bytes| {
            file.write_all(&bytes[..bytes.len() / 2])?;
            Err(std::io::Error::other("disk full (injected)"))
        })
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
