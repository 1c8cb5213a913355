//! Command-line conventions every binary shares (issue 10): global `-p/-v`
//! before or after the subcommand and on every helper, `--json` with stable field
//! names (docs/json.md), one timestamp format (RFC 3339, whole seconds), exit
//! codes, the environment in `--help`, and messages saying where a value came from.

use std::process::Output;

use central_auth_e2e::*;

const HELPERS: [&str; 4] = [
    "git-credential-central",
    "central-auth-kube",
    "central-auth-terraform",
    "central-auth-ansible",
];

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed ({:?}): {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).expect("stdout is JSON")
}

/// `2026-01-02T03:04:05Z`: RFC 3339 in whole seconds, UTC.
fn assert_whole_seconds(ts: &str) {
    assert!(
        ts.len() == 20 && ts.ends_with('Z') && !ts.contains('.'),
        "not RFC 3339 whole seconds: {ts:?}"
    );
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .expect("RFC 3339");
}

#[test]
fn profile_and_verbose_work_before_and_after_the_subcommand() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let before = ok(&home.cli(&["--profile", "test", "-v", "token"]));
    let after = ok(&home.cli(&["token", "-p", "test", "--verbose"]));
    assert_eq!(before, after);
    // The flag really selects: an unknown name before the subcommand fails.
    let out = home.cli(&["-p", "nope", "token"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no profile \"nope\" (from --profile)"),
        "{err}"
    );
}

#[test]
fn every_helper_has_profile_verbose_and_lists_the_environment() {
    let home = TestHome::new();
    for helper in ["central-auth"].iter().chain(HELPERS.iter()) {
        let help = ok(&home.cmd(helper).arg("--help").output().unwrap());
        for needle in [
            "-p, --profile <NAME>",
            "-v, --verbose",
            "CENTRAL_AUTH_HOME",
            "CENTRAL_AUTH_PROFILE",
            "Exit codes:",
        ] {
            assert!(help.contains(needle), "{helper} --help lacks {needle}");
        }
    }
    // `-p` selects the profile on a helper, too.
    let out = home
        .cmd("central-auth-ansible")
        .args(["-p", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("(from --profile)"));
}

#[test]
fn messages_say_where_the_profile_came_from() {
    let home = TestHome::new();
    let out = home
        .cmd("central-auth")
        .args(["token"])
        .env("CENTRAL_AUTH_PROFILE", "other")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no profile \"other\" (from CENTRAL_AUTH_PROFILE)"),
        "{err}"
    );
    home.import_download("test", 0);
    let status = ok(&home.cli(&["status"]));
    assert!(
        status.contains("chosen by      default_profile"),
        "{status}"
    );
    let out = home
        .cmd("central-auth")
        .args(["refresh"])
        .env("CENTRAL_AUTH_PROFILE", "test")
        .output()
        .unwrap();
    ok(&out);
    let err = text(&out.stderr);
    assert!(
        err.starts_with(
            "central-auth: profile test (from CENTRAL_AUTH_PROFILE): refreshed; token valid until "
        ),
        "{err}"
    );
    assert_whole_seconds(err.trim_end().rsplit(' ').next().unwrap());
}

#[test]
fn a_missing_config_file_is_named_as_missing() {
    let home = TestHome::new();
    std::fs::remove_file(home.config_path()).unwrap();
    let out = home.cli(&["token"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("config.toml does not exist"), "{err}");
    let listed = json(&home.cli(&["profiles", "--json"]));
    assert_eq!(listed["config_exists"], false);
    assert_eq!(listed["profiles"], serde_json::json!([]));
}

#[test]
fn json_outputs_have_the_documented_fields() {
    let sim = sim_with(7200);
    let home = TestHome::with(
        sim,
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    let profiles = json(&home.cli(&["profiles", "--json"]));
    assert_eq!(profiles["config_exists"], true);
    assert_eq!(profiles["default_profile"], "test");
    assert_eq!(profiles["profiles"][0]["name"], "test");
    assert_eq!(profiles["profiles"][0]["grant"], "refresh_token");
    assert_eq!(profiles["profiles"][0]["default"], true);
    assert!(profiles["profiles"][0]["base_url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));

    let login = json(&home.cli(&["login", "--json"]));
    assert_eq!(login["profile"], "test");
    assert_eq!(login["action"], "login");
    assert_whole_seconds(login["expires_at"].as_str().unwrap());

    let refresh = json(&home.cli(&["refresh", "--json"]));
    assert_eq!(refresh["action"], "refresh");
    assert_whole_seconds(refresh["expires_at"].as_str().unwrap());

    let download = home.sim.download_token();
    let file = home.path().join("download.json");
    std::fs::write(&file, download.to_string()).unwrap();
    let import = json(&home.cli(&["import", "--json", "--force", file.to_str().unwrap()]));
    assert_eq!(import["profile"], "test");
    assert_eq!(import["outcome"], "replaced");
    let again = json(&home.cli(&["import", "--json", "--force", file.to_str().unwrap()]));
    assert_eq!(again["outcome"], "unchanged");

    let keep = json(&home.cli(&["keepalive", "--json", "--older-than", "0s"]));
    assert_eq!(keep[0]["profile"], "test");
    assert_eq!(keep[0]["outcome"], "refreshed");
    assert_eq!(keep[0]["threshold_seconds"], 0);
    assert!(keep[0]["refresh_token_age_seconds"].is_u64());
    let keep = json(&home.cli(&["keepalive", "--json"]));
    assert_eq!(keep[0]["outcome"], "fresh");

    let out = home.cli(&["doctor", "--json"]);
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor JSON");
    assert_eq!(doctor["profile"], "test");
    let checks = doctor["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    for c in checks {
        assert!(c["name"].is_string() && c["detail"].is_string());
        assert!(["ok", "warn", "fail"].contains(&c["verdict"].as_str().unwrap()));
    }
    assert_eq!(doctor["ok"], out.status.success());

    // Timestamps in status are whole seconds too.
    let status = json(&home.cli(&["status", "--json"]));
    assert_whole_seconds(status["token"]["expires_at"].as_str().unwrap());
}

#[test]
fn completions_are_printed_for_each_shell() {
    let home = TestHome::new();
    for (shell, needle) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef central-auth"),
        ("fish", "complete -c central-auth"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = ok(&home.cli(&["completions", shell]));
        assert!(script.contains(needle), "{shell}: {script}");
        assert!(
            script.contains("keepalive"),
            "{shell} completes subcommands"
        );
    }
    let out = home.cli(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}
