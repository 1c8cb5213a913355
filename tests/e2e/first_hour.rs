//! A newcomer's first hour (issue 23): the first error names the next
//! command, imports are checked against the clock (and with `--verify`
//! against Central), `status` exits 3 for a chain known dead, and `logout`
//! sticks.

use std::process::Output;

use central_auth_e2e::home::aged;
use central_auth_e2e::*;

const DAY: u64 = 86_400;

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// The Quick start profile: username and a password variable, which is not set.
fn quick_start_home() -> TestHome {
    TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            extra: "password_env = \"E2E_UNSET_PASSWORD\"\n".into(),
            ..ProfileOpts::default()
        }],
    )
}

#[test]
fn with_no_token_the_first_error_names_import_and_login_before_any_secret() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            // A password source that would fail, and a client secret command
            // that leaves a trace if it ever runs.
            extra: "password_cmd = \"sh -c 'touch password-was-read; exit 1'\"\n".into(),
            ..ProfileOpts::default()
        }],
    );
    let out = home
        .cmd("central-auth")
        .arg("token")
        .current_dir(home.path())
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("no token is stored"), "{err}");
    assert!(
        err.contains("central-auth login") && err.contains("central-auth import"),
        "{err}"
    );
    assert!(!err.contains("password"), "no secret source named: {err}");
    assert!(
        !home.path().join("password-was-read").exists(),
        "the password command ran"
    );
    assert_eq!(home.sim.counters().login, 0);
    // The password source is named when a login is actually asked for.
    let out = home.cli(&["login"]);
    assert_ne!(code(&out), Some(0));
    assert!(
        text(&out.stderr).contains("password"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn imports_are_checked_against_the_clock() {
    let home = TestHome::new();
    // 16 days old: refused, --force named, nothing stored.
    let old = aged(home.sim.download_token(), 16 * DAY).unwrap();
    let out = home.import(&old, "old.json", &[]).unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), Some(2), "{err}");
    assert!(err.contains("15 days") && err.contains("--force"), "{err}");
    assert!(!home.record_path("test").exists(), "nothing stored");
    // --force stores it; status then exits 3: past the 15-day rule.
    let out = home.import(&old, "old.json", &["--force"]).unwrap();
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    let status = home.cli(&["status"]);
    assert_eq!(code(&status), Some(3), "{}", text(&status.stdout));
    assert!(text(&status.stdout).contains("older than 15 days"));

    // Older than the access token's lifetime: stored, with a warning naming --verify.
    let home = TestHome::new();
    let stale = aged(home.sim.download_token(), 3 * 3600).unwrap();
    let out = home.import(&stale, "stale.json", &[]).unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), Some(0), "{err}");
    assert!(err.contains("token stored"), "{err}");
    assert!(
        err.contains("warning: the access token in this file expired at")
            && err.contains("import --verify"),
        "{err}"
    );
    assert_eq!(code(&home.cli(&["status"])), Some(0));
    // A fresh download: no warning.
    let home = TestHome::new();
    let fresh = home.sim.download_token();
    let out = home.import(&fresh, "fresh.json", &[]).unwrap();
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn import_verify_proves_the_pair_with_one_refresh() {
    let home = TestHome::new();
    let stale = aged(home.sim.download_token(), 3 * 3600).unwrap();
    let out = home.import(&stale, "stale.json", &["--verify"]).unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), Some(0), "{err}");
    assert!(
        err.contains("verified: Central accepted the refresh token"),
        "{err}"
    );
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(home.sim.counters().refresh, 1);

    // A pair Central already rotated (the Web UI's copy after another tool
    // refreshed it): exit 3, named, and status says the chain is lost.
    let home = TestHome::new();
    let download = home.sim.download_token();
    home.sim.revoke_all();
    let out = home.import(&download, "dead.json", &["--verify"]).unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("rejected"), "{err}");
    assert_eq!(code(&home.cli(&["status"])), Some(3));
}

#[test]
fn logout_sticks_until_login_or_import() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    home.import_download("test", 0);
    let out = home.cli(&["logout"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    // A profile that could log in by itself does not, after logout.
    for tool in [
        home.cli(&["token"]),
        home.cmd("central-auth-kube").output().unwrap(),
    ] {
        assert_eq!(code(&tool), Some(3), "{}", text(&tool.stderr));
    }
    assert_eq!(home.sim.counters().login, 0, "no automatic login");
    let status = text(&home.cli(&["status"]).stdout);
    assert!(status.contains("logged out at"), "{status}");
    let json: serde_json::Value =
        serde_json::from_slice(&home.cli(&["status", "--json"]).stdout).unwrap();
    assert!(json["logged_out_at"].is_string(), "{json}");
    // `login` ends it.
    let out = home.cli(&["login"]);
    assert_eq!(code(&out), Some(0), "{}", text(&out.stderr));
    let status = text(&home.cli(&["status"]).stdout);
    assert!(!status.contains("logged out"), "{status}");
    assert_eq!(home.sim.counters().login, 1);
}

#[test]
fn quick_start_config_without_a_token_says_no_token_not_password() {
    let home = quick_start_home();
    let out = home.cli(&["token"]);
    let err = text(&out.stderr);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(err.contains("no token is stored"), "{err}");
    assert!(!err.contains("E2E_UNSET_PASSWORD"), "{err}");
}

#[test]
fn doctor_names_a_missing_secret_program() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    let config = home.config().unwrap().replace(
        "client_secret_env = \"E2E_CLIENT_SECRET\"",
        "client_secret_cmd = \"central-auth-e2e-no-such-pass show central/secret\"",
    );
    home.set_config(&config).unwrap();
    let out = home.cli(&["doctor"]);
    let report = text(&out.stdout);
    let line = report
        .lines()
        .find(|l| l.contains(" secrets "))
        .unwrap_or_else(|| panic!("no secrets line: {report}"));
    assert!(
        line.starts_with("FAIL") && line.contains("command not found"),
        "{line}"
    );
    assert_eq!(code(&out), Some(1));
}

/// Messages and help send the reader to a man page or the installed docs
/// (`share/doc/central-auth/`), never to a repository path like `docs/x.md`.
#[test]
fn messages_and_help_name_no_repository_path() {
    let home = TestHome::new();
    let subcommands = [
        "import",
        "login",
        "token",
        "status",
        "refresh",
        "logout",
        "profiles",
        "keepalive",
        "doctor",
        "store",
        "proxy",
        "exec",
        "cencli",
        "completions",
    ];
    let mut helps = vec![home.cli(&["--help"])];
    for sub in subcommands {
        helps.push(home.cli(&[sub, "--help"]));
    }
    for helper in [
        "git-credential-central",
        "central-auth-kube",
        "central-auth-terraform",
        "central-auth-ansible",
        "central-sim",
    ] {
        helps.push(home.cmd(helper).arg("--help").output().unwrap());
    }
    for out in &helps {
        let help = text(&out.stdout);
        assert!(help.len() > 100, "{help}");
        assert!(!help.contains("docs/"), "a repository path in help: {help}");
    }
    // An empty config: the first error names the installed page.
    home.set_config("").unwrap();
    let err = text(&home.cli(&["token"]).stderr);
    assert!(
        err.contains("configuration.md of the central-auth docs (share/doc/central-auth/)"),
        "{err}"
    );
    // Every string literal of the binaries' sources (comments aside).
    let mut offenders = Vec::new();
    for krate in std::fs::read_dir(workspace().join("crates")).unwrap() {
        let src = krate.unwrap().path().join("src");
        let mut dirs = vec![src];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let source = std::fs::read_to_string(&path).unwrap();
                // Unit tests may name files of the repository.
                let source = source.split("#[cfg(test)]").next().unwrap_or("");
                for (n, line) in source.lines().enumerate() {
                    let code = line.trim_start();
                    if code.starts_with("//") {
                        continue;
                    }
                    if line.contains('"') && line.contains("docs/") && line.contains(".md") {
                        offenders.push(format!("{}:{}: {}", path.display(), n + 1, code));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// `cargo xtask demo` reads top to bottom: the config before the step that
/// uses it, `created_at` as a date, the reason for the expected exit 3 before
/// it, and a run time the README states.
#[test]
fn the_demo_reads_top_to_bottom() {
    let out = crate::install::xtask(&["demo"])
        .env("CENTRAL_AUTH_BIN_DIR", bin_dir())
        .output()
        .unwrap();
    let story = text(&out.stdout);
    assert!(out.status.success(), "{story}{}", text(&out.stderr));
    let at = |needle: &str| -> usize {
        story
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing:\n{story}"))
    };
    assert!(at("with a profile for the app (config.toml)") < at("central-auth import: ok"));
    assert!(
        !story.contains(" ms\n") && !story.contains("created_at 1"),
        "{story}"
    );
    let created = &story[at("created_at ") + "created_at ".len()..];
    assert!(
        created.starts_with("20") && created[..20].ends_with('Z'),
        "{created}"
    );
    assert!(at("expected to fail") < at("exit 3:"));
    // "demo OK in 7.5 s after the build" and the README's "runs for about 8 s".
    let secs: f64 = story[at("demo OK in ") + "demo OK in ".len()..]
        .split(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("the demo states its time");
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let said: f64 = readme
        .split("then runs for about ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|s| s.parse().ok())
        .expect("the README states the demo's time");
    assert!(
        secs <= said * 1.5 && secs >= said * 0.5,
        "the demo ran {secs} s, the README says about {said} s"
    );
}
