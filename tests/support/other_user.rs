//! Another local user on the same host: a dedicated unprivileged account
//! (`central-auth-e2e`, made once with `useradd --system`) and commands that run
//! as it, for "another user can (not) reach the owner's token" tests.
//!
//! Creating the account needs root (CI runs as root). Outside CI and without
//! root, [`OtherUser::get`] skips the test with a visible reason; under CI a
//! missing account is a failure. Commands drop to the account's uid and gid with
//! std's `CommandExt::uid`/`gid` (std also clears the supplementary groups when
//! it changes the uid), get a private writable `HOME` and a clean environment:
//! nothing of the owner's (`CENTRAL_AUTH_*`, `HOME`, secrets) leaks into them.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::raw_http::{self, Reply, Target};
use crate::{is_ci, require_tool, skip, workspace};

/// The account's name.
pub const ACCOUNT: &str = "central-auth-e2e";

/// The python3 the other user runs: Debian's, since a venv or pyenv under
/// `/root` is out of its reach.
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// The `PATH` its commands get.
pub const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The account, looked up (and made if needed) once per test process.
static ACCOUNT_IDS: OnceLock<Result<Ids, String>> = OnceLock::new();

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ids {
    uid: u32,
    gid: u32,
}

/// Another local user with a private, writable home (a temp dir owned by it,
/// mode 0700, removed on drop). Each [`OtherUser::get`] gives a fresh home.
#[derive(Debug)]
pub struct OtherUser {
    /// Its user id (never ours, never 0).
    pub uid: u32,
    /// Its primary group id.
    pub gid: u32,
    home: tempfile::TempDir,
}

/// The effective uid of this process (the owner of `/proc/self`).
pub fn current_uid() -> u32 {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .expect("/proc/self is readable")
}

impl OtherUser {
    /// The other user, or `None` after a visible skip when this process is not
    /// root (under CI that is a failure). Panics under CI when the account
    /// cannot be made.
    pub fn get() -> Option<OtherUser> {
        if current_uid() != 0 {
            skip(&format!(
                "another local user is needed and only root can make one (useradd) and run commands as it; this runs as uid {}",
                current_uid()
            ));
            return None;
        }
        let ids = match ACCOUNT_IDS.get_or_init(ensure_account) {
            Ok(ids) => *ids,
            Err(e) if is_ci() => panic!("cannot make the other local user {ACCOUNT}: {e}"),
            Err(e) => {
                skip(&format!("cannot make the other local user {ACCOUNT}: {e}"));
                return None;
            }
        };
        let home = tempfile::Builder::new()
            .prefix("central-auth-e2e-other-")
            .tempdir_in(reachable_temp_root())
            .expect("temp dir for the other user's HOME");
        std::os::unix::fs::chown(home.path(), Some(ids.uid), Some(ids.gid))
            .expect("chown the other user's HOME");
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .expect("chmod the other user's HOME");
        Some(OtherUser {
            uid: ids.uid,
            gid: ids.gid,
            home,
        })
    }

    /// The account name.
    pub fn name(&self) -> &'static str {
        ACCOUNT
    }

    /// Its `HOME`: empty at first, owned by it, 0700.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// `program` run as this user: its uid and gid, no supplementary groups, a
    /// clean environment (`HOME`, `USER`, `LOGNAME`, `PATH`, `LANG`, `TMPDIR`
    /// only), its home as the working directory, stdin from /dev/null. Give
    /// `program` as an absolute path the user can reach (not under `/root`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("HOME", self.home())
            .env("USER", ACCOUNT)
            .env("LOGNAME", ACCOUNT)
            .env("PATH", PATH)
            .env("LANG", "C.UTF-8")
            .env("TMPDIR", self.home())
            .current_dir(self.home())
            .stdin(Stdio::null())
            .uid(self.uid)
            .gid(self.gid);
        c
    }

    /// Copies `tests/fixtures/<name>` into its home (owned by it, 0644) and
    /// returns the copy's path: the workspace may be out of its reach.
    pub fn fixture(&self, name: &str) -> PathBuf {
        let from = workspace().join("tests/fixtures").join(name);
        let to = self.home().join(name);
        std::fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("cannot copy {} for the other user: {e}", from.display()));
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::os::unix::fs::chown(&to, Some(self.uid), Some(self.gid)).expect("chown");
        to
    }

    /// Debian's python3 run as this user; `None` after a visible skip (a failure
    /// under CI) when `/usr/bin/python3` is missing.
    pub fn python(&self) -> Option<Command> {
        let python = require_tool("python3 (Debian's)", &[PathBuf::from(SYSTEM_PYTHON)])?;
        Some(self.command(python))
    }

    /// Sends exact bytes to `target` as this user (`tests/fixtures/raw_http.py`)
    /// and returns what it saw; `None` after a visible skip when python3 is
    /// missing.
    pub fn raw_http(&self, target: &Target, raw: &[u8]) -> Option<Reply> {
        let python = self.python()?;
        let script = self.fixture("raw_http.py");
        Some(raw_http::run_with(
            python,
            &script,
            target,
            raw,
            Duration::from_secs(10),
        ))
    }
}

/// The system temp directory when every user can reach it (each ancestor
/// searchable by others), else `/tmp`: a `TMPDIR` under a private home would
/// hide the other user's `HOME` and the test's sockets from it.
pub fn reachable_temp_root() -> PathBuf {
    let tmp = std::env::temp_dir();
    let searchable = tmp
        .ancestors()
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.mode() & 0o001 != 0));
    if searchable {
        tmp
    } else {
        PathBuf::from("/tmp")
    }
}

/// A temp directory of ours (mode 0755) that the other user can reach: put a
/// socket or a file there to show that its own mode (0600, or a 0700
/// subdirectory) is what keeps the other user out, not a private ancestor.
pub fn reachable_tempdir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("central-auth-e2e-shared-")
        .tempdir_in(reachable_temp_root())
        .expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// Looks the account up in `/etc/passwd`, making it with `useradd` when missing.
/// Another test process may be making it at the same moment: "already exists"
/// (exit 9) counts as made, and a busy passwd lock (exit 10) is retried.
fn ensure_account() -> Result<Ids, String> {
    let useradd = ["/usr/sbin/useradd", "/sbin/useradd"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or("useradd is missing (apt-get install -y passwd)")?;
    let mut last = String::new();
    for _ in 0..50 {
        if let Some(ids) = lookup(ACCOUNT)? {
            return Ok(ids);
        }
        // A group left over from an earlier account of that name is reused
        // (useradd --user-group refuses when the group exists).
        let group: &[&str] = if group_exists(ACCOUNT)? {
            &["--gid", ACCOUNT]
        } else {
            &["--user-group"]
        };
        let out = Command::new(&useradd)
            .args(group)
            .args([
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "central-auth end-to-end tests, another local user",
                ACCOUNT,
            ])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", useradd.display()))?;
        last = format!(
            "useradd exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        match out.status.code() {
            // Made, or made by a concurrent process: look it up.
            Some(0) | Some(9) => {}
            // /etc/passwd is locked by a concurrent useradd.
            Some(10) => std::thread::sleep(Duration::from_millis(100)),
            _ => return Err(last),
        }
    }
    Err(format!("{ACCOUNT} did not appear in /etc/passwd: {last}"))
}

/// Whether `/etc/group` has a group of that name.
fn group_exists(name: &str) -> Result<bool, String> {
    let group = std::fs::read_to_string("/etc/group")
        .map_err(|e| format!("cannot read /etc/group: {e}"))?;
    Ok(group.lines().any(|l| l.split(':').next() == Some(name)))
}

/// `Some(ids)` of a user in `/etc/passwd`.
fn lookup(name: &str) -> Result<Option<Ids>, String> {
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| format!("cannot read /etc/passwd: {e}"))?;
    Ok(passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != name {
            return None;
        }
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some(Ids { uid, gid })
    }))
}
