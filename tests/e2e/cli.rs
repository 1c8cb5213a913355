//! `central-auth` against `central-sim`: import, token, expiry and refresh, login,
//! client credentials, revoked and lost refresh responses, the 32-process stampede,
//! retries, the lock bound, and bad input that must change nothing on disk.

use std::process::{Command, Output, Stdio};

use central_auth_e2e::*;

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "command failed ({:?}): {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn fails_with(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        text(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "stdout must stay empty: {:?}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert!(err.starts_with("central-auth: "), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    err
}

fn with_password() -> ProfileOpts {
    ProfileOpts {
        with_password: true,
        ..ProfileOpts::default()
    }
}

#[test]
fn fresh_import_is_served_from_the_store() {
    let home = TestHome::new();
    let download = home.import_download("test", 0);
    let token = home.token("test");
    assert_eq!(token, download["access_token"].as_str().unwrap());
    assert!(home.sim.access_token_valid(&token));
    assert_eq!(
        home.sim.counters().token_requests,
        0,
        "no network call when cached"
    );
}

#[test]
fn expired_token_is_refreshed_once_and_the_chain_rotates() {
    let home = TestHome::new();
    let download = home.import_download("test", 7250);
    let old_refresh = download["refresh_token"].as_str().unwrap();
    let token = home.token("test");
    assert_ne!(token, download["access_token"].as_str().unwrap());
    assert!(home.sim.access_token_valid(&token));
    assert_one_refresh(&home.sim.counters(), "`token` on an expired access token");
    assert!(
        !home.sim.refresh_token_valid(old_refresh),
        "old refresh token is dead"
    );
    // The stored refresh token is the new one Central handed out.
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.record_path("test")).unwrap()).unwrap();
    assert!(home
        .sim
        .refresh_token_valid(record["refresh_token"].as_str().unwrap()));
    assert_eq!(record["origin"], "refresh");
    // Cached again.
    assert_eq!(home.token("test"), token);
    assert_one_refresh(&home.sim.counters(), "`token` again");
}

#[test]
fn short_lived_tokens_refresh_when_they_run_out() {
    let home = TestHome::with(
        sim_with(3),
        &[ProfileOpts {
            min_valid: "1s",
            ..ProfileOpts::default()
        }],
    );
    // A token response imported as is: its issue time is the time of import.
    let mut download = home.sim.download_token();
    download.as_object_mut().unwrap().retain(|k, _| {
        ["access_token", "refresh_token", "token_type", "expires_in"].contains(&k.as_str())
    });
    let mut child = home
        .cmd("central-auth")
        .args(["import", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        download.to_string().as_bytes(),
    )
    .unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
    let first = home.token("test");
    assert_eq!(first, download["access_token"].as_str().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let second = home.token("test");
    assert_ne!(first, second);
    assert!(home.sim.access_token_valid(&second));
    assert!(
        !home.sim.access_token_valid(&first),
        "a refresh kills the old access token"
    );
    assert_eq!(home.sim.counters().refresh, 1);
}

#[test]
fn login_with_configured_password_and_with_stdin() {
    let home = TestHome::with(
        sim_with(7200),
        &[
            with_password(),
            ProfileOpts {
                name: "nopw".into(),
                ..ProfileOpts::default()
            },
        ],
    );
    let out = home.cli(&["login"]);
    ok(&out);
    assert!(text(&out.stderr).contains("logged in"));
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    let c = home.sim.counters();
    assert_eq!((c.login, c.authorize, c.code_exchange), (1, 1, 1));

    // No password source and no terminal: a clear error.
    let err = fails_with(&home.cli(&["login", "--profile", "nopw"]), 2);
    assert!(err.contains("--password-stdin"), "{err}");

    let mut child = home
        .cmd("central-auth")
        .args(["login", "--profile", "nopw", "--password-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        format!("{}\n", SimConfig::default().password).as_bytes(),
    )
    .unwrap();
    drop(child.stdin.take());
    assert!(child.wait_with_output().unwrap().status.success());
    assert!(home.sim.access_token_valid(&home.token("nopw")));

    // A wrong password is rejected with exit 4 and nothing stored changes.
    let before = tree(home.path());
    let mut child = home
        .cmd("central-auth")
        .args(["login", "--profile", "nopw", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"wrong-password\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let err = fails_with(&out, 4);
    assert!(
        err.contains("username or password") && !err.contains("wrong-password"),
        "{err}"
    );
    assert_eq!(tree(home.path()), before);
}

#[test]
fn client_credentials_profile_mints_and_caches() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            client_credentials: true,
            ..ProfileOpts::default()
        }],
    );
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    assert_eq!(home.token("test"), token);
    assert_eq!(home.sim.counters().client_credentials, 1);
    let status = ok(&home.cli(&["status", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(v["grant"], "client_credentials");
    assert_eq!(v["token"]["has_refresh_token"], false);
    // Forced refresh mints again.
    ok(&home.cli(&["refresh"]));
    assert_eq!(home.sim.counters().client_credentials, 2);
}

#[test]
fn revoked_chain_without_password_fails_clearly_and_keeps_the_pair() {
    let home = TestHome::new();
    home.import_download("test", 7250);
    home.sim.revoke_all();
    let read = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(home.record_path("test")).unwrap()).unwrap()
    };
    let before = read();
    let err = fails_with(&home.cli(&["token"]), 3);
    assert!(err.contains("Invalid refresh_token"), "{err}");
    assert!(err.contains("central-auth login --profile test"), "{err}");
    assert!(err.contains("central-auth import --profile test"), "{err}");
    // The pair is never replaced by anything but a newer one from Central; the
    // record only gains the lost-chain state (docs/recovery.md).
    let after = read();
    for field in [
        "access_token",
        "refresh_token",
        "expires_at",
        "refresh_issued_at",
    ] {
        assert_eq!(after[field], before[field], "{field}");
    }
    assert!(after["lost"]["reason"]
        .as_str()
        .unwrap()
        .contains("Invalid refresh_token"));
    assert!(after.get("rotating").is_none());
    assert_eq!(home.sim.counters().refresh_rejected, 1);
}

#[test]
fn revoked_chain_with_password_logs_in_again() {
    let home = TestHome::with(sim_with(7200), &[with_password()]);
    home.import_download("test", 7250);
    home.sim.revoke_all();
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    let c = home.sim.counters();
    assert_eq!((c.refresh_rejected, c.login), (1, 1));
}

#[test]
fn lost_refresh_response_recovers_by_login_or_fails_clearly() {
    for with_pw in [false, true] {
        let profile = ProfileOpts {
            with_password: with_pw,
            ..ProfileOpts::default()
        };
        let home = TestHome::with(sim_with(7200), &[profile]);
        home.import_download("test", 7250);
        home.sim.inject(Fault::RotateThenDrop { count: 1 });
        let out = home.cli(&["token"]);
        let c = home.sim.counters();
        assert_eq!(c.refresh, 1, "Central rotated the pair");
        if with_pw {
            let token = ok(&out);
            assert!(home.sim.access_token_valid(token.trim()));
            assert_eq!(c.login, 1);
        } else {
            let err = fails_with(&out, 3);
            assert!(err.contains("central-auth login"), "{err}");
            assert!(c.refresh_rejected >= 1);
        }
    }
}

#[test]
fn stampede_of_32_processes_refreshes_once() {
    let home = TestHome::new();
    home.import_download("test", 7250);
    let children: Vec<_> = (0..32)
        .map(|_| {
            home.cmd("central-auth")
                .arg("token")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|c| ok(&c.wait_with_output().unwrap()).trim().to_owned())
        .collect();
    assert_one_refresh(&home.sim.counters(), "32 `central-auth token` at once");
    assert!(
        tokens.iter().all(|t| t == &tokens[0]),
        "all print the same token"
    );
    assert!(home.sim.access_token_valid(&tokens[0]));
}

#[test]
fn transient_errors_are_retried_and_quota_is_reported() {
    let home = TestHome::new();
    home.import_download("test", 7250);
    home.sim.inject(Fault::Status {
        path_prefix: "/oauth2/token".into(),
        count: 2,
        status: 503,
        retry_after: None,
    });
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    let c = home.sim.counters();
    assert_eq!((c.refresh, c.token_requests), (1, 3));

    let home = TestHome::new();
    home.import_download("test", 7250);
    home.sim.inject(Fault::QuotaExhausted {
        path_prefix: "/oauth2/token".into(),
        count: 5,
    });
    let err = fails_with(&home.cli(&["token"]), 5);
    assert!(err.contains("per-day API quota"), "{err}");
    assert_eq!(
        home.sim.counters().token_requests,
        1,
        "quota is not retried"
    );
}

#[test]
fn a_held_lock_gives_a_bounded_wait_and_a_clear_error() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            extra: String::new(),
            ..ProfileOpts::default()
        }],
    );
    std::fs::write(
        home.config_path(),
        std::fs::read_to_string(home.config_path())
            .unwrap()
            .replace("lock_timeout = \"60s\"", "lock_timeout = \"1s\""),
    )
    .unwrap();
    home.import_download("test", 0);
    let lock_path = home.lock_path("test");
    let lock = std::fs::File::open(&lock_path).unwrap();
    lock.lock().unwrap();
    let start = std::time::Instant::now();
    let err = fails_with(&home.cli(&["token"]), 5);
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
    assert!(err.contains("held the lock"), "{err}");
    lock.unlock().unwrap();
    home.token("test");
}

#[test]
fn import_refuses_an_older_download_unless_forced() {
    let home = TestHome::new();
    let mut old = home.sim.download_token();
    old["created_at"] = serde_json::json!(old["created_at"].as_u64().unwrap() - 10_000);
    home.import_download("test", 0);
    let file = home.path().join("old.json");
    std::fs::write(&file, old.to_string()).unwrap();
    let before = tree(&home.path().join("state"));
    let err = fails_with(&home.cli(&["import", file.to_str().unwrap()]), 2);
    assert!(err.contains("--force"), "{err}");
    assert_eq!(tree(&home.path().join("state")), before);
    ok(&home.cli(&["import", "--force", file.to_str().unwrap()]));
    assert_eq!(home.token("test"), old["access_token"].as_str().unwrap());
    // Importing the same file again changes nothing.
    let out = home.cli(&["import", file.to_str().unwrap()]);
    assert!(text(&out.stderr).contains("already stored"));
}

#[test]
fn bad_token_input_is_refused_and_changes_nothing() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let good = home.sim.download_token().to_string();
    let cases: Vec<(&str, String, &str)> = vec![
        ("empty", String::new(), "empty"),
        ("truncated", good[..good.len() / 2].to_owned(), "truncated"),
        ("malformed", "{not json".to_owned(), "not valid JSON"),
        (
            "missing refresh_token",
            r#"{"access_token":"x","expires_in":7200}"#.to_owned(),
            "refresh_token",
        ),
        ("array", "[]".to_owned(), "not a JSON object"),
    ];
    let before = tree(home.path());
    for (name, input, want) in cases {
        let file = home.path().join("in.json");
        std::fs::write(&file, &input).unwrap();
        let err = fails_with(&home.cli(&["import", file.to_str().unwrap()]), 2);
        assert!(err.contains(want), "{name}: {err}");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(tree(home.path()), before, "{name} changed files");
    }
    let err = fails_with(&home.cli(&["import", "/nonexistent/file.json"]), 2);
    assert!(err.contains("cannot read /nonexistent/file.json"), "{err}");
}

#[test]
fn bad_config_is_refused_with_a_fix() {
    let home = TestHome::new();
    let base = std::fs::read_to_string(home.config_path()).unwrap();
    let cases = [
        (
            base.replace("base_url = ", "cluster = \"US-2\"\nbase_url = "),
            "either base_url or cluster, not both",
        ),
        (
            base.replace(
                &format!("base_url = \"{}\"", home.sim.url()),
                "cluster = \"Mars-1\"",
            ),
            "unknown cluster \"Mars-1\"",
        ),
        (
            base.replace(&home.sim.url(), "http://central.example.com"),
            "plain http to a non-loopback host",
        ),
        (
            base.replace("[profiles.test]", "[profiles.\"../x\"]"),
            "invalid profile name",
        ),
        (
            base.replace("client_id", "clientid"),
            "unknown field `clientid`",
        ),
    ];
    for (config, want) in cases {
        std::fs::write(home.config_path(), &config).unwrap();
        let before = tree(home.path());
        let err = fails_with(&home.cli(&["token"]), 2);
        assert!(err.contains(want), "want {want:?} in {err}");
        assert_eq!(tree(home.path()), before);
    }
    std::fs::write(home.config_path(), &base).unwrap();
    for bad in ["a/b", "..", "../etc"] {
        let err = fails_with(&home.cli(&["token", "--profile", bad]), 2);
        assert!(err.contains("invalid profile name"), "{err}");
    }
    assert!(!home.path().join("etc").exists());
}

#[cfg(unix)]
#[test]
fn unsafe_or_unreadable_token_files_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    home.import_download("test", 0);
    let record = home.record_path("test");
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = std::fs::read(&record).unwrap();
    let err = fails_with(&home.cli(&["token"]), 6);
    assert!(err.contains("chmod 600"), "{err}");
    assert_eq!(std::fs::read(&record).unwrap(), before);
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o600)).unwrap();
    home.token("test");

    // Unreadable: a directory where the record should be (root reads any file).
    std::fs::remove_file(&record).unwrap();
    std::fs::create_dir(&record).unwrap();
    let err = fails_with(&home.cli(&["token"]), 6);
    assert!(err.contains("token file"), "{err}");
}

#[test]
fn secrets_never_reach_stderr_even_verbose() {
    let home = TestHome::with(sim_with(7200), &[with_password()]);
    let download = home.import_download("test", 7250);
    let out = home.cli(&["-v", "token"]);
    let token = ok(&out);
    let err = text(&out.stderr);
    assert!(
        err.contains("http: POST") && err.contains("/oauth2/token -> HTTP 200"),
        "{err}"
    );
    let cfg = SimConfig::default();
    for secret in [
        cfg.client_secret.as_str(),
        cfg.password.as_str(),
        token.trim(),
        download["refresh_token"].as_str().unwrap(),
    ] {
        assert!(!err.contains(secret), "secret leaked in {err}");
    }
    let status = ok(&home.cli(&["status", "--json"]));
    assert!(!status.contains(token.trim()));
}

#[test]
fn logout_and_profiles() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let listed = ok(&home.cli(&["profiles"]));
    assert!(
        listed.starts_with("* test\trefresh_token\thttp://127.0.0.1:"),
        "{listed}"
    );
    ok(&home.cli(&["logout"]));
    assert!(!home.record_path("test").exists());
    let err = fails_with(&home.cli(&["token"]), 3);
    assert!(err.contains("no token is stored"), "{err}");
}

fn filtered_settings(home: &TestHome) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex_escape(&home.path().display().to_string()), "[HOME]");
    s.add_filter(&regex_escape(&home.sim.url()), "[SIM]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[TIME]");
    s.add_filter(r"\b\d+(d|h|m|s)( \d+(h|m|s))?\b", "[DUR]");
    s.add_filter(
        r#""(expires_in_seconds|refresh_age_seconds|refresh_left_seconds|seconds_ago)": -?\d+"#,
        "\"$1\": [N]",
    );
    s.set_snapshot_path("snapshots");
    s
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .map(|c| {
            if "\\.+*?()|[]{}^$".contains(c) {
                format!("\\{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[test]
fn status_snapshots() {
    let home = TestHome::new();
    let none = ok(&home.cli(&["status"]));
    home.import_download("test", 7250);
    home.token("test");
    let text_status = ok(&home.cli(&["status"]));
    let json_status = ok(&home.cli(&["status", "--json"]));
    filtered_settings(&home).bind(|| {
        insta::assert_snapshot!("status_none", none);
        insta::assert_snapshot!("status_after_refresh", text_status);
        insta::assert_snapshot!("status_json", json_status);
    });
}

#[test]
fn help_and_error_snapshots() {
    let home = TestHome::new();
    let help = ok(&home.cli(&["--help"]));
    let token_help = ok(&home.cli(&["token", "--help"]));
    let no_token = text(&home.cli(&["token"]).stderr);
    let unknown = text(&home.cli(&["token", "--profile", "nope"]).stderr);
    home.import_download("test", 7250);
    home.sim.revoke_all();
    let revoked = text(&home.cli(&["token"]).stderr);
    filtered_settings(&home).bind(|| {
        insta::assert_snapshot!("help", help);
        insta::assert_snapshot!("token_help", token_help);
        insta::assert_snapshot!("error_no_token", no_token);
        insta::assert_snapshot!("error_unknown_profile", unknown);
        insta::assert_snapshot!("error_revoked", revoked);
    });
}

#[test]
fn exec_passes_exit_code_and_env() {
    let home = TestHome::new();
    let download = home.import_download("test", 0);
    let out = home
        .cmd("central-auth")
        .args(["exec", "--", "sh", "-c", "test \"$CENTRAL_ACCESS_TOKEN\" = \"$ARUBA_CENTRAL_ACCESS_TOKEN\" && test -z \"${E2E_CLIENT_SECRET+set}\" && printf %s \"$CENTRAL_BASE_URL\"; exit 7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(text(&out.stdout), home.sim.url());
    let _ = download;
    let missing = Command::new(bin("central-auth"))
        .env("CENTRAL_AUTH_HOME", home.path())
        .env("E2E_CLIENT_SECRET", "x")
        .args(["exec", "--", "/nonexistent/program"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(127));
    assert!(
        text(&missing.stderr).starts_with("central-auth: exec: cannot run /nonexistent/program")
    );
}

#[test]
fn bad_command_lines_are_one_line_with_exit_2_and_change_nothing() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let before = tree(home.path());
    // The pointer names the help of the subcommand the mistake is in.
    for (args, want, help) in [
        (
            &["--bogus"][..],
            "unexpected argument '--bogus'",
            "central-auth",
        ),
        (
            &["tokn"],
            "a similar subcommand exists: 'token'",
            "central-auth",
        ),
        (
            &["token", "--min-valid", "soon"],
            "invalid value 'soon'",
            "central-auth token",
        ),
        (
            &["token", "-p"],
            "a value is required",
            "central-auth token",
        ),
        (
            &["token", "--json"],
            "unexpected argument '--json'",
            "central-auth token",
        ),
        (
            &["-p", "a", "-p", "b", "token"],
            "cannot be used multiple times",
            "central-auth token",
        ),
        (
            &["status", "--all", "-p", "test"],
            "cannot be used with",
            "central-auth status",
        ),
    ] {
        let err = fails_with(&home.cli(args), 2);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(err.ends_with(&format!("see `{help} --help`\n")), "{err}");
    }
    assert_eq!(
        tree(home.path()),
        before,
        "a bad command line changed files"
    );
}

/// The hot path reads one profile's part of the config (docs/configuration.md,
/// "Large configs"): a thousand other profiles, one of them broken, do not stop
/// `token`, and the commands that read the whole file still report the mistake.
#[test]
fn a_large_config_with_a_broken_profile_serves_the_others() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let mut config = std::fs::read_to_string(home.config_path()).unwrap();
    for i in 0..1000 {
        config.push_str(&format!(
            "\n[profiles.other-{i}]\ncluster = \"US-2\"\nclient_id = \"c{i}\"\nclient_secret_env = \"S{i}\"\n"
        ));
    }
    config.push_str(
        "\n[profiles.broken]\ncluster = \"Mars-1\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n",
    );
    std::fs::write(home.config_path(), &config).unwrap();
    let quick = ok(&home.cli(&["token"]));
    let explicit = ok(&home.cli(&["token", "-p", "test"]));
    // `-v` goes through clap: the same token either way.
    let through_clap = ok(&home.cli(&["token", "-p", "test", "-v"]));
    assert_eq!(quick, explicit);
    assert_eq!(quick, through_clap);
    for binary in ["central-auth-ansible", "central-auth-kube"] {
        let helper_run = home
            .cmd(binary)
            .args(["--profile", "test"])
            .output()
            .unwrap();
        assert!(helper_run.status.success(), "{}", text(&helper_run.stderr));
        assert!(text(&helper_run.stdout).contains(quick.trim()));
    }
    for args in [&["profiles"][..], &["status"], &["token", "-p", "broken"]] {
        let err = fails_with(&home.cli(args), 2);
        assert!(
            err.contains("unknown cluster \"Mars-1\""),
            "{args:?}: {err}"
        );
    }
}
