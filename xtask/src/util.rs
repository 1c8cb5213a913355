//! Shared helpers: workspace paths, running cargo and programs, the `central-sim`
//! process guard, a tiny HTTP/1.1 client for the simulator's `/_sim/` endpoints,
//! a temporary `CENTRAL_AUTH_HOME`, and the concurrent "stampede".

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Result type of every task: the error is a one-line message for the user.
pub type Res<T> = Result<T, String>;

/// Prints one progress line prefixed `xtask: `.
pub fn say(msg: impl AsRef<str>) {
    println!("xtask: {}", msg.as_ref());
}

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The cargo target directory (`CARGO_TARGET_DIR`, else `<root>/target`), absolute.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                root().join(d)
            }
        }
        None => root().join("target"),
    }
}

/// Whether this is a CI run (`CI=true` or `CI=1`): then missing tools are fatal.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A `cargo` command (the cargo that runs us, else `cargo` on PATH), in the root.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(root());
    c
}

/// Runs a command with inherited stdio; an error names `what` on failure.
pub fn run(cmd: &mut Command, what: &str) -> Res<()> {
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// `cargo build --workspace --bins`, debug or the shipped profile; returns the
/// binary directory.
pub fn build_bins(release: bool) -> Res<PathBuf> {
    let mut c = cargo();
    c.args(["build", "--workspace", "--bins"]);
    // Release means what ships (`cargo xtask release`'s profile).
    let profile = if release {
        crate::release::SHIPPED_PROFILE
    } else {
        "debug"
    };
    // The shipped build names the host as its target, as `release` does, so
    // that the shipped flags (`release::shipped_rustflags`) reach only the
    // binaries, not build scripts and proc-macros.
    let mut bin_dir = target_dir();
    if release {
        let host = crate::release::host_triple()?;
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push(' ');
        flags.push_str(crate::release::shipped_rustflags(&host));
        c.args(["--profile", profile, "--target", &host])
            .env("RUSTFLAGS", flags.trim());
        bin_dir.push(host);
    }
    say(format!(
        "building binaries (cargo build --workspace --bins, {profile})"
    ));
    let t = Instant::now();
    run(&mut c, "cargo build")?;
    say(format!("built in {:.1} s", t.elapsed().as_secs_f64()));
    Ok(bin_dir.join(profile))
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Account of the simulated Central used by demo and bench.
pub const SIM_CLIENT_ID: &str = "demo-client";
/// Client secret (handed to central-auth through `DEMO_CLIENT_SECRET`).
pub const SIM_CLIENT_SECRET: &str = "demo-client-secret";
/// Customer id.
pub const SIM_CUSTOMER_ID: &str = "demo-customer";
/// User name for `central-auth login`.
pub const SIM_USERNAME: &str = "demo@example.com";
/// Password (handed to central-auth through `DEMO_PASSWORD`).
pub const SIM_PASSWORD: &str = "demo-password";

/// A running `central-sim` process; killed and reaped on drop.
pub struct SimProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl SimProcess {
    /// Starts `<bin_dir>/central-sim` on a free loopback port with the demo account
    /// and generous rate limits, and reads its first stdout line for the URL.
    pub fn start(bin_dir: &Path, access_ttl_secs: u64) -> Res<SimProcess> {
        let exe = bin_dir.join("central-sim");
        let mut child = Command::new(&exe)
            .args(["--listen", "127.0.0.1:0", "--access-ttl"])
            .arg(access_ttl_secs.to_string())
            .args([
                "--client-id",
                SIM_CLIENT_ID,
                "--client-secret",
                SIM_CLIENT_SECRET,
            ])
            .args(["--customer-id", SIM_CUSTOMER_ID, "--username", SIM_USERNAME])
            .args(["--password", SIM_PASSWORD])
            .args([
                "--rate-limit-second",
                "100000",
                "--rate-limit-day",
                "100000000",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let mut line = String::new();
        let read = match child.stdout.take() {
            Some(out) => BufReader::new(out).read_line(&mut line),
            None => Ok(0),
        };
        let url = match read {
            Ok(n) if n > 0 => parse_listen_line(&line),
            _ => None,
        };
        let Some(url) = url else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "central-sim did not announce its address (first line {line:?})"
            ));
        };
        let addr = url.trim_start_matches("http://").to_owned();
        Ok(SimProcess { child, url, addr })
    }

    /// The simulator's counters (`GET /_sim/counters`).
    pub fn counters(&self) -> Res<serde_json::Value> {
        let (status, body) = http(&self.addr, "GET", "/_sim/counters")?;
        if status != 200 {
            return Err(format!("GET /_sim/counters answered {status}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("counters are not JSON: {e}"))
    }

    /// A Download-Token JSON for a fresh pair (`POST /_sim/download-token`).
    pub fn download_token(&self) -> Res<serde_json::Value> {
        let (status, body) = http(&self.addr, "POST", "/_sim/download-token")?;
        if status != 200 {
            return Err(format!("POST /_sim/download-token answered {status}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("download token is not JSON: {e}"))
    }
}

/// Checks the simulator's counters across a stampede on a live chain (`before` and
/// `after` from [`SimProcess::counters`]): exactly one token request, and it was
/// the one successful refresh; no rejected refresh (a caller that decided on a
/// stale read sends the rotated refresh token) and no login. `Err` names the
/// four deltas.
pub fn one_refresh(before: &serde_json::Value, after: &serde_json::Value) -> Res<()> {
    let delta = |key: &str| {
        let get = |v: &serde_json::Value| v[key].as_u64().unwrap_or(0);
        get(after).saturating_sub(get(before))
    };
    let seen = [
        delta("token_requests"),
        delta("refresh_rejected"),
        delta("login"),
        delta("refresh"),
    ];
    if seen == [1, 0, 0, 1] {
        Ok(())
    } else {
        Err(format!(
            "token requests {}, rejected refreshes {}, logins {}, successful refreshes {} (want 1, 0, 0, 1)",
            seen[0], seen[1], seen[2], seen[3]
        ))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Extracts the URL from `central-sim listening on http://127.0.0.1:PORT`.
pub fn parse_listen_line(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix("central-sim listening on ")?;
    let port = url.strip_prefix("http://127.0.0.1:")?;
    port.parse::<u16>().ok()?;
    Some(url.to_owned())
}

/// One HTTP/1.1 request without a body to `addr`; returns status and body.
pub fn http(addr: &str, method: &str, path: &str) -> Res<(u16, String)> {
    let io = |e: std::io::Error| format!("{method} http://{addr}{path}: {e}");
    let mut s = TcpStream::connect(addr).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    parse_response(&raw).ok_or_else(|| format!("{method} {path}: malformed HTTP response"))
}

/// Splits a `Content-Length` HTTP/1.1 response into status and body.
pub fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, body.to_owned()))
}

/// A temporary `CENTRAL_AUTH_HOME` with one profile `demo` pointing at a simulator.
pub struct DemoHome {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    /// The config.toml text as written.
    pub config: String,
}

impl DemoHome {
    /// Writes config.toml for `sim` (profile `demo`, `min_valid` as given).
    pub fn new(bin_dir: &Path, sim: &SimProcess, min_valid: &str) -> Res<DemoHome> {
        let dir = tempfile::Builder::new()
            .prefix("central-auth-xtask-")
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?;
        let config = demo_config(&sim.url, min_valid);
        std::fs::write(dir.path().join("config.toml"), &config)
            .map_err(|e| format!("cannot write config.toml: {e}"))?;
        Ok(DemoHome {
            dir,
            bin_dir: bin_dir.to_path_buf(),
            config,
        })
    }

    /// Appends `text` to the home's config file.
    pub fn append_config(&self, text: &str) -> Res<()> {
        let file = self.path().join("config.toml");
        let mut config = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        config.push_str(text);
        std::fs::write(&file, config).map_err(|e| format!("cannot write {}: {e}", file.display()))
    }

    /// The home directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The token record of profile `demo`.
    pub fn record(&self) -> PathBuf {
        self.path()
            .join("state")
            .join("profiles")
            .join("demo")
            .join("token.json")
    }

    /// Path of a workspace binary.
    pub fn exe(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// A command for a workspace binary with this home's environment.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(self.exe(name));
        self.apply_env(&mut c);
        c
    }

    /// Sets this home's environment (home, secrets) on any command.
    pub fn apply_env(&self, c: &mut Command) {
        c.env("CENTRAL_AUTH_HOME", self.path())
            .env("HOME", self.path())
            .env_remove("CENTRAL_AUTH_PROFILE")
            .env("DEMO_CLIENT_SECRET", SIM_CLIENT_SECRET)
            .env("DEMO_PASSWORD", SIM_PASSWORD)
            .stdin(Stdio::null());
    }

    /// Runs `central-auth ARGS`; returns stdout, or an error with its stderr.
    pub fn cli(&self, args: &[&str]) -> Res<String> {
        let out = self
            .cmd("central-auth")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run central-auth: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`central-auth {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `central-auth token`, trimmed.
    pub fn token(&self) -> Res<String> {
        Ok(self.cli(&["token"])?.trim_end().to_owned())
    }

    /// Imports a Download-Token from the simulator whose `created_at` lies
    /// `age_secs` in the past (`--force`, so an older file replaces a newer one).
    /// Returns the imported access token.
    pub fn import_download(&self, sim: &SimProcess, age_secs: u64) -> Res<String> {
        let mut download = sim.download_token()?;
        let created = download["created_at"]
            .as_u64()
            .ok_or("download token has no created_at")?;
        download["created_at"] = serde_json::json!(created.saturating_sub(age_secs * 1000));
        let access = download["access_token"]
            .as_str()
            .ok_or("download token has no access_token")?
            .to_owned();
        let file = self.path().join("download.json");
        std::fs::write(&file, download.to_string())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let file_arg = file.to_string_lossy().into_owned();
        let res = self.cli(&["import", "--force", &file_arg]);
        let _ = std::fs::remove_file(&file);
        res?;
        Ok(access)
    }

    /// Starts `n` `central-auth token` processes at once, then waits for all.
    /// Returns their tokens and the wall time from first spawn to last exit.
    pub fn stampede(&self, n: usize) -> Res<(Vec<String>, Duration)> {
        let start = Instant::now();
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            let child = self
                .cmd("central-auth")
                .arg("token")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start central-auth: {e}"))?;
            children.push(child);
        }
        let mut outputs = Vec::with_capacity(n);
        for child in children {
            outputs.push(
                child
                    .wait_with_output()
                    .map_err(|e| format!("waiting for central-auth: {e}"))?,
            );
        }
        let wall = start.elapsed();
        let mut tokens = Vec::with_capacity(n);
        for (i, out) in outputs.iter().enumerate() {
            if !out.status.success() {
                return Err(format!(
                    "stampede caller {i} failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            tokens.push(String::from_utf8_lossy(&out.stdout).trim_end().to_owned());
        }
        Ok((tokens, wall))
    }
}

/// The demo's config.toml.
pub fn demo_config(url: &str, min_valid: &str) -> String {
    format!(
        "default_profile = \"demo\"\n\n[profiles.demo]\nbase_url = \"{url}\"\nclient_id = \"{SIM_CLIENT_ID}\"\nclient_secret_env = \"DEMO_CLIENT_SECRET\"\ncustomer_id = \"{SIM_CUSTOMER_ID}\"\nusername = \"{SIM_USERNAME}\"\npassword_env = \"DEMO_PASSWORD\"\nmin_valid = \"{min_valid}\"\nlock_timeout = \"60s\"\n"
    )
}

/// A token shortened for display: its first 6 characters and an ellipsis.
pub fn short(token: &str) -> String {
    let head: String = token.chars().take(6).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_refresh_wants_all_four_counters() {
        let before = serde_json::json!({"token_requests": 3, "refresh": 2, "login": 1, "refresh_rejected": 0});
        let good = serde_json::json!({"token_requests": 4, "refresh": 3, "login": 1, "refresh_rejected": 0});
        assert!(one_refresh(&before, &good).is_ok());
        // A stale-read stampede: still one successful refresh, but rejected calls.
        let stale = serde_json::json!({"token_requests": 9, "refresh": 3, "login": 1, "refresh_rejected": 7});
        let e = one_refresh(&before, &stale).unwrap_err();
        assert!(e.contains("rejected refreshes 7"), "{e}");
        let relogin = serde_json::json!({"token_requests": 4, "refresh": 2, "login": 2, "refresh_rejected": 0});
        assert!(one_refresh(&before, &relogin).is_err());
    }

    #[test]
    fn listen_line_gives_url() {
        assert_eq!(
            parse_listen_line("central-sim listening on http://127.0.0.1:40123\n").as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(parse_listen_line("error: bad\n"), None);
        assert_eq!(
            parse_listen_line("central-sim listening on http://0.0.0.0:1"),
            None
        );
    }

    #[test]
    fn response_is_split() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"a\":1}\r\n";
        assert_eq!(parse_response(raw), Some((200, "{\"a\":1}\r\n".to_owned())));
        assert_eq!(parse_response(b"garbage"), None);
    }

    #[test]
    fn short_token_keeps_six_chars() {
        assert_eq!(short("abcdefghij"), "abcdef…");
        assert_eq!(short("abc"), "abc…");
    }

    #[test]
    fn config_has_the_demo_profile() {
        let c = demo_config("http://127.0.0.1:9", "2s");
        assert!(c.starts_with("default_profile = \"demo\"\n"));
        assert!(c.contains("base_url = \"http://127.0.0.1:9\"\n"));
        assert!(c.contains("password_env = \"DEMO_PASSWORD\"\n"));
        assert!(c.contains("min_valid = \"2s\"\n"));
    }
}
