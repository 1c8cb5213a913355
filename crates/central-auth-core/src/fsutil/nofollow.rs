//! Opening state files and directories without following symbolic links.
//!
//! Every file under `state/profiles/` is opened with `O_NOFOLLOW`, and every
//! directory there is checked with `lstat` to be a real directory, so a link
//! planted in the state directory can neither redirect a write outside it nor feed
//! the broker a record from elsewhere. A link found there is refused with an
//! [`Error::Store`] naming it and the fix.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use crate::error::Error;

/// Adds `O_NOFOLLOW` to `options` (a no-op off Unix).
pub fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options
}

/// True when `e` is what `open` with `O_NOFOLLOW` returns on a symbolic link.
pub fn is_symlink_error(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// The one-line refusal of a symbolic link at `path`.
pub fn symlink_refused(path: &Path, what: &str) -> Error {
    Error::store(format!(
        "{what} {} is a symbolic link; central-auth does not follow links in its state directory: remove the link (`rm {}`) and retry",
        path.display(),
        path.display()
    ))
}

/// Opens `path` for reading without following a link. `Ok(None)` when absent.
pub fn open_read(path: &Path, what: &str) -> Result<Option<File>, Error> {
    let mut options = OpenOptions::new();
    options.read(true);
    match no_follow(&mut options).open(path) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) if is_symlink_error(&e) => Err(symlink_refused(path, what)),
        Err(e) => Err(Error::store(format!(
            "cannot open {what} {}: {e}",
            path.display()
        ))),
    }
}

/// Checks that `dir` is a real directory (not a link). `Ok(false)` when absent.
pub fn check_dir(dir: &Path, what: &str) -> Result<bool, Error> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => Err(symlink_refused(dir, what)),
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(_) => Err(Error::store(format!(
            "{what} {} is not a directory; move it away and retry",
            dir.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::store(format!(
            "cannot inspect {what} {}: {e}",
            dir.display()
        ))),
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open_read(&link, "token file").unwrap_err().to_string();
        assert!(e.contains("is a symbolic link"), "{e}");
        assert!(open_read(&dir.path().join("none"), "x").unwrap().is_none());
        let dlink = dir.path().join("dlink");
        std::os::unix::fs::symlink(dir.path(), &dlink).unwrap();
        assert!(check_dir(&dlink, "dir").is_err());
        assert!(check_dir(dir.path(), "dir").unwrap());
    }
}
