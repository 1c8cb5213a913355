//! The simulator's API Gateway page in a real headless Chromium (Debian's
//! `chromium`, driven by Python playwright from its venv): add an app and
//! tokens, download one, `central-auth import` it, get a token the simulator
//! accepts, revoke it on the page, and check that `central-auth` reports the
//! revocation with its fix. Screenshots are kept under
//! `target/e2e-artifacts/gateway-page/`.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use central_auth_e2e::*;

fn artifacts_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let dir = target.join("e2e-artifacts").join("gateway-page");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn next_json(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> serde_json::Value {
    for line in lines {
        let line = line.unwrap();
        if line.starts_with('{') {
            return serde_json::from_str(&line).unwrap();
        }
        eprintln!("gateway_page.py: {line}");
    }
    panic!("gateway_page.py ended early (see its stderr above)");
}

#[test]
fn browser_adds_downloads_and_revokes_a_token_central_auth_notices() {
    let Some(chromium) = require_tool(
        "chromium (apt-get install -y chromium)",
        &[PathBuf::from("/usr/bin/chromium")],
    ) else {
        return;
    };
    let Some(python) = venv_bin("playwright", "python") else {
        return;
    };
    let started = Instant::now();
    let home = TestHome::with(sim_with(7200), &[]);
    let out_dir = artifacts_dir();
    let mut driver = Command::new(python)
        .arg(workspace().join("tests/fixtures/gateway_page.py"))
        .arg(home.sim.url())
        .arg(&out_dir)
        .env("E2E_CHROMIUM", &chromium)
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(driver.stdout.take().unwrap()).lines();

    // Add + Download in the browser.
    let downloaded = next_json(&mut lines);
    let file = PathBuf::from(downloaded["downloaded"].as_str().unwrap());
    let token_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(token_json.as_object().unwrap().len(), 10, "{token_json}");
    let tokens = home.sim.tokens(Some("ci-bot")).unwrap();
    let names: Vec<&str> = tokens.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["laptop", "spare"]);
    assert_eq!(token_json["id"].as_str(), Some(tokens[0].id.as_str()));

    // central-auth, configured with the new app's client, imports the file and
    // refreshes through the chain.
    let app = home
        .sim
        .apps()
        .into_iter()
        .find(|a| a.name == "ci-bot")
        .unwrap();
    let c = SimConfig::default();
    std::fs::write(
        home.config_path(),
        format!(
            "default_profile = \"test\"\n\n[profiles.test]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"E2E_APP_SECRET\"\ncustomer_id = \"{}\"\nusername = \"{}\"\nmin_valid = \"5m\"\nlock_timeout = \"60s\"\n",
            home.sim.url(),
            app.client_id,
            c.customer_id,
            c.username
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        home.cmd("central-auth")
            .env("E2E_APP_SECRET", &app.client_secret)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["import", "--profile", "test", file.to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    let out = run(&["refresh", "--profile", "test"]);
    assert!(out.status.success(), "refresh: {}", text(&out.stderr));
    let out = run(&["token", "--profile", "test"]);
    assert!(out.status.success(), "token: {}", text(&out.stderr));
    let access = text(&out.stdout).trim().to_string();
    assert!(
        home.sim.access_token_valid(&access),
        "the simulator accepts it"
    );
    assert!(home.sim.token_info(&tokens[0].id).unwrap().refresh_used);

    // Revoke in the browser; the page shows it and leaves the spare token be.
    driver.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
    let revoked = next_json(&mut lines);
    assert_eq!(revoked["revoked"], true);
    assert!(driver.wait().unwrap().success());
    assert!(!home.sim.access_token_valid(&access));

    // central-auth reports the revocation with its fix: exit 3, login/import.
    let out = run(&["refresh", "--profile", "test"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "refresh after revoke: {err}");
    assert!(err.contains("revoked"), "{err}");
    assert!(err.contains("central-auth import --profile test"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    for shot in ["01-page", "02-added", "03-before-revoke", "04-revoked"] {
        let png = out_dir.join(format!("{shot}.png"));
        let len = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {} missing", png.display());
    }
    let _ = writeln!(
        std::io::stderr(),
        "figures: gateway page browser life cycle in {:.1} s, screenshots in {}",
        started.elapsed().as_secs_f64(),
        out_dir.display()
    );
}
