//! `central-auth import --from pycentral FILE`: take over the chain from a token
//! cache written by real pycentral 1.4.3 against the simulator, with no refresh,
//! and leave pycentral's file holding only the access token.

use std::io::Write;
use std::process::Command;

use central_auth_e2e::*;

#[test]
fn takes_over_a_real_pycentral_cache_without_a_refresh() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let home = TestHome::new();
    let cfg = SimConfig::default();
    let dir = tempfile::tempdir().unwrap();
    // Real pycentral logs in, has its token killed, refreshes by itself and
    // caches the rotated pair.
    let info = serde_json::json!({
        "client_id": cfg.client_id, "client_secret": cfg.client_secret,
        "customer_id": cfg.customer_id, "username": cfg.username, "password": cfg.password,
    });
    let out = Command::new(python)
        .current_dir(dir.path())
        .env("E2E_CENTRAL_INFO", info.to_string())
        .arg(workspace().join("tests/fixtures/pycentral_client.py"))
        .args([home.sim.url(), "login".into()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cache = dir
        .path()
        .join("tokens")
        .join(format!("tok_{}_{}.json", cfg.customer_id, cfg.client_id));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    let access = written["access_token"].as_str().unwrap().to_owned();
    let refresh = written["refresh_token"].as_str().unwrap().to_owned();
    let before = home.sim.counters();

    // Bad input first: nothing changes anywhere.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json").unwrap();
    let bad = home.cli(&[
        "import",
        "--profile",
        "test",
        "--from",
        "pycentral",
        junk.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(
        text(&bad.stderr).lines().count(),
        1,
        "{}",
        text(&bad.stderr)
    );
    assert!(!home.record_path("test").exists());

    let out = home.cli(&[
        "import",
        "--profile",
        "test",
        "--from",
        "pycentral",
        cache.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("pycentral.md of the central-auth docs"),
        "{}",
        text(&out.stderr)
    );

    // The chain is central-auth's now, with no call to Central.
    let token = home.token("test");
    assert_eq!(
        token, access,
        "the imported access token is handed out as is"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.record_path("test")).unwrap()).unwrap();
    assert_eq!(record["refresh_token"], refresh.as_str());
    let after = home.sim.counters();
    assert_eq!(
        (after.refresh, after.login, after.token_requests),
        (before.refresh, before.login, before.token_requests),
        "no refresh or login during the takeover"
    );
    assert!(home.sim.access_token_valid(&token));
    assert!(home.sim.refresh_token_valid(&refresh));

    // pycentral's file holds only the access token now, private.
    let left: serde_json::Value = serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(left["access_token"], access.as_str());
    assert!(left.get("refresh_token").is_none(), "{left}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Importing it again is refused and changes nothing.
    let again = home.cli(&[
        "import",
        "--profile",
        "test",
        "--from",
        "pycentral",
        cache.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));

    // The chain still rotates: one refresh from central-auth works.
    let refreshed = home.cli(&["refresh", "--profile", "test"]);
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    assert_eq!(home.sim.counters().refresh_rejected, 0);
    let _ = writeln!(
        std::io::stderr(),
        "figures: migrate from pycentral: 0 token calls during the takeover; access token valid afterwards; chain refreshed once afterwards with 0 rejected"
    );
}
