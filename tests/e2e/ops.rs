//! Operations: `keepalive` against the 15-day rule, `status` warnings, `doctor`.

use central_auth_e2e::*;

#[test]
fn keepalive_refreshes_only_old_refresh_tokens() {
    let home = TestHome::with(
        sim_with(7200),
        &[
            ProfileOpts::default(),
            ProfileOpts {
                name: "young".into(),
                ..ProfileOpts::default()
            },
            ProfileOpts {
                name: "cc".into(),
                client_credentials: true,
                ..ProfileOpts::default()
            },
        ],
    );
    home.import_download("test", 8 * 86_400);
    home.import_download("young", 3600);
    let out = home.cli(&["keepalive", "--all", "--older-than", "7d"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.contains("test: refreshed (refresh token was 8d 0h old)"),
        "{report}"
    );
    assert!(
        report.contains("young: ok (refresh token 1h 0m old, threshold 7d 0h)"),
        "{report}"
    );
    assert!(report.contains("cc: skipped"), "{report}");
    assert_eq!(home.sim.counters().refresh, 1);
    // Now young again: nothing to do.
    let out = home.cli(&["keepalive", "--profile", "test"]);
    assert!(
        text(&out.stdout).starts_with("test: ok"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(home.sim.counters().refresh, 1);
}

#[test]
fn keepalive_reports_a_dead_chain_with_its_exit_code() {
    let home = TestHome::new();
    home.import_download("test", 8 * 86_400);
    home.sim.revoke_all();
    let out = home.cli(&["keepalive"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stdout).contains("test: FAILED"));
    assert!(text(&out.stderr).contains("central-auth login --profile test"));
}

#[test]
fn status_warns_when_fewer_than_three_days_are_left() {
    let home = TestHome::new();
    home.import_download("test", 13 * 86_400);
    let out = text(&home.cli(&["status"]).stdout);
    assert!(
        out.contains("warning: only 1d 23h left before Central removes"),
        "{out}"
    );
    assert!(out.contains("central-auth keepalive"), "{out}");
}

#[test]
fn doctor_reports_each_check() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let out = home.cli(&["doctor"]);
    let report = text(&out.stdout);
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    for line in [
        "ok   permissions",
        "ok   secrets",
        "ok   gateway",
        "ok   clock",
        "ok   token",
        "ok   lock",
        "ok   refresh token",
    ] {
        assert!(report.contains(line), "missing {line:?} in {report}");
    }
    assert!(
        home.sim.counters().api_ok >= 1,
        "the token was tried against the API"
    );

    // A token Central no longer accepts, and a missing secret, are named with a fix.
    home.sim.revoke_all();
    let out = home
        .cmd("central-auth")
        .arg("doctor")
        .env_remove("E2E_CLIENT_SECRET")
        .output()
        .unwrap();
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        report.contains("FAIL secrets") && report.contains("E2E_CLIENT_SECRET"),
        "{report}"
    );
    assert!(
        report.contains("FAIL token") && report.contains("central-auth refresh"),
        "{report}"
    );
}
