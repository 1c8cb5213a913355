//! Replacing a file atomically: temp file (0600) beside it, fsync, rename,
//! fsync the directory. A reader sees the old content or the new, never a mix.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::Error;
use crate::fsutil::nofollow;

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
pub(crate) enum Writers {
    /// Only lock holders: every temp file left is stale.
    Locked,
    /// Anyone, at any moment: a temp file is stale after a minute.
    Unlocked,
}

/// The one atomic write, with the step that writes the bytes into the temp file
/// given by the caller (tests inject a failure half-way through it). Each
/// writer's temp file has a name of its own (pid and a counter), so writers in
/// several processes or threads never share one.
pub(crate) fn write_atomically_with(
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

/// Fsyncs the directory holding `path`, so a rename into it is durable.
pub fn sync_dir(path: &Path) -> Result<(), Error> {
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
mod tests {
    use super::*;

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
}
