//! Real Central clients read the simulator's seeded inventory: the community
//! CLI `centralcli` 10.0.4 (`cencli`, which treats a base URL outside
//! arubanetworks.com as on-prem Central) runs its everyday `show` commands, and
//! the official SDK pycentral 1.4.3 calls the same API paths. Each must exit 0
//! and show what the simulator seeded.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use central_auth_e2e::*;

/// centralcli's workspace config (test-environment.md §10) under `home`.
fn write_cencli_config(home: &Path, url: &str) {
    let c = SimConfig::default();
    let dir = home.join(".config").join("centralcli");
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = format!(
        "workspaces:\n  default:\n    classic:\n      base_url: {url}\n      customer_id: {}\n      client_id: {}\n      client_secret: {}\n      username: {}\n      password: {}\n",
        c.customer_id, c.client_id, c.client_secret, c.username, c.password
    );
    std::fs::write(dir.join("config.yaml"), yaml).unwrap();
}

/// `show` commands and a seeded value each must print.
const COMMANDS: &[(&str, &[&str])] = &[
    ("show groups", &["campus", "branch", "Total Groups: 3"]),
    ("show aps", &["CNSIMAP001", "CNSIMAP003", "ap-hq-lobby"]),
    ("show switches", &["SGSIMSW001", "sw-branch-01"]),
    ("show gateways", &["CNSIMGW001", "gw-hq-01"]),
    ("show sites", &["Branch-01", "San Jose", "Total Sites: 2"]),
    ("show labels", &["production", "lab"]),
    ("show clients", &["laptop-alice", "printer-hq", "Wired: 2"]),
    ("show alerts", &["ap-branch-01 disconnected", "Major"]),
    ("show wlans", &["Corp-WiFi", "Guest"]),
    ("show audit logs", &["API token created in API Gateway"]),
];

#[test]
fn centralcli_everyday_commands_read_the_seeded_inventory() {
    let Some(cencli) = venv_bin("centralcli", "cencli") else {
        return;
    };
    let sim = sim_with(7200);
    let home = tempfile::tempdir().unwrap();
    write_cencli_config(home.path(), &sim.url());
    let run = |args: &str| {
        Command::new(&cencli)
            .args(args.split(' '))
            .current_dir(home.path())
            .env("HOME", home.path())
            .env("COLUMNS", "200")
            .env("NO_COLOR", "1")
            .env_remove("XDG_CONFIG_HOME")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let started = Instant::now();
    for (args, wants) in COMMANDS {
        let out = run(args);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "cencli {args} exited {}: {stdout}\n{}",
            out.status,
            text(&out.stderr)
        );
        for want in *wants {
            assert!(
                stdout.contains(want),
                "cencli {args}: no {want:?} in\n{stdout}"
            );
        }
        assert!(
            !stdout.contains("no route and no API"),
            "cencli {args}: a 404\n{stdout}"
        );
    }
    // `show token` refreshes the pair and prints the new access token, which
    // the simulator must accept.
    let before = sim.counters().refresh;
    let out = run("show token");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "cencli show token: {stdout}");
    let token = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("Access Token:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no access token in {stdout}"));
    assert!(sim.access_token_valid(token), "cencli's token is live");
    let c = sim.counters();
    assert_eq!(c.refresh, before + 1, "show token refreshed once");
    assert_eq!(c.login, 1, "one login, then the token cache");
    assert_eq!(c.api_unauthorized, 0);
    let _ = writeln!(
        std::io::stderr(),
        "figures: centralcli {} commands in {:.1} s, {} API calls answered 200",
        COMMANDS.len() + 1,
        started.elapsed().as_secs_f64(),
        c.api_ok
    );
}

#[test]
fn pycentral_reads_the_same_paths() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let sim = sim_with(7200);
    let dir = tempfile::tempdir().unwrap();
    let c = SimConfig::default();
    let info = serde_json::json!({
        "client_id": c.client_id, "client_secret": c.client_secret,
        "customer_id": c.customer_id, "username": c.username, "password": c.password,
    });
    let out = Command::new(python)
        .current_dir(dir.path())
        .env("E2E_CENTRAL_INFO", info.to_string())
        .arg(workspace().join("tests/fixtures/pycentral_inventory.py"))
        .arg(sim.url())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let seen: serde_json::Value =
        serde_json::from_str(stdout.lines().rev().find(|l| l.starts_with('{')).unwrap()).unwrap();
    for (path, v) in seen.as_object().unwrap() {
        assert_eq!(v["code"], 200, "{path}: {v}");
    }
    let msg = |p: &str| seen[p]["msg"].clone();
    assert_eq!(msg("/configuration/v2/groups")["total"], 3);
    assert_eq!(
        msg("/configuration/v2/groups/template_info")["data"][1]["group"],
        "campus"
    );
    assert_eq!(
        msg("/configuration/v1/groups/properties")["data"][2]["properties"]["GwNetworkRole"],
        "BranchGateway"
    );
    let aps = msg("/monitoring/v2/aps");
    assert_eq!(
        (aps["count"].clone(), aps["total"].clone()),
        (2.into(), 3.into())
    );
    assert_eq!(
        msg("/monitoring/v1/switches")["switches"][0]["serial"],
        "SGSIMSW001"
    );
    assert_eq!(
        msg("/monitoring/v1/gateways")["gateways"][0]["name"],
        "gw-hq-01"
    );
    assert_eq!(
        msg("/monitoring/v2/mobility_controllers")["mcs"][0]["name"],
        "gw-hq-01"
    );
    assert_eq!(msg("/monitoring/v1/clients/wireless")["total"], 3);
    assert_eq!(
        msg("/monitoring/v1/clients/wired")["clients"][0]["name"],
        "printer-hq"
    );
    assert_eq!(
        msg("/monitoring/v2/networks")["networks"][1]["essid"],
        "Guest"
    );
    assert_eq!(msg("/central/v2/sites")["sites"][0]["site_name"], "HQ");
    assert_eq!(
        msg("/central/v2/labels")["labels"][0]["label_name"],
        "production"
    );
    assert_eq!(msg("/central/v1/notifications")["total"], 2);
    assert_eq!(msg("/auditlogs/v1/events")["total"], 3);
    let c = sim.counters();
    assert_eq!((c.login, c.api_ok), (1, 14));
}
