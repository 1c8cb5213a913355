//! The official Python SDK, pycentral 1.4.3, as a real client: against
//! `central-sim` directly (proving the simulator speaks what Central speaks), and
//! fed the token by `central-auth exec`.

use std::process::Command;

use central_auth_e2e::*;

fn central_info() -> String {
    let c = SimConfig::default();
    serde_json::json!({
        "client_id": c.client_id, "client_secret": c.client_secret,
        "customer_id": c.customer_id, "username": c.username, "password": c.password,
    })
    .to_string()
}

fn script() -> String {
    workspace()
        .join("tests/fixtures/pycentral_client.py")
        .display()
        .to_string()
}

fn last_json_line(out: &std::process::Output) -> serde_json::Value {
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "pycentral failed: {stdout}\n{}",
        text(&out.stderr)
    );
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap();
    serde_json::from_str(line).unwrap()
}

#[test]
fn pycentral_logs_in_and_refreshes_by_itself_against_the_simulator() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let sim = sim_with(7200);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .current_dir(dir.path())
        .env("E2E_CENTRAL_INFO", central_info())
        .args([script(), sim.url(), "login".into()])
        .output()
        .unwrap();
    let seen = last_json_line(&out);
    assert_eq!(seen["first"], 200);
    assert_eq!(seen["after_expiry"], 200);
    let c = sim.counters();
    assert_eq!(
        (
            c.login,
            c.authorize,
            c.code_exchange,
            c.refresh,
            c.api_unauthorized
        ),
        (1, 1, 1, 1, 1),
        "three-step login, then one 401 invalid_token and one refresh"
    );
    // pycentral stored the rotated pair in its own cache, as the spec says.
    let cache = dir.path().join("tokens").join(format!(
        "tok_{}_{}.json",
        SimConfig::default().customer_id,
        SimConfig::default().client_id
    ));
    let cached: serde_json::Value = serde_json::from_slice(&std::fs::read(cache).unwrap()).unwrap();
    assert!(sim.refresh_token_valid(cached["refresh_token"].as_str().unwrap()));
}

#[test]
fn pycentral_uses_the_token_from_central_auth_exec() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 7250);
    let mut cmd = home.cmd("central-auth");
    let out = cmd
        .current_dir(home.path())
        .env("E2E_CENTRAL_INFO", central_info())
        .args(["exec", "--profile", "test", "--"])
        .arg(python)
        .args([script(), home.sim.url(), "token".into()])
        .output()
        .unwrap();
    let seen = last_json_line(&out);
    assert_eq!(seen["first"], 200);
    let c = home.sim.counters();
    assert_eq!((c.refresh, c.login, c.api_ok), (1, 0, 1));
}
