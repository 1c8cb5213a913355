//! A per-profile exclusive lock on a dedicated lock file, with a bound on waiting.
//!
//! The lock is `flock`-style (`std::fs::File::lock`), held on a file of its own so
//! the data file can be replaced by rename while locked. The kernel releases it
//! when the holder dies. If the lock file is deleted or replaced while we wait, the
//! lock we got would protect nothing, so after locking we check that the path still
//! names the file we locked and start over if not. The lock file is opened with
//! `O_NOFOLLOW`: a link planted at its path is refused, never followed.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Error;

/// A held lock; dropping it unlocks.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    waited: Duration,
}

impl FileLock {
    /// Locks `path` (created 0600 if absent), waiting at most `bound`.
    /// `profile` names the profile in the timeout error.
    pub fn acquire(path: &Path, bound: Duration, profile: &str) -> Result<FileLock, Error> {
        let start = Instant::now();
        let mut pause = Duration::from_millis(1);
        loop {
            let file = open_lock_file(path)?;
            match file.try_lock() {
                Ok(()) => {
                    if still_named_by(&file, path) {
                        return Ok(FileLock {
                            file,
                            waited: start.elapsed(),
                        });
                    }
                    // Someone deleted or replaced the lock file: this lock guards
                    // nothing. Drop it and lock whatever the path names now.
                    continue;
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(e)) => {
                    return Err(Error::store(format!(
                    "cannot lock {}: {e}; check that the state directory is on a local file system",
                    path.display()
                )))
                }
            }
            let waited = start.elapsed();
            if waited >= bound {
                return Err(Error::LockTimeout {
                    profile: profile.to_owned(),
                    path: PathBuf::from(path),
                    waited,
                });
            }
            std::thread::sleep(pause.min(bound - waited));
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }

    /// How long the caller waited.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// True while `path` still names the file this lock is held on.
    pub fn still_guards(&self, path: &Path) -> bool {
        still_named_by(&self.file, path)
    }

    /// True if another holder has the lock right now (for `status`/`doctor`).
    pub fn is_held(path: &Path) -> Result<bool, Error> {
        let mut options = OpenOptions::new();
        options.read(true);
        match crate::fsutil::nofollow::no_follow(&mut options).open(path) {
            Ok(f) => match f.try_lock() {
                Ok(()) => Ok(false),
                Err(TryLockError::WouldBlock) => Ok(true),
                Err(TryLockError::Error(e)) => Err(Error::store(format!(
                    "cannot test lock {}: {e}",
                    path.display()
                ))),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) if crate::fsutil::nofollow::is_symlink_error(&e) => {
                Err(crate::fsutil::nofollow::symlink_refused(path, "lock file"))
            }
            Err(e) => Err(Error::store(format!("cannot open {}: {e}", path.display()))),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first makes it prompt.
        let _ = self.file.unlock();
    }
}

fn open_lock_file(path: &Path) -> Result<File, Error> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use crate::fsutil::nofollow::{is_symlink_error, no_follow, symlink_refused};
    // On a read-only state directory an existing lock file can still be locked
    // through a read-only handle, so cached tokens keep working there.
    no_follow(&mut options).open(path).or_else(|e| {
        if is_symlink_error(&e) {
            return Err(e);
        }
        let mut read_only = OpenOptions::new();
        read_only.read(true);
        no_follow(&mut read_only).open(path).map_err(|_| e)
    }).map_err(|e| {
        if is_symlink_error(&e) {
            return symlink_refused(path, "lock file");
        }
        Error::store(format!(
            "cannot open lock file {}: {e}; check that the state directory exists and is writable by you",
            path.display()
        ))
    })
}

#[cfg(unix)]
fn still_named_by(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_named_by(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_locker_times_out_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.lock");
        let held = FileLock::acquire(&path, Duration::from_secs(1), "p").unwrap();
        assert!(FileLock::is_held(&path).unwrap());
        let e = FileLock::acquire(&path, Duration::from_millis(50), "p").unwrap_err();
        assert!(matches!(e, Error::LockTimeout { .. }), "{e}");
        drop(held);
        assert!(!FileLock::is_held(&path).unwrap());
        FileLock::acquire(&path, Duration::from_millis(50), "p").unwrap();
    }

    #[test]
    fn deleted_lock_file_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.lock");
        let held = FileLock::acquire(&path, Duration::from_secs(1), "p").unwrap();
        std::fs::remove_file(&path).unwrap();
        // A new locker creates a fresh file and gets it; the old holder's file is
        // no longer what the path names.
        let second = FileLock::acquire(&path, Duration::from_millis(100), "p").unwrap();
        assert!(!still_named_by(&held.file, &path));
        assert!(still_named_by(&second.file, &path));
    }
}
