//! Files other tools own (cencli's `config.yaml` and token cache,
//! `~/.vault-token`, a Vault store's `token_file`, `secret_id_file` and
//! `jwt_file`), checked by OpenSSH's StrictModes rule before a byte is read or
//! written.
//!
//! The rule ([`flaw`], also what `strict` applies to central-auth's own home):
//! - owned by the effective user or root;
//! - not writable by group or others;
//! - holding a secret ([`Readers::Private`]): not readable by group or others,
//!   with the allowances of [`Readers`] for root-owned files that are shared on
//!   purpose (a root Vault Agent sink's `mode = 0640`, Kubernetes' 0644
//!   service-account token);
//! - not a symbolic link ([`Rule::follow_links`] false): a file is opened with
//!   `O_NOFOLLOW` and the opened file's own `fstat` is checked, so what is read
//!   is what was checked. Only `jwt_file` follows links: the kubelet publishes a
//!   pod's token as `token -> ..data/token`; the file reached is checked.
//!
//! A refusal is an [`Error::Store`] (exit 6) naming the file and the command
//! that fixes it.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use crate::error::Error;
use crate::fsutil::nofollow;

/// Who may read a file besides its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Anyone: the file holds no secret (or the caller only warns).
    Any,
    /// Nobody: the file holds a secret.
    Private,
    /// Nobody, but a root-owned file may be readable by its group (a Vault
    /// Agent running as root shares its sink by group, `mode = 0640`).
    GroupIfRoot,
    /// Nobody, but a root-owned file may be readable by anyone (Kubernetes
    /// mounts a service-account token root-owned 0644 by default).
    AnyIfRoot,
}

/// How one kind of foreign file is checked.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// What the file is, as messages name it (`cencli config`).
    pub what: &'static str,
    /// Who may read it besides its owner.
    pub readers: Readers,
    /// Follow symbolic links and check the file reached (only `jwt_file`).
    pub follow_links: bool,
}

/// What is wrong with a file's owner or mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    /// Owned by this uid, neither the effective user nor root.
    Owner(u32),
    /// Writable by group or others (the mode).
    Writable(u32),
    /// Holds a secret and is readable by group or others (the mode).
    Readable(u32),
}

/// The one StrictModes rule: owner `uid` and `mode` (permission bits) checked
/// for the effective user `me` and `readers`.
pub fn flaw(uid: u32, mode: u32, readers: Readers, me: u32) -> Option<Flaw> {
    let mode = mode & 0o7777;
    if uid != me && uid != 0 {
        return Some(Flaw::Owner(uid));
    }
    if mode & 0o022 != 0 {
        return Some(Flaw::Writable(mode));
    }
    let allowed = match readers {
        Readers::Any => 0o044,
        Readers::Private => 0,
        Readers::GroupIfRoot if uid == 0 => 0o040,
        Readers::AnyIfRoot if uid == 0 => 0o044,
        Readers::GroupIfRoot | Readers::AnyIfRoot => 0,
    };
    (mode & 0o044 & !allowed != 0).then_some(Flaw::Readable(mode))
}

/// The effective user id (0 off Unix, where nothing is checked).
pub fn euid() -> u32 {
    #[cfg(unix)]
    {
        rustix::process::geteuid().as_raw()
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// The one-line refusal of `flaw` in `path`, a `what`, with its fix.
pub fn refusal(what: &str, path: &Path, flaw: Flaw, is_dir: bool) -> Error {
    let shown = path.display();
    let me = euid();
    Error::store(match flaw {
        Flaw::Owner(uid) => format!(
            "{what} {shown} is owned by uid {uid}, not by you (uid {me}) or root: another user could have written it; nothing was read or written. Check it, then `chown {me} {shown}`"
        ),
        Flaw::Writable(mode) => format!(
            "{what} {shown} is writable by group or others (mode {mode:03o}): another user could have changed it; nothing was read or written. Check it, then `chmod {} {shown}`",
            if is_dir { "700" } else { "600" }
        ),
        Flaw::Readable(mode) => format!(
            "{what} {shown} holds a secret and is readable by group or others (mode {mode:03o}); nothing was read. Run `chmod 600 {shown}` (and consider the secret seen)"
        ),
    })
}

/// The one-line refusal of a symbolic link where a foreign file was expected.
pub fn link_refused(what: &str, path: &Path) -> Error {
    let shown = path.display();
    Error::store(format!(
        "{what} {shown} is a symbolic link: central-auth does not follow links to files other tools own, so nothing was read or written. Replace the link by the file it points to (`cp --remove-destination \"$(readlink -f {shown})\" {shown}`) or point central-auth at the real path"
    ))
}

#[cfg(unix)]
fn owner_mode(meta: &Metadata) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    (meta.uid(), meta.mode())
}

#[cfg(not(unix))]
fn owner_mode(_meta: &Metadata) -> (u32, u32) {
    (0, 0o600)
}

/// Checks an already obtained `meta` of `path` (from `fstat` or `lstat`).
pub fn check_meta(path: &Path, meta: &Metadata, rule: &Rule) -> Result<(), Error> {
    if meta.file_type().is_symlink() {
        return Err(link_refused(rule.what, path));
    }
    if !meta.is_file() {
        return Err(Error::store(format!(
            "{} {} is not a regular file; nothing was read or written. Point central-auth at the file itself",
            rule.what,
            path.display()
        )));
    }
    let (uid, mode) = owner_mode(meta);
    match flaw(uid, mode, rule.readers, euid()) {
        Some(f) => Err(refusal(rule.what, path, f, false)),
        None => Ok(()),
    }
}

/// Opens `path` for reading after the checks of `rule`, made on the opened
/// file itself. `Ok(None)` when it does not exist.
pub fn open(path: &Path, rule: &Rule) -> Result<Option<(File, Metadata)>, Error> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // A FIFO planted in the file's place must not block the open.
        let mut flags = rustix::fs::OFlags::NONBLOCK;
        if !rule.follow_links {
            flags |= rustix::fs::OFlags::NOFOLLOW;
        }
        options.custom_flags(flags.bits() as i32);
    }
    let file = match options.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if !rule.follow_links && nofollow::is_symlink_error(&e) => {
            return Err(link_refused(rule.what, path))
        }
        Err(e) => {
            return Err(Error::store(format!(
                "cannot open {} {}: {e}",
                rule.what,
                path.display()
            )))
        }
    };
    let meta = file.metadata().map_err(|e| {
        Error::store(format!(
            "cannot inspect {} {}: {e}",
            rule.what,
            path.display()
        ))
    })?;
    check_meta(path, &meta, rule)?;
    Ok(Some((file, meta)))
}

/// Reads `path` (at most `max` bytes) after the checks of `rule`. `Ok(None)`
/// when it does not exist.
pub fn read(path: &Path, rule: &Rule, max: u64) -> Result<Option<(Vec<u8>, Metadata)>, Error> {
    let Some((file, meta)) = open(path, rule)? else {
        return Ok(None);
    };
    if meta.len() > max {
        return Err(Error::bad_input(format!(
            "{} {} is larger than {max} bytes; point central-auth at the right file",
            rule.what,
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::store(format!("cannot read {} {}: {e}", rule.what, path.display())))?;
    if bytes.len() as u64 > max {
        return Err(Error::bad_input(format!(
            "{} {} grew beyond {max} bytes while it was read; point central-auth at the right file",
            rule.what,
            path.display()
        )));
    }
    Ok(Some((bytes, meta)))
}

/// Checks, without following links, a file about to be replaced or read
/// later: `Ok(None)` when absent.
pub fn check_path(path: &Path, rule: &Rule) -> Result<Option<Metadata>, Error> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) => check_meta(path, &meta, rule).map(|()| Some(meta)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::store(format!(
            "cannot inspect {} {}: {e}",
            rule.what,
            path.display()
        ))),
    }
}

/// Checks a directory another tool owns (cencli's config directory, its
/// `.cache`): a real directory, not a link, owned by the user or root, not
/// writable by group or others. `Ok(false)` when it does not exist.
pub fn check_dir(dir: &Path, what: &str) -> Result<bool, Error> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => {
            return Err(Error::store(format!(
                "cannot inspect {what} {}: {e}",
                dir.display()
            )))
        }
    };
    if meta.file_type().is_symlink() {
        return Err(link_refused(what, dir));
    }
    if !meta.is_dir() {
        return Err(Error::store(format!(
            "{what} {} is not a directory; nothing was read or written. Move it away and retry",
            dir.display()
        )));
    }
    let (uid, mode) = owner_mode(&meta);
    match flaw(uid, mode, Readers::Any, euid()) {
        Some(f) => Err(refusal(what, dir, f, true)),
        None => Ok(true),
    }
}

/// The mode of a file readable by group or others, for a caller that warns
/// instead of refusing ([`Readers::Any`]).
pub fn readable_by_others(meta: &Metadata) -> Option<u32> {
    let (_, mode) = owner_mode(meta);
    (mode & 0o044 != 0).then_some(mode & 0o7777)
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const SECRET: Rule = Rule {
        what: "Vault token file",
        readers: Readers::Private,
        follow_links: false,
    };

    #[test]
    fn the_rule() {
        let me = 1000;
        assert_eq!(flaw(me, 0o600, Readers::Private, me), None);
        assert_eq!(flaw(0, 0o600, Readers::Private, me), None);
        assert_eq!(flaw(7, 0o600, Readers::Private, me), Some(Flaw::Owner(7)));
        assert_eq!(
            flaw(me, 0o666, Readers::Any, me),
            Some(Flaw::Writable(0o666))
        );
        assert_eq!(
            flaw(me, 0o620, Readers::Any, me),
            Some(Flaw::Writable(0o620))
        );
        assert_eq!(flaw(me, 0o644, Readers::Any, me), None);
        assert_eq!(
            flaw(me, 0o640, Readers::Private, me),
            Some(Flaw::Readable(0o640))
        );
        assert_eq!(flaw(0, 0o640, Readers::GroupIfRoot, me), None);
        assert_eq!(
            flaw(0, 0o644, Readers::GroupIfRoot, me),
            Some(Flaw::Readable(0o644))
        );
        assert_eq!(
            flaw(me, 0o640, Readers::GroupIfRoot, me),
            Some(Flaw::Readable(0o640))
        );
        assert_eq!(flaw(0, 0o644, Readers::AnyIfRoot, me), None);
        assert_eq!(
            flaw(me, 0o644, Readers::AnyIfRoot, me),
            Some(Flaw::Readable(0o644))
        );
    }

    #[test]
    fn links_modes_and_fifos_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tok");
        std::fs::write(&file, b"s.secret").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read(&file, &SECRET, 64).unwrap().unwrap().0, b"s.secret");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let e = read(&link, &SECRET, 64).unwrap_err().to_string();
        assert!(e.contains("is a symbolic link"), "{e}");
        let follow = Rule {
            follow_links: true,
            ..SECRET
        };
        assert!(read(&link, &follow, 64).unwrap().is_some());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read(&file, &SECRET, 64).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!e.contains("s.secret"), "{e}");
        assert!(read(&dir.path().join("none"), &SECRET, 64)
            .unwrap()
            .is_none());
        let fifo = dir.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let e = read(&fifo, &SECRET, 64).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let dlink = dir.path().join("dlink");
        std::os::unix::fs::symlink(dir.path(), &dlink).unwrap();
        assert!(check_dir(&dlink, "cencli cache directory").is_err());
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = check_dir(dir.path(), "cencli config directory")
            .unwrap_err()
            .to_string();
        assert!(e.contains("chmod 700"), "{e}");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    }
}
