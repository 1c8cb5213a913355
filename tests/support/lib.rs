//! Support for the workspace-level end-to-end tests: locating the built binaries,
//! a private `CENTRAL_AUTH_HOME` per test with a profile pointing at an in-process
//! `central-sim`, and finding the real third-party tools (git, kubectl, terraform,
//! the Python venvs made by `cargo xtask test`).
//!
//! Under `CI=true` a missing real tool fails the test; elsewhere the test is skipped
//! with a loud line on stderr saying what was skipped, and, when `cargo xtask test`
//! names a skips file in `CENTRAL_AUTH_SKIPS_FILE`, a line there (test name, tab,
//! reason), which xtask lists after the run: the test harness captures the stderr
//! line of a passing test, and a skipped test reports `ok`.

#![allow(clippy::print_stderr, clippy::unwrap_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use central_sim::{Counters, Fault, Sim, SimConfig};
pub use home::Home;

pub mod bao;
pub mod bao_cluster;
pub mod browser;
pub mod home;
pub mod keyring;
pub mod kube;
pub mod other_user;
pub mod ports;
pub mod raw_http;
pub mod recorder;
pub mod slow_clients;

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The directory holding the built binaries (`CENTRAL_AUTH_BIN_DIR`, else
/// `target/debug`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CENTRAL_AUTH_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    target.join("debug")
}

/// When set (by `cargo xtask mutants`), the first [`bin`] call of a test process
/// runs `cargo build --workspace --bins`, so end-to-end tests run binaries built
/// from the source as it is now (with the mutant applied), not stale ones.
pub const BUILD_BINS_ENV: &str = "CENTRAL_AUTH_E2E_BUILD_BINS";

fn build_bins_once() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--workspace", "--bins", "--quiet"])
            .current_dir(workspace())
            .stdin(Stdio::null())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cargo build --workspace --bins failed");
    });
}

/// Path of a workspace binary; panics with the fix if it was not built.
pub fn bin(name: &str) -> PathBuf {
    if std::env::var_os(BUILD_BINS_ENV).is_some() {
        build_bins_once();
    }
    let path = bin_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (or `cargo build --workspace --bins` first)",
        path.display()
    );
    path
}

/// Whether this run is CI (`CI=true`): then missing tools fail.
pub fn is_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Finds a real tool: `Some(path)`, or `None` after printing a loud skip line;
/// under CI a missing tool panics.
pub fn require_tool(what: &str, candidates: &[PathBuf]) -> Option<PathBuf> {
    if let Some(p) = candidates.iter().find(|p| p.exists()) {
        return Some(p.clone());
    }
    let msg = format!(
        "real tool {what} not found (looked at {:?}); `cargo xtask test` sets it up",
        candidates
    );
    skip(&msg);
    None
}

/// Skips the current test with a visible reason: a loud stderr line and a line
/// in the skips file (see [`SKIPS_FILE_ENV`]). Under CI a skip is a failure, so
/// this panics with `reason` there. The caller returns right after.
pub fn skip(reason: &str) {
    if is_ci() {
        panic!("{reason}; under CI=true this is a failure, not a skip");
    }
    eprintln!("\n!!!!!! SKIPPED: {reason} !!!!!!\n");
    record_skip(reason);
}

/// Names the file `require_tool` appends skipped tests to (`cargo xtask test`
/// sets it and lists the skips at the end).
pub const SKIPS_FILE_ENV: &str = "CENTRAL_AUTH_SKIPS_FILE";

/// Appends `<test name>\t<reason>` to the skips file, if one is named. The test
/// name is the harness's name for the current thread (`module::test`).
fn record_skip(reason: &str) {
    use std::io::Write;
    let Some(path) = std::env::var_os(SKIPS_FILE_ENV) else {
        return;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed test thread)")
        .to_owned();
    let line = format!("{test}\t{}\n", reason.replace(['\n', '\t'], " "));
    // One append-mode write per line, so parallel tests do not interleave.
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!(
            "cannot record the skip in {}: {e}",
            std::path::Path::new(&path).display()
        );
    }
}

/// Finds a program on PATH.
pub fn on_path(name: &str) -> Vec<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default()
}

/// The directory of Python venvs made by `cargo xtask test`.
pub fn venvs_dir() -> PathBuf {
    std::env::var_os("CENTRAL_AUTH_VENVS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target").join("venvs"))
}

/// A program inside one of the venvs, e.g. `venv_bin("pycentral", "python")`.
pub fn venv_bin(venv: &str, program: &str) -> Option<PathBuf> {
    let path = venvs_dir().join(venv).join("bin").join(program);
    require_tool(&format!("{program} in venv {venv}"), &[path])
}

/// Asserts the simulator's counters after a stampede-style run against a profile
/// whose chain is alive: exactly one POST to the token endpoint, and it was the
/// one successful refresh; no rejected refresh (a caller that decided on a stale
/// read sends the already-rotated refresh token) and no login (nothing to recover).
/// `what` names the run in the failure message. `c` must count from zero for the
/// run (a simulator that served nothing else on the token endpoint).
pub fn assert_one_refresh(c: &Counters, what: &str) {
    assert_eq!(
        (c.token_requests, c.refresh_rejected, c.login, c.refresh),
        (1, 0, 0, 1),
        "{what}: (token requests, rejected refreshes, logins, successful refreshes) \
         must be (1, 0, 0, 1): one refresh for everyone, decided under the lock; {c:?}"
    );
}

/// A simulator tuned for tests: generous rate limits, given TTLs.
pub fn sim_with(access_ttl_secs: u64) -> Sim {
    let cfg = SimConfig {
        access_ttl: std::time::Duration::from_secs(access_ttl_secs),
        rate_limit_second: 10_000,
        rate_limit_day: 1_000_000,
        ..SimConfig::default()
    };
    Sim::start(cfg).expect("simulator starts on 127.0.0.1:0")
}

/// A private central-auth home wired to an in-process simulator: a [`Home`]
/// (its paths and environment through `Deref`) with the test profiles, the
/// simulator, and calls that assert.
pub struct TestHome {
    home: Home,
    pub sim: Sim,
}

impl std::ops::Deref for TestHome {
    type Target = Home;

    fn deref(&self) -> &Home {
        &self.home
    }
}

/// Options for the profile written into the test config.
#[derive(Clone)]
pub struct ProfileOpts {
    pub name: String,
    pub with_password: bool,
    pub client_credentials: bool,
    pub min_valid: &'static str,
    pub extra: String,
}

impl Default for ProfileOpts {
    fn default() -> Self {
        ProfileOpts {
            name: "test".into(),
            with_password: false,
            client_credentials: false,
            min_valid: "5m",
            extra: String::new(),
        }
    }
}

impl TestHome {
    /// A home with one profile `test` (no password source) and a simulator with
    /// 2-hour tokens.
    pub fn new() -> TestHome {
        TestHome::with(sim_with(7200), &[ProfileOpts::default()])
    }

    /// A home with the given profiles against `sim`; commands get the
    /// simulator's client secret and password as `E2E_CLIENT_SECRET` and
    /// `E2E_PASSWORD`.
    pub fn with(sim: Sim, profiles: &[ProfileOpts]) -> TestHome {
        TestHome::with_env(sim, profiles, &[])
    }

    /// [`TestHome::with`], every command also getting the variables `extra`
    /// (e.g. the D-Bus session of a private keyring).
    pub fn with_env(
        sim: Sim,
        profiles: &[ProfileOpts],
        extra: &[(&'static str, &str)],
    ) -> TestHome {
        let cfg = SimConfig::default();
        let mut secrets = vec![
            ("E2E_CLIENT_SECRET", cfg.client_secret.as_str()),
            ("E2E_PASSWORD", cfg.password.as_str()),
        ];
        secrets.extend_from_slice(extra);
        let home = Home::new("central-auth-e2e-", &bin_dir(), &secrets).expect("temp dir");
        let home = TestHome { home, sim };
        home.write_config(profiles);
        home
    }

    /// Rewrites config.toml with these profiles.
    pub fn write_config(&self, profiles: &[ProfileOpts]) {
        let cfg = SimConfig::default();
        let mut text = String::new();
        if let Some(first) = profiles.first() {
            text.push_str(&format!("default_profile = \"{}\"\n", first.name));
        }
        for p in profiles {
            // A name with a dot is quoted (`[profiles."p.usage"]`), others bare.
            let key = if p.name.contains('.') {
                format!("\"{}\"", p.name)
            } else {
                p.name.clone()
            };
            text.push_str(&format!(
                "\n[profiles.{}]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\ncustomer_id = \"{}\"\nusername = \"{}\"\nmin_valid = \"{}\"\nlock_timeout = \"60s\"\n",
                key,
                self.sim.url(),
                cfg.client_id,
                cfg.customer_id,
                cfg.username,
                p.min_valid
            ));
            if p.with_password {
                text.push_str("password_env = \"E2E_PASSWORD\"\n");
            }
            if p.client_credentials {
                text.push_str(&format!(
                    "grant = \"client_credentials\"\ntoken_url = \"{}/as/token.oauth2\"\n",
                    self.sim.url()
                ));
            }
            text.push_str(&p.extra);
        }
        self.set_config(&text).unwrap();
    }

    /// A command for a workspace binary with this home's environment: private
    /// `CENTRAL_AUTH_HOME` and `HOME`, the simulator's client secret and password.
    pub fn cmd(&self, binary: &str) -> Command {
        bin(binary);
        self.home.cmd(binary)
    }

    /// Runs `central-auth ARGS` and returns its output.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cmd("central-auth").args(args).output().unwrap()
    }

    /// Imports a Download-Token JSON minted by the simulator, with `created_at`
    /// moved `age_secs` into the past (an age beyond the lifetime gives an expired
    /// access token with a live refresh token).
    pub fn import_download(&self, profile: &str, age_secs: u64) -> serde_json::Value {
        bin("central-auth");
        let download = home::aged(self.sim.download_token(), age_secs).unwrap();
        let out = self
            .import(&download, "download.json", &["--profile", profile])
            .unwrap();
        assert!(out.status.success(), "import failed: {}", text(&out.stderr));
        download
    }

    /// Imports with `--force` a Download Token minted `age_secs` ago (so it
    /// replaces whatever is stored, even a newer pair); returns its refresh token.
    pub fn import_aged(&self, profile: &str, age_secs: u64) -> String {
        bin("central-auth");
        let download = home::aged(self.sim.download_token(), age_secs).unwrap();
        let file = format!("{profile}-download.json");
        let out = self
            .import(&download, &file, &["--force", "--profile", profile])
            .unwrap();
        assert!(out.status.success(), "import failed: {}", text(&out.stderr));
        download["refresh_token"].as_str().unwrap().to_owned()
    }

    /// `central-auth token` for a profile; asserts success and returns the token.
    pub fn token(&self, profile: &str) -> String {
        let out = self.cli(&["token", "--profile", profile]);
        assert!(out.status.success(), "token failed: {}", text(&out.stderr));
        let s = text(&out.stdout);
        assert!(s.ends_with('\n') && s.lines().count() == 1, "stdout {s:?}");
        s.trim_end().to_owned()
    }

    /// Rewrites a profile's stored record (file store) so its access token
    /// expired a second ago, as the clock would have it.
    pub fn expire_record(&self, profile: &str) {
        let path = self.record_path(profile);
        let mut rec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        rec["issued_at"] = (now - 901).into();
        rec["expires_at"] = (now - 1).into();
        std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
    }
}

impl Default for TestHome {
    fn default() -> Self {
        TestHome::new()
    }
}

/// Lossy UTF-8 of process output.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Snapshot of every file under a directory (path, bytes), for "nothing changed"
/// assertions.
pub fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                // Links are listed, never followed: `-> target`.
                let target = std::fs::read_link(&p).unwrap_or_default();
                out.push((p, format!("-> {}", target.display()).into_bytes()));
            } else if meta.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// A Python fixture server (under `tests/fixtures/`) that prints
/// `listening on PORT` as its first stdout line; killed on drop.
pub struct FixtureServer {
    child: std::process::Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
}

impl FixtureServer {
    /// Starts `python3 tests/fixtures/<script> ARGS...`; `None` (a loud skip, or a
    /// failure under CI) when python3 is missing.
    pub fn start(script: &str, args: &[&std::ffi::OsStr]) -> Option<FixtureServer> {
        use std::io::BufRead;
        let python = require_tool("python3", &on_path("python3"))?;
        let mut child = Command::new(python)
            .arg(workspace().join("tests/fixtures").join(script))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{script}: unexpected first line {line:?}"))
            .parse()
            .unwrap();
        Some(FixtureServer { child, port })
    }
}

impl Drop for FixtureServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SHA-256 hex of `data`, via coreutils `sha256sum` (the same digest as
/// Terraform's `sha256()` and Ansible's `hash('sha256')`), so tests can compare
/// tokens a tool saw without printing them.
pub fn sha256_hex(data: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
