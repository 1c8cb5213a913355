//! A private OS keyring for the keyring store's tests: a D-Bus session bus of
//! its own (`dbus-daemon` with a config that activates nothing, so "no
//! daemon" means none) and a real GNOME Keyring daemon on it, unlocked with a
//! password read on stdin (`gnome-keyring-daemon --unlock`), its keyring files
//! in a temporary directory. Both are killed on drop.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{on_path, require_tool};

/// A session bus, optionally with a GNOME Keyring daemon on it.
pub struct Keyring {
    dir: tempfile::TempDir,
    bus: Child,
    daemon: Option<Child>,
    /// `DBUS_SESSION_BUS_ADDRESS` of the bus.
    pub address: String,
}

/// The real tools these tests need (`cargo xtask test` installs them).
fn tools() -> Option<(PathBuf, PathBuf)> {
    let bus = require_tool("dbus-daemon", &on_path("dbus-daemon"))?;
    let gk = require_tool("gnome-keyring-daemon", &on_path("gnome-keyring-daemon"))?;
    require_tool("dbus-send", &on_path("dbus-send"))?;
    require_tool("secret-tool", &on_path("secret-tool"))?;
    Some((bus, gk))
}

impl Keyring {
    /// A bus with an unlocked GNOME Keyring; `None` (a loud skip, a failure
    /// under CI) when the tools are missing.
    pub fn start() -> Option<Keyring> {
        let mut k = Keyring::bus_only()?;
        k.start_daemon();
        Some(k)
    }

    /// A bus with no keyring service on it.
    pub fn bus_only() -> Option<Keyring> {
        let (bus, _) = tools()?;
        let dir = tempfile::Builder::new()
            .prefix("central-auth-keyring-")
            .tempdir()
            .expect("temp dir");
        for sub in ["data", "run", "config"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(
                dir.path().join("run"),
                std::fs::Permissions::from_mode(0o700),
            )
            .unwrap();
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n<busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth><policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                dir.path().join("bus").display()
            ),
        )
        .unwrap();
        let mut bus = Command::new(bus)
            .arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "bus address {address:?}");
        Some(Keyring {
            dir,
            bus,
            daemon: None,
            address,
        })
    }

    /// The directory of the bus socket and the keyring files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self, c: &mut Command) {
        c.env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_RUNTIME_DIR", self.dir.path().join("run"));
    }

    /// Starts gnome-keyring-daemon (secrets only) unlocked with a password on
    /// stdin, and waits until it owns `org.freedesktop.secrets`.
    pub fn start_daemon(&mut self) {
        let gk = on_path("gnome-keyring-daemon")
            .into_iter()
            .find(|p| p.exists())
            .expect("gnome-keyring-daemon");
        let mut c = Command::new(gk);
        self.env(&mut c);
        let mut daemon = c
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts");
        {
            let mut stdin = daemon.stdin.take().unwrap();
            stdin.write_all(b"e2e-keyring-password").unwrap();
        }
        self.daemon = Some(daemon);
        let start = Instant::now();
        while !self.has_owner("org.freedesktop.secrets") {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "gnome-keyring-daemon never took org.freedesktop.secrets"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The daemon's process id.
    pub fn daemon_pid(&self) -> u32 {
        self.daemon.as_ref().expect("daemon running").id()
    }

    /// Sends SIGSTOP (`stop = true`) or SIGCONT to the daemon: a stopped
    /// daemon keeps its name on the bus and answers nothing.
    pub fn freeze(&self, stop: bool) {
        let sig = if stop { "-STOP" } else { "-CONT" };
        let ok = Command::new("kill")
            .args([sig, &self.daemon_pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }

    fn dbus_send(&self, args: &[&str]) -> Output {
        let mut c = Command::new("dbus-send");
        self.env(&mut c);
        c.args(["--session", "--print-reply"])
            .args(args)
            .output()
            .unwrap()
    }

    fn has_owner(&self, name: &str) -> bool {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &format!("string:{name}"),
        ]);
        String::from_utf8_lossy(&out.stdout).contains("boolean true")
    }

    /// Locks the login collection (as a screen lock does); this bus has no
    /// prompter, so unlocking needs a new daemon.
    pub fn lock(&self) {
        let out = self.dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `secret-tool lookup service SERVICE username ACCOUNT` (the attributes
    /// the keyring crate gives its items): the item's secret.
    pub fn lookup(&self, service: &str, account: &str) -> Option<String> {
        let mut c = Command::new("secret-tool");
        self.env(&mut c);
        let out = c
            .args(["lookup", "service", service, "username", account])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
            .filter(|s| !s.is_empty())
    }

    /// Stops the daemon (the bus stays).
    pub fn stop_daemon(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = Command::new("kill")
                .args(["-CONT", &d.id().to_string()])
                .status();
            let _ = d.kill();
            let _ = d.wait();
        }
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        self.stop_daemon();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
