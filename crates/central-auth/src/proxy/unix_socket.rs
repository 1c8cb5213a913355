//! The proxy's Unix socket: created with mode 0600 in a directory only the
//! owner can write, a stale socket file replaced, a live one left alone, and
//! the file removed when the proxy stops.
//!
//! Why no other user can connect, in order: the directory is the owner's and
//! not writable by group or others, so nobody else can create, replace or
//! rename anything in it; the socket is bound with umask 0177, so it is born
//! 0600 (there is no moment at which it exists with a looser mode, as a
//! `chmod` after `bind` would leave); connecting needs write permission on
//! the socket. And every connection's peer credentials are checked anyway
//! (`SO_PEERCRED`), so a mode loosened later still admits nobody else.

use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use central_auth_core::Error;

/// Longest socket path Linux accepts (`sun_path` is 108 bytes with its NUL).
const MAX_PATH_BYTES: usize = 107;

/// The bound socket file; removed on drop if it is still the one bound here.
#[derive(Debug)]
pub struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        // Another proxy may have replaced a file we lost: remove only ours.
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.dev() == self.dev && m.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// Binds `path` after checking its directory; see the module doc.
pub fn bind(path: &Path) -> Result<(UnixListener, SocketFile), Error> {
    let shown = path.display();
    if path.as_os_str().len() > MAX_PATH_BYTES {
        return Err(Error::bad_input(format!(
            "--unix-socket {shown} is longer than {MAX_PATH_BYTES} bytes, the most a socket path may have; choose a shorter path (e.g. under $XDG_RUNTIME_DIR)"
        )));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    check_directory(dir)?;
    clear_stale(path)?;
    let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = UnixListener::bind(path);
    rustix::process::umask(old);
    let listener = bound.map_err(|e| {
        Error::bad_input(format!(
            "cannot listen on {shown}: {e}; choose another --unix-socket"
        ))
    })?;
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| Error::store(format!("cannot inspect {shown}: {e}")))?;
    let file = SocketFile {
        path: path.to_owned(),
        dev: meta.dev(),
        ino: meta.ino(),
    };
    if meta.permissions().mode() & 0o777 != 0o600 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::store(format!("cannot chmod 600 {shown}: {e}")))?;
    }
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::unavailable(format!("cannot use {shown}: {e}")))?;
    Ok((listener, file))
}

/// The socket's directory must be a real directory (not a link), owned by
/// this user, and writable by nobody else.
fn check_directory(dir: &Path) -> Result<(), Error> {
    let shown = dir.display();
    let meta = std::fs::symlink_metadata(dir).map_err(|e| {
        Error::bad_input(format!(
            "cannot use directory {shown} for --unix-socket: {e}; create it with `mkdir -m 700 {shown}`"
        ))
    })?;
    if meta.file_type().is_symlink() {
        return Err(Error::store(format!(
            "the --unix-socket directory {shown} is a symbolic link; give the real directory it points to"
        )));
    }
    if !meta.is_dir() {
        return Err(Error::bad_input(format!(
            "{shown} is not a directory; --unix-socket needs a path inside a directory you own"
        )));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Err(Error::store(format!(
            "the --unix-socket directory {shown} is owned by uid {}, not by you (uid {me}); run `chown {me} {shown}` or choose a directory of your own (e.g. $XDG_RUNTIME_DIR)",
            meta.uid()
        )));
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Error::store(format!(
            "the --unix-socket directory {shown} is writable by group or others (mode {mode:03o}), so another user could replace the socket; run `chmod go-w {shown}` or choose a directory of your own"
        )));
    }
    Ok(())
}

/// Removes a socket file nobody listens on; refuses a live socket and
/// anything that is not a socket.
fn clear_stale(path: &Path) -> Result<(), Error> {
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::store(format!("cannot inspect {shown}: {e}"))),
    };
    if !meta.file_type().is_socket() {
        return Err(Error::bad_input(format!(
            "{shown} exists and is not a socket; remove it or choose another --unix-socket"
        )));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(Error::bad_input(format!(
            "another proxy serves {shown}; stop it or choose another --unix-socket"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => std::fs::remove_file(path)
            .map_err(|e| Error::store(format!("cannot remove the stale socket {shown}: {e}"))),
        Err(e) => Err(Error::bad_input(format!(
            "cannot tell whether {shown} is in use ({e}); remove it or choose another --unix-socket"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        d
    }

    #[test]
    fn binds_0600_replaces_a_stale_socket_refuses_a_live_one_and_cleans_up() {
        let d = private_dir();
        let path = d.path().join("proxy.sock");
        let (listener, file) = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let err = bind(&path).unwrap_err().to_string();
        assert!(err.contains("another proxy serves"), "{err}");
        // Closing the listener without removing the file leaves a stale socket.
        drop(listener);
        std::mem::forget(file);
        let (_l, file) = bind(&path).unwrap();
        drop(file);
        assert!(!path.exists(), "removed on drop");
        std::fs::write(&path, b"x").unwrap();
        let err = bind(&path).unwrap_err().to_string();
        assert!(err.contains("is not a socket"), "{err}");
        assert!(path.exists(), "a regular file is never removed");
    }

    #[test]
    fn refuses_a_directory_others_can_write_or_a_link() {
        let d = private_dir();
        let open = d.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = bind(&open.join("s")).unwrap_err();
        assert_eq!(err.exit_code(), central_auth_core::ExitCode::Store);
        assert!(err.to_string().contains("chmod go-w"), "{err}");
        let link = d.path().join("link");
        std::os::unix::fs::symlink(d.path(), &link).unwrap();
        let err = bind(&link.join("s")).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        let long = d.path().join("x".repeat(120));
        assert!(bind(&long).unwrap_err().to_string().contains("longer than"));
    }
}
