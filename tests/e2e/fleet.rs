//! The fleet store against a real OpenBao dev server: several "machines" (separate
//! `CENTRAL_AUTH_HOME`s, each with its own state) share one refresh chain in KV v2.
//! Stampede on an expired token (one refresh for 64 processes, also mixing the
//! helpers), Vault outages and a revoked Vault token, and a scan of every home's disk for
//! every refresh token the simulator ever issued. Figures go to stderr.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use central_auth_e2e::bao::Bao;
use central_auth_e2e::kube::{make_certs, ApiServer};
use central_auth_e2e::*;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// The policy of docs/fleet.md, taken from the document so the two cannot drift.
fn documented_policy() -> String {
    let doc = std::fs::read_to_string(workspace().join("docs/fleet.md")).unwrap();
    let start = doc
        .find("```hcl\n")
        .expect("docs/fleet.md has an hcl block")
        + 7;
    let len = doc[start..].find("```").unwrap();
    doc[start..start + len].to_owned()
}

/// One machine: its own home and state, the shared sim and Vault.
struct Machine {
    dir: tempfile::TempDir,
    vault_token: String,
}

struct Fleet {
    sim: Sim,
    bao: Bao,
    machines: Vec<Machine>,
}

impl Fleet {
    /// `n` machines, each holding a Vault token with only the documented policy.
    fn new(n: usize, access_ttl: u64, store_extra: &str) -> Option<Fleet> {
        let bao = Bao::start()?;
        let sim = sim_with(access_ttl);
        let token = bao.token_with_policy("central-auth", &documented_policy());
        let machines = (0..n)
            .map(|_| Machine {
                dir: tempfile::Builder::new()
                    .prefix("central-auth-fleet-")
                    .tempdir()
                    .unwrap(),
                vault_token: token.clone(),
            })
            .collect();
        let fleet = Fleet { sim, bao, machines };
        for m in &fleet.machines {
            fleet.write_config(m, store_extra);
        }
        Some(fleet)
    }

    fn write_config(&self, m: &Machine, store_extra: &str) {
        let cfg = SimConfig::default();
        let mut text = format!(
            "default_profile = \"prod\"\n\n[stores.team]\nkind = \"vault\"\naddress = \"{}\"\ntoken_env = \"E2E_VAULT_TOKEN\"\n{store_extra}\n",
            self.bao.addr
        );
        for name in ["prod", "prod2", "pw"] {
            text.push_str(&format!(
                "\n[profiles.{name}]\nstore = \"team\"\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\ncustomer_id = \"{}\"\nusername = \"{}\"\nlock_timeout = \"60s\"\n",
                self.sim.url(),
                cfg.client_id,
                cfg.customer_id,
                cfg.username
            ));
            if name == "pw" {
                text.push_str("password_env = \"E2E_PASSWORD\"\n");
            }
        }
        std::fs::write(m.dir.path().join("config.toml"), text).unwrap();
    }

    fn cmd(&self, m: &Machine, binary: &str) -> Command {
        let mut c = Command::new(bin(binary));
        self.env(m, &mut c);
        c
    }

    fn env(&self, m: &Machine, c: &mut Command) {
        let cfg = SimConfig::default();
        c.env("CENTRAL_AUTH_HOME", m.dir.path())
            .env("HOME", m.dir.path())
            .env_remove("CENTRAL_AUTH_PROFILE")
            .env_remove("VAULT_TOKEN")
            .env_remove("BAO_TOKEN")
            .env("E2E_VAULT_TOKEN", &m.vault_token)
            .env("E2E_CLIENT_SECRET", &cfg.client_secret)
            .env("E2E_PASSWORD", &cfg.password)
            .stdin(Stdio::null());
    }

    fn cli(&self, m: &Machine, args: &[&str]) -> Output {
        self.cmd(m, "central-auth").args(args).output().unwrap()
    }

    /// Imports a Download Token `age_secs` old through machine 0 (into Vault).
    fn import(&self, profile: &str, age_secs: u64) {
        let mut download = self.sim.download_token();
        let created = download["created_at"].as_u64().unwrap();
        download["created_at"] = serde_json::json!(created - age_secs * 1000);
        let m = &self.machines[0];
        let file = m.dir.path().join("download.json");
        std::fs::write(&file, download.to_string()).unwrap();
        let out = self.cli(
            m,
            &[
                "import",
                "--force",
                "--profile",
                profile,
                file.to_str().unwrap(),
            ],
        );
        std::fs::remove_file(&file).unwrap();
        assert!(out.status.success(), "import: {}", text(&out.stderr));
    }

    /// One helper call printing the token in its own protocol; returns it.
    fn spawn_helper(&self, m: &Machine, which: usize, profile: &str) -> Child {
        let (binary, args, stdin): (&str, Vec<&str>, Option<String>) = match which % 5 {
            0 => ("central-auth", vec!["token", "--profile", profile], None),
            1 => (
                "git-credential-central",
                vec!["--profile", profile, "get"],
                Some("protocol=http\nhost=127.0.0.1\n\n".into()),
            ),
            2 => ("central-auth-kube", vec!["--profile", profile], None),
            3 => (
                "central-auth-terraform",
                vec!["--profile", profile],
                Some("{}".into()),
            ),
            _ => ("central-auth-ansible", vec!["--profile", profile], None),
        };
        let mut c = self.cmd(m, binary);
        c.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = c.spawn().unwrap();
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
        }
        child
    }

    /// Every file under every machine's home, for secret scans.
    fn disk(&self) -> Vec<(PathBuf, Vec<u8>)> {
        self.machines
            .iter()
            .flat_map(|m| tree(m.dir.path()))
            .collect()
    }
}

/// The token in a helper's output, whatever its protocol.
fn token_of(which: usize, out: &Output) -> String {
    let s = text(&out.stdout);
    match which % 5 {
        0 => s.trim_end().to_owned(),
        1 => s
            .lines()
            .find_map(|l| l.strip_prefix("password="))
            .unwrap_or_default()
            .to_owned(),
        2 => {
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            v["status"]["token"].as_str().unwrap().to_owned()
        }
        _ => {
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            v["access_token"].as_str().unwrap().to_owned()
        }
    }
}

/// The expiry a helper reported, Unix seconds (git and kubectl only).
fn reported_expiry(which: usize, out: &Output) -> Option<i64> {
    let s = text(&out.stdout);
    match which % 5 {
        1 => s
            .lines()
            .find_map(|l| l.strip_prefix("password_expiry_utc="))
            .map(|v| v.parse().unwrap()),
        2 => {
            let v: serde_json::Value = serde_json::from_str(&s).unwrap();
            let ts = v["status"]["expirationTimestamp"].as_str().unwrap();
            let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
                .unwrap();
            Some(t.unix_timestamp())
        }
        _ => None,
    }
}

/// 4 machines × 16 processes at once on `profile`; returns the tokens printed
/// and the expiries git and kubectl reported.
fn stampede(fleet: &Fleet, profile: &str, mix: bool) -> (Vec<String>, Vec<i64>, Duration) {
    let barrier = Barrier::new(64);
    let t = Instant::now();
    let outs: Vec<(usize, Output)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let barrier = &barrier;
                s.spawn(move || {
                    let m = &fleet.machines[i % 4];
                    let which = if mix { i } else { 0 };
                    barrier.wait();
                    let child = fleet.spawn_helper(m, which, profile);
                    (which, child.wait_with_output().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = t.elapsed();
    let expiries = outs
        .iter()
        .filter_map(|(which, out)| reported_expiry(*which, out))
        .collect();
    let tokens = outs
        .iter()
        .map(|(which, out)| {
            assert!(
                out.status.success(),
                "helper {which} failed: {}",
                text(&out.stderr)
            );
            token_of(*which, out)
        })
        .collect();
    (tokens, expiries, wall)
}

#[test]
fn fleet_stampede_refreshes_once_and_no_disk_holds_a_refresh_token() {
    let Some(fleet) = Fleet::new(4, 7200, "") else {
        return;
    };
    for (round, (profile, mix)) in [("prod", false), ("prod2", true)].into_iter().enumerate() {
        fleet.import(profile, 7300);
        let before = fleet.sim.counters();
        let (tokens, expiries, wall) = stampede(&fleet, profile, mix);
        let c = fleet.sim.counters();
        let refreshes = c.refresh - before.refresh;
        assert_eq!(
            refreshes, 1,
            "round {round}: 64 callers on 4 machines, one refresh"
        );
        assert_eq!(c.refresh_rejected - before.refresh_rejected, 0);
        assert_eq!(c.login - before.login, 0);
        let first = &tokens[0];
        assert!(
            tokens.iter().all(|t| t == first),
            "round {round}: one token for all 64"
        );
        assert!(fleet.sim.access_token_valid(first));
        // Helpers report the fleet's rotation moment (expiry minus min_valid 5m),
        // never the token's own expiry.
        let record = fleet
            .bao
            .kv_get(&format!("central-auth/{profile}"))
            .unwrap();
        let rotate_at = record["expires_at"].as_i64().unwrap() - 300;
        assert_eq!(expiries.len(), if mix { 26 } else { 0 });
        for e in &expiries {
            assert!(
                (rotate_at - 1..=rotate_at).contains(e),
                "reported {e}, rotation at {rotate_at}"
            );
        }
        figures(&format!(
            "fleet stampede {} (4 machines x 16 {}): {refreshes} refresh, 0 rejected, 0 logins, 64/64 same valid token, wall {} ms",
            round + 1,
            if mix { "mixed helpers" } else { "`central-auth token`" },
            wall.as_millis()
        ));
    }
    // No machine's disk holds any refresh token the simulator ever issued.
    let issued = fleet.sim.issued_refresh_tokens();
    assert!(
        issued.len() >= 4,
        "imports and rotations issued refresh tokens"
    );
    let disk = fleet.disk();
    for rt in &issued {
        for (path, bytes) in &disk {
            assert!(
                !String::from_utf8_lossy(bytes).contains(rt.as_str()),
                "a refresh token is on disk in {}",
                path.display()
            );
        }
    }
    // The chain is in Vault, and the caches are private.
    let record = fleet
        .bao
        .kv_get("central-auth/prod")
        .expect("record in Vault");
    assert!(issued.contains(&record["refresh_token"].as_str().unwrap().to_owned()));
    for (path, _) in &disk {
        if path.to_string_lossy().ends_with(".cache.json") {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", path.display());
        }
    }
    figures(&format!(
        "fleet disk scan: {} refresh tokens issued, 0 found in {} files on 4 machines",
        issued.len(),
        disk.len()
    ));
}

fn stderr_line(out: &Output) -> String {
    text(&out.stderr)
}

#[test]
fn vault_outage_serves_a_valid_cache_and_never_refreshes() {
    let Some(mut fleet) = Fleet::new(2, 7200, "cache_ttl = \"1s\"") else {
        return;
    };
    // prod: a live token, read into machine 1's cache. prod2: expired.
    fleet.import("prod", 0);
    fleet.import("prod2", 7300);
    let a = &fleet.machines[1];
    let live = fleet.cli(a, &["token", "--profile", "prod"]);
    assert!(live.status.success(), "{}", stderr_line(&live));
    let live = text(&live.stdout);
    // Machine 0 imported prod2, so its cache holds prod2's expired access token.
    std::thread::sleep(Duration::from_millis(1100)); // caches are no longer fresh
    let before = fleet.sim.counters();
    fleet.bao.stop();

    let t = Instant::now();
    let served = fleet.cli(a, &["token", "--profile", "prod"]);
    let served_ms = t.elapsed().as_millis();
    assert!(
        served.status.success(),
        "cached token with Vault down: {}",
        stderr_line(&served)
    );
    assert_eq!(text(&served.stdout), live, "the cached token is served");

    let down = fleet.cli(&fleet.machines[0], &["token", "--profile", "prod2"]);
    assert_eq!(down.status.code(), Some(5), "{}", stderr_line(&down));
    let line = stderr_line(&down);
    assert!(
        line.contains("Vault") && line.contains("unreachable"),
        "{line}"
    );
    assert_eq!(line.trim_end().lines().count(), 1, "one line: {line}");
    let after = fleet.sim.counters();
    assert_eq!(
        after.token_requests, before.token_requests,
        "no refresh with Vault down"
    );
    // status still shows the store and the (stale) local cache; doctor says
    // the store is unreachable.
    let out = fleet.cli(a, &["status", "--profile", "prod", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["store_error"].as_str().unwrap().contains("unreachable"),
        "{v}"
    );
    assert_eq!(v["store_details"]["cache"]["fresh"], false, "{v}");
    assert!(v["store_details"]["cache"]["age_seconds"].as_i64().unwrap() >= 1);
    let out = fleet.cli(a, &["doctor", "--profile", "prod"]);
    let report = text(&out.stdout);
    assert!(report.contains("FAIL store reach"), "{report}");
    assert!(report.contains("ok   permissions"), "{report}");
    figures(&format!(
        "fleet outage: cached token served with Vault down in {served_ms} ms; expired -> exit 5, 0 token requests at Central"
    ));
}

#[test]
fn revoked_vault_token_is_exit_6_with_the_policy_path() {
    let Some(mut fleet) = Fleet::new(1, 7200, "") else {
        return;
    };
    fleet.import("prod", 7300);
    let revoked = fleet
        .bao
        .token_with_policy("central-auth-2", &documented_policy());
    fleet.bao.revoke(&revoked);
    fleet.machines[0].vault_token = revoked;
    let before = fleet.sim.counters();
    let out = fleet.cli(&fleet.machines[0], &["token", "--profile", "prod"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr_line(&out));
    let line = stderr_line(&out);
    assert!(
        line.contains("secret/data/central-auth/*"),
        "names the policy path: {line}"
    );
    assert_eq!(fleet.sim.counters().token_requests, before.token_requests);
    // doctor: the revoked token fails `store auth`.
    let out = fleet.cli(&fleet.machines[0], &["doctor", "--profile", "prod"]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("ok   store reach"), "{report}");
    assert!(report.contains("FAIL store auth"), "{report}");
    // A token that may take the lease and read the record but not write it:
    // `store policy` fails on the record's exact path (the check-and-set
    // probe), names the policy path needed, and writes nothing.
    let narrow = fleet.bao.token_with_policy(
        "central-auth-read-only",
        "path \"secret/data/central-auth/_lease/*\" {\n  capabilities = [\"create\", \"read\", \"update\"]\n}\npath \"secret/data/central-auth/prod\" {\n  capabilities = [\"read\"]\n}\n",
    );
    fleet.machines[0].vault_token = narrow;
    let record = fleet.bao.kv_get("central-auth/prod");
    let out = fleet.cli(
        &fleet.machines[0],
        &["doctor", "--profile", "prod", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = |name: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {v}"))
            .clone()
    };
    assert_eq!(check("store auth")["verdict"], "ok", "{v}");
    let policy = check("store policy");
    assert_eq!(policy["verdict"], "fail", "{v}");
    let detail = policy["detail"].as_str().unwrap();
    assert!(
        detail.contains("write secret/data/central-auth/prod")
            && detail.contains("path \"secret/data/central-auth/*\""),
        "names the denied path and the policy path: {detail}"
    );
    assert_eq!(
        fleet.bao.kv_get("central-auth/prod"),
        record,
        "nothing written"
    );
    figures(
        "fleet revoked Vault token: exit 6 naming secret/data/central-auth/*, 0 calls to Central; doctor fails store auth, and store policy on a read-only record path",
    );
}

#[test]
fn migrate_moves_a_live_chain_without_a_refresh_and_doctor_checks_the_store() {
    let Some(fleet) = Fleet::new(2, 7200, "") else {
        return;
    };
    let (a, b) = (&fleet.machines[0], &fleet.machines[1]);
    // Machine A keeps prod in its local file store first.
    let config = a.dir.path().join("config.toml");
    let shared = std::fs::read_to_string(&config).unwrap();
    let local = shared.replace("[profiles.prod]\nstore = \"team\"\n", "[profiles.prod]\n");
    assert_ne!(local, shared);
    std::fs::write(&config, &local).unwrap();
    let mut download = fleet.sim.download_token();
    let file = a.dir.path().join("download.json");
    std::fs::write(&file, download.to_string()).unwrap();
    let out = fleet.cli(a, &["import", "--profile", "prod", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::remove_file(&file).unwrap();
    let access = download["access_token"].take();
    let on_disk = |rt: &str| {
        tree(a.dir.path())
            .iter()
            .any(|(_, bytes)| String::from_utf8_lossy(bytes).contains(rt))
    };
    let imported_rt = download["refresh_token"].as_str().unwrap().to_owned();
    assert!(
        on_disk(&imported_rt),
        "the file store holds the chain before"
    );

    // Without a store configured, migrate says what to add and changes nothing.
    let out = fleet.cli(
        a,
        &["store", "migrate", "--profile", "prod", "--from", "file"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("store = "),
        "{}",
        text(&out.stderr)
    );

    std::fs::write(&config, &shared).unwrap();
    let before = fleet.sim.counters();
    let out = fleet.cli(
        a,
        &["store", "migrate", "--profile", "prod", "--from", "file"],
    );
    assert!(out.status.success(), "migrate: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("without a refresh"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        fleet.sim.counters().token_requests,
        before.token_requests,
        "no refresh"
    );
    // The local copy is gone; Vault holds the chain.
    assert!(!on_disk(&imported_rt), "the local copy is deleted");
    assert!(fleet.bao.kv_get("central-auth/prod").is_some());

    // Machine B gets the very same token, and the chain is alive: a refresh works.
    let out = fleet.cli(b, &["token", "--profile", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), access.as_str().unwrap());
    assert!(fleet.sim.access_token_valid(access.as_str().unwrap()));
    let out = fleet.cli(b, &["refresh", "--profile", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c = fleet.sim.counters();
    assert_eq!((c.refresh, c.refresh_rejected, c.login), (1, 0, 0));

    // status and doctor show the store and check it.
    let status = text(&fleet.cli(b, &["status", "--profile", "prod"]).stdout);
    assert!(status.contains("vault http://127.0.0.1:"), "{status}");
    for line in [
        "  store table    [stores.team] mount secret, path central-auth\n",
        "  store auth     token_env E2E_VAULT_TOKEN\n",
        "  local cache    fresh, read ",
    ] {
        assert!(status.contains(line), "missing {line:?} in {status}");
    }
    let json_status = fleet.cli(b, &["status", "--profile", "prod", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json_status.stdout).unwrap();
    assert_eq!(v["store_kind"], "vault");
    let d = &v["store_details"];
    for (key, want) in [
        ("name", "team"),
        ("address", fleet.bao.addr.as_str()),
        ("mount", "secret"),
        ("path", "central-auth"),
        ("record", "secret/data/central-auth/prod"),
        ("policy_path", "secret/data/central-auth/*"),
        ("auth", "token"),
        ("auth_source", "token_env E2E_VAULT_TOKEN"),
    ] {
        assert_eq!(d[key], want, "{key} in {d}");
    }
    assert_eq!(d["namespace"], serde_json::Value::Null);
    assert_eq!(d["cache_ttl_seconds"], 30);
    assert_eq!(d["cache"]["fresh"], true, "{d}");
    assert_eq!(
        d["cache"]["expires_at"], v["token"]["central_expires_at"],
        "the cache holds the record's access token (Central's expiry)"
    );
    assert!(!text(&json_status.stdout).contains(&fleet.machines[1].vault_token));
    let used_by = status
        .lines()
        .find(|l| l.contains("used by"))
        .unwrap_or_default();
    assert!(
        used_by.contains("cli"),
        "status lists the tools using it: {status}"
    );
    let out = fleet.cli(b, &["doctor", "--profile", "prod"]);
    let report = text(&out.stdout);
    for line in [
        "ok   store",
        "ok   store reach",
        "ok   store auth",
        "ok   store policy",
    ] {
        assert!(report.contains(line), "missing {line:?} in {report}");
    }
    // logout writes a tombstone with check-and-set; a later import writes over it.
    let out = fleet.cli(b, &["logout", "--profile", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        fleet.bao.kv_get("central-auth/prod").unwrap()["deleted"],
        true
    );
    let out = fleet.cli(b, &["token", "--profile", "prod"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    fleet.import("prod", 0);
    let out = fleet.cli(b, &["token", "--profile", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    figures("fleet migrate: file -> vault with 0 token requests at Central; token valid from another machine; then 1 refresh, 0 rejected");
}

#[test]
fn approle_login_reaches_the_shared_chain() {
    let Some(fleet) = Fleet::new(1, 7200, "") else {
        return;
    };
    let bao = &fleet.bao;
    let ok = |args: &[&str]| {
        let out = bao.cli(args);
        assert!(out.status.success(), "bao {args:?}: {}", text(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default()
    };
    ok(&["auth", "enable", "approle"]);
    ok(&[
        "write",
        "auth/approle/role/fleet",
        "token_policies=central-auth",
        "token_ttl=10m",
    ]);
    let role_id = ok(&["read", "-format=json", "auth/approle/role/fleet/role-id"])["data"]
        ["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret_id = ok(&[
        "write",
        "-format=json",
        "-f",
        "auth/approle/role/fleet/secret-id",
    ])["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();
    fleet.import("prod", 0);
    let m = &fleet.machines[0];
    let config = m.dir.path().join("config.toml");
    let text_cfg = std::fs::read_to_string(&config).unwrap().replace(
        "token_env = \"E2E_VAULT_TOKEN\"\n",
        &format!("auth = \"approle\"\nrole_id = \"{role_id}\"\nsecret_id_env = \"E2E_SECRET_ID\"\ncache_ttl = \"0s\"\n"),
    );
    std::fs::write(&config, text_cfg).unwrap();
    let stored = fleet.bao.kv_get("central-auth/prod").unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = fleet
        .cmd(m, "central-auth")
        .args(["token", "--profile", "prod"])
        .env_remove("E2E_VAULT_TOKEN")
        .env("E2E_SECRET_ID", &secret_id)
        .output()
        .unwrap();
    assert!(out.status.success(), "approle: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim_end(), stored);
    let out = fleet
        .cmd(m, "central-auth")
        .args(["token", "--profile", "prod"])
        .env_remove("E2E_VAULT_TOKEN")
        .env("E2E_SECRET_ID", "not-the-secret-id")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("AppRole login"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("not-the-secret-id"));
    figures("fleet approle: login with role_id + secret_id reads the shared chain; a wrong secret id is exit 6");
}

/// `auth = "kubernetes"` against OpenBao's real kubernetes auth method, which
/// reviews the service account JWT with a loopback HTTPS TokenReview endpoint
/// (no cluster here): the only JWT it calls authenticated is the one it minted.
#[test]
fn kubernetes_login_reaches_the_shared_chain_and_the_jwt_stays_secret() {
    let Some(mut fleet) = Fleet::new(1, 7200, "") else {
        return;
    };
    // The pod's token lives outside the home, like /var/run/secrets/....
    let pod = tempfile::Builder::new()
        .prefix("central-auth-pod-")
        .tempdir()
        .unwrap();
    if make_certs(pod.path()).is_none() {
        return;
    }
    let jwt_file = pod.path().join("token");
    let Some(api) = ApiServer::token_reviewer(pod.path(), &jwt_file, "ci", "runner") else {
        return;
    };
    let jwt = std::fs::read_to_string(&jwt_file).unwrap();
    assert_eq!(jwt.split('.').count(), 3, "a JWT");
    let bao = &fleet.bao;
    let ok = |args: &[&str]| {
        let out = bao.cli(args);
        assert!(out.status.success(), "bao {args:?}: {}", text(&out.stderr));
    };
    // The setup recipe of docs/fleet.md, with the test's host and CA.
    ok(&["auth", "enable", "kubernetes"]);
    ok(&[
        "write",
        "auth/kubernetes/config",
        &format!("kubernetes_host={}", api.url()),
        &format!(
            "kubernetes_ca_cert=@{}",
            pod.path().join("ca.pem").display()
        ),
    ]);
    ok(&[
        "write",
        "auth/kubernetes/role/central-auth",
        "bound_service_account_names=runner",
        "bound_service_account_namespaces=ci",
        "token_policies=central-auth",
        "token_ttl=10m",
    ]);
    // Machine 0 has no Vault token at all: only the service account's JWT.
    fleet.machines[0].vault_token = String::new();
    let m = &fleet.machines[0];
    let config = m.dir.path().join("config.toml");
    let kube_cfg = format!(
        "auth = \"kubernetes\"\nrole = \"central-auth\"\njwt_file = \"{}\"\n",
        jwt_file.display()
    );
    let shared = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        shared.replace("token_env = \"E2E_VAULT_TOKEN\"\n", &kube_cfg),
    )
    .unwrap();
    let outputs: std::cell::RefCell<Vec<Output>> = Default::default();
    let run = |args: &[&str]| {
        let out = fleet.cli(m, args);
        outputs.borrow_mut().push(out.clone());
        out
    };

    // Import an expired pair through the kubernetes login; the first token
    // call refreshes it once, the second is served from the shared record.
    fleet.import("prod", 7300);
    let first = run(&["token", "--profile", "prod"]);
    assert!(
        first.status.success(),
        "kubernetes: {}",
        text(&first.stderr)
    );
    let token = text(&first.stdout).trim_end().to_owned();
    assert!(fleet.sim.access_token_valid(&token));
    let record = fleet.bao.kv_get("central-auth/prod").unwrap();
    assert_eq!(record["access_token"], token.as_str());
    let out = run(&["refresh", "--profile", "prod"]);
    assert!(out.status.success(), "refresh: {}", text(&out.stderr));
    let c = fleet.sim.counters();
    assert_eq!((c.refresh, c.refresh_rejected, c.login), (2, 0, 0));
    let refreshed = fleet.bao.kv_get("central-auth/prod").unwrap();
    assert_ne!(refreshed["access_token"], token.as_str());

    // status shows the store, its auth and the fresh local cache.
    let status = run(&["status", "--profile", "prod", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let d = &v["store_details"];
    assert_eq!(v["store_kind"], "vault");
    assert_eq!(d["auth"], "kubernetes");
    assert_eq!(d["address"], fleet.bao.addr.as_str());
    assert_eq!(d["record"], "secret/data/central-auth/prod");
    assert_eq!(d["policy_path"], "secret/data/central-auth/*");
    assert!(
        d["auth_source"]
            .as_str()
            .unwrap()
            .contains("auth/kubernetes/login (role central-auth"),
        "{d}"
    );
    assert_eq!(d["cache"]["fresh"], true, "{d}");
    assert!(d["cache"]["age_seconds"].as_i64().unwrap() < 30, "{d}");
    let status = text(&run(&["status", "--profile", "prod"]).stdout);
    for line in [
        "  store table    [stores.team] mount secret, path central-auth",
        "  store auth     kubernetes login at auth/kubernetes/login (role central-auth",
        "  local cache    fresh, read ",
    ] {
        assert!(status.contains(line), "missing {line:?} in {status}");
    }
    let doctor = run(&["doctor", "--profile", "prod"]);
    let report = text(&doctor.stdout);
    assert!(doctor.status.success(), "{report}");
    assert!(
        report.contains("ok   store auth     the Vault token from kubernetes login"),
        "{report}"
    );
    assert!(report.contains("ok   store policy"), "{report}");

    // A Vault token revoked mid-refresh: the write after the rotation logs in
    // again and saves the new pair (the chain is not lost).
    fleet.sim.inject(Fault::Delay {
        path_prefix: "/oauth2/token".into(),
        count: 1,
        millis: 2000,
    });
    let before = fleet.sim.counters();
    let reviews_before = api.seen().iter().filter(|s| s.review && s.ok).count();
    let child = fleet
        .cmd(m, "central-auth")
        .args(["refresh", "--profile", "prod"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while fleet.sim.counters().token_requests == before.token_requests {
        assert!(t.elapsed() < Duration::from_secs(30), "no refresh started");
        std::thread::sleep(Duration::from_millis(10));
    }
    ok(&["token", "revoke", "-mode=path", "auth/kubernetes/"]);
    let out = child.wait_with_output().unwrap();
    outputs.borrow_mut().push(out.clone());
    assert!(out.status.success(), "re-login: {}", text(&out.stderr));
    let c = fleet.sim.counters();
    assert_eq!((c.refresh, c.refresh_rejected), (3, 0));
    let reviews = api.seen().iter().filter(|s| s.review && s.ok).count() - reviews_before;
    assert_eq!(reviews, 2, "one login, one re-login after the revocation");
    // Without token_reviewer_jwt, OpenBao reviews a JWT with itself as the
    // bearer (docs/fleet.md says so).
    assert!(api
        .seen()
        .iter()
        .filter(|s| s.review && s.ok)
        .all(|s| s.self_bearer));
    let out = run(&["token", "--profile", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let now = text(&out.stdout).trim_end().to_owned();
    assert_eq!(
        fleet.bao.kv_get("central-auth/prod").unwrap()["access_token"],
        now.as_str()
    );
    assert!(fleet.sim.access_token_valid(&now));

    // A JWT the API server did not mint: exit 6, one line naming the auth
    // path and the role, and no call to Central.
    let mut forged: Vec<&str> = jwt.trim().split('.').collect();
    let other_sig = "c2lnbmVkLWJ5LXNvbWVib2R5LWVsc2U";
    forged[2] = other_sig;
    let forged = forged.join(".");
    std::fs::write(&jwt_file, &forged).unwrap();
    let before = fleet.sim.counters();
    let out = run(&["refresh", "--profile", "prod"]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let line = text(&out.stderr);
    assert_eq!(line.trim_end().lines().count(), 1, "one line: {line}");
    assert!(
        line.contains("Kubernetes login at auth/kubernetes/login for role \"central-auth\""),
        "{line}"
    );
    assert_eq!(fleet.sim.counters().token_requests, before.token_requests);
    assert!(api.seen().iter().any(|s| s.review && !s.ok));
    let doctor = run(&["doctor", "--profile", "prod"]);
    let report = text(&doctor.stdout);
    assert!(report.contains("ok   store reach"), "{report}");
    assert!(
        report.contains("FAIL store auth     Vault at")
            && report.contains("refused the Kubernetes login at auth/kubernetes/login"),
        "{report}"
    );
    assert!(
        !report.contains("store policy"),
        "not checked without auth: {report}"
    );
    std::fs::write(&jwt_file, &jwt).unwrap();

    // Neither JWT is in any output, nor in any file of the home.
    let outputs = outputs.into_inner();
    for secret in [jwt.trim(), forged.as_str()] {
        for out in &outputs {
            assert!(!text(&out.stdout).contains(secret), "a JWT on stdout");
            assert!(!text(&out.stderr).contains(secret), "a JWT on stderr");
        }
        for (path, bytes) in fleet.disk() {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "a JWT on disk in {}",
                path.display()
            );
        }
    }
    figures(&format!(
        "fleet kubernetes: JWT reviewed by a loopback TokenReview, 3 refreshes 0 rejected, re-login after revocation mid-refresh, forged JWT -> exit 6; JWT in 0 of {} outputs and 0 files",
        outputs.len()
    ));
}

#[test]
fn tenant_profiles_share_one_msp_mint_and_one_exchange_across_the_fleet() {
    let Some(fleet) = Fleet::new(3, 7200, "") else {
        return;
    };
    let extra = "store = \"team\"\n";
    for m in &fleet.machines {
        let mut text = format!(
            "[stores.team]\nkind = \"vault\"\naddress = \"{}\"\ntoken_env = \"E2E_VAULT_TOKEN\"\n\n",
            fleet.bao.addr
        );
        text.push_str(&crate::msp::msp_config(&fleet.sim.url(), ""));
        // Every profile in the shared store.
        let text = text.replace(
            "lock_timeout = \"60s\"\n",
            &format!("lock_timeout = \"60s\"\n{extra}"),
        );
        std::fs::write(m.dir.path().join("config.toml"), text).unwrap();
    }
    let t = Instant::now();
    let children: Vec<(usize, Child)> = (0..24)
        .map(|i| {
            let m = &fleet.machines[i % 3];
            (
                i,
                fleet.spawn_helper(m, i / 3, if i % 2 == 0 { "acme" } else { "bob" }),
            )
        })
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for (i, c) in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "caller {i}: {}", text(&out.stderr));
        tokens.insert((i % 2, token_of((i / 3) % 5, &out)));
    }
    let wall = t.elapsed();
    let c = fleet.sim.counters();
    figures(&format!(
        "fleet msp: 24 callers (5 tools) on 3 hosts, 2 tenants: {} MSP mint, {} exchanges, {} tenant-list pages, {} ms",
        c.msp_mints,
        c.token_exchanges,
        c.tenant_lists,
        wall.as_millis()
    ));
    assert_eq!(
        (c.msp_mints, c.token_exchanges, c.token_exchanges_rejected),
        (1, 2, 0)
    );
    assert_eq!(
        tokens.len(),
        2,
        "one token per tenant across the fleet: {tokens:?}"
    );
    // The shared tenant token is the one Central (the simulator) knows.
    let (_, acme) = tokens.iter().find(|(k, _)| *k == 0).unwrap();
    assert!(fleet.sim.access_token_valid(acme));
}

/// Writes `data` at `secret/<key>` of the dev server as a peer with the root
/// token would, without a check-and-set.
fn put_raw(bao: &Bao, key: &str, data: &serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .post(format!("{}/v1/secret/data/{key}", bao.addr))
        .header("X-Vault-Token", &bao.root)
        .send(serde_json::json!({ "data": data }).to_string())
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "put {key}");
}

#[test]
fn hostile_lease_and_older_record_neither_panic_nor_rotate() {
    let Some(fleet) = Fleet::new(1, 7200, "cache_ttl = \"0s\"") else {
        return;
    };
    fleet.import("prod", 0);
    let m = &fleet.machines[0];
    let first = fleet.cli(m, &["token", "--profile", "prod"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    // A lease record whose TTL overflows any clock arithmetic.
    for (host, pid) in [("peer-host.invalid", 1u64), ("", u64::from(u32::MAX - 1))] {
        let host = if host.is_empty() {
            text(&Command::new("hostname").output().unwrap().stdout)
                .trim()
                .to_owned()
        } else {
            host.to_owned()
        };
        put_raw(
            &fleet.bao,
            "central-auth/_lease/prod",
            &serde_json::json!({
                "owner": {"host": host, "pid": pid},
                "ttl_secs": 9_223_372_036_854_775_807u64,
                "released": false
            }),
        );
        let status = fleet.cli(m, &["status", "--profile", "prod", "--json"]);
        assert_ne!(status.status.code(), Some(101), "{}", text(&status.stderr));
        let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
        assert_eq!(v["lock_held"], pid == 1, "{v}");
    }
    // The dead local holder's lease is taken over at once, huge TTL or not.
    let out = fleet.cli(m, &["token", "--profile", "prod"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The store serves an older generation of the chain than this machine saw
    // (not generation 1: a new chain starts there again).
    let refreshed = fleet.cli(m, &["refresh", "--profile", "prod"]);
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    let old = fleet.bao.kv_get("central-auth/prod").unwrap();
    assert!(old["generation"].as_u64().unwrap() > 1, "{old}");
    let refreshed = fleet.cli(m, &["refresh", "--profile", "prod"]);
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    let seen = fleet.cli(m, &["token", "--profile", "prod"]);
    assert!(seen.status.success());
    put_raw(&fleet.bao, "central-auth/prod", &old);
    let before = fleet.sim.counters();
    // The cached token of the newer generation stays served (until its
    // rotation moment, as in an outage) ...
    let served = fleet.cli(m, &["token", "--profile", "prod"]);
    assert!(served.status.success(), "{}", text(&served.stderr));
    assert_eq!(served.stdout, seen.stdout);
    assert!(fleet
        .sim
        .access_token_valid(text(&served.stdout).trim_end()));
    // ... and without it the caller gets exit 5 and the line.
    std::fs::remove_file(m.dir.path().join("state/fleet/team/prod.cache.json")).unwrap();
    let out = fleet.cli(m, &["token", "--profile", "prod"]);
    let line = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{line}");
    assert!(
        line.contains("older")
            && line.contains("restored")
            && line.contains("nothing was refreshed"),
        "{line}"
    );
    assert_eq!(line.trim_end().lines().count(), 1, "{line}");
    assert_eq!(
        fleet.sim.counters().token_requests,
        before.token_requests,
        "nothing is rotated from an older record"
    );
    figures("fleet hostile peer: lease ttl_secs i64::MAX -> no panic in token or status; an older generation in the store -> exit 5, 0 requests to Central");
}
