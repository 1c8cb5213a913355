//! git end-to-end: `git-credential-central` driven by real git (2.47 at
//! /usr/local/bin and Debian's 2.39 at /usr/bin, whichever exist), by a real
//! `git clone`/`fetch` against a smart-HTTP server that only accepts tokens
//! `central-sim` considers valid. The helper's own protocol edge cases run against
//! the binary directly. The `git2` crate's helper runner is tested in
//! `crates/git-credential-central/tests/git2.rs` (it needs git2's `cred` feature).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use central_auth_e2e::*;

const HELPER: &str = "git-credential-central";

/// The real gits present; skips loudly (fails under CI) when there is none.
pub(crate) fn gits() -> Vec<PathBuf> {
    let candidates = [
        PathBuf::from("/usr/local/bin/git"),
        PathBuf::from("/usr/bin/git"),
    ];
    let found: Vec<PathBuf> = candidates.iter().filter(|p| p.exists()).cloned().collect();
    if found.is_empty() {
        require_tool("git", &candidates);
    }
    for missing in candidates.iter().filter(|p| !p.exists()) {
        eprintln!(
            "note: {} not present; testing the other git only",
            missing.display()
        );
    }
    found
}

/// `(major, minor)` of a git binary.
fn git_version(git: &Path) -> (u32, u32) {
    let out = Command::new(git).arg("--version").output().unwrap();
    let v = text(&out.stdout);
    let mut nums = v
        .trim()
        .trim_start_matches("git version ")
        .split('.')
        .map(|n| n.parse::<u32>().unwrap_or(0));
    (nums.next().unwrap(), nums.next().unwrap())
}

pub(crate) fn helper_cmd(args: &str) -> String {
    format!("{} {args}", bin(HELPER).display())
        .trim()
        .to_owned()
}

/// A real git with this home's environment, no system/global config, no prompts,
/// and exactly one credential helper.
fn git(home: &TestHome, git: &Path, helper: &str) -> Command {
    let mut c = Command::new(git);
    home.apply_env(&mut c);
    c.env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_DIR")
        .args(["-c", "credential.helper=", "-c"])
        .arg(format!("credential.helper={helper}"));
    c
}

fn with_stdin(mut c: Command, input: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub(crate) fn fill(home: &TestHome, g: &Path, helper: &str, input: &str) -> Output {
    let mut c = git(home, g, helper);
    c.args(["credential", "fill"]);
    with_stdin(c, input)
}

pub(crate) fn attr<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

#[test]
fn git_credential_fill_with_profile_argument() {
    for g in gits() {
        let home = TestHome::new();
        home.import_download("test", 60);
        let stored = home.token("test");
        let helper = helper_cmd("--profile test");

        let out = fill(
            &home,
            &g,
            &helper,
            "protocol=https\nhost=git.example.test\npath=org/repo.git\n\n",
        );
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{g:?}: {stdout}\n{}",
            text(&out.stderr)
        );
        assert_eq!(
            attr(&stdout, "password"),
            Some(stored.as_str()),
            "{g:?}: {stdout}"
        );
        assert_eq!(
            attr(&stdout, "username"),
            Some(SimConfig::default().username.as_str())
        );
        assert!(home.sim.access_token_valid(&stored));

        // With capability[]=authtype on input, git 2.46+ passes the offer on and
        // returns the Bearer credential; older git ignores the capability.
        let out = fill(
            &home,
            &g,
            &helper,
            "capability[]=authtype\nprotocol=https\nhost=git.example.test\n\n",
        );
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{g:?}: {stdout}\n{}",
            text(&out.stderr)
        );
        if git_version(&g) >= (2, 46) {
            assert_eq!(attr(&stdout, "authtype"), Some("Bearer"), "{g:?}: {stdout}");
            assert_eq!(
                attr(&stdout, "credential"),
                Some(stored.as_str()),
                "{g:?}: {stdout}"
            );
        } else {
            assert_eq!(attr(&stdout, "authtype"), None, "{g:?}: {stdout}");
            assert_eq!(
                attr(&stdout, "password"),
                Some(stored.as_str()),
                "{g:?}: {stdout}"
            );
        }
        assert_eq!(
            home.sim.counters().refresh,
            0,
            "a valid token is not refreshed"
        );
    }
}

#[test]
fn git_short_name_matches_git_hosts_and_base_url() {
    for g in gits() {
        let home = TestHome::with(
            sim_with(7200),
            &[ProfileOpts {
                extra: "git_hosts = [\"git.example.test\", \"mirror.example.test:8443\"]\n".into(),
                ..ProfileOpts::default()
            }],
        );
        home.import_download("test", 60);
        let stored = home.token("test");
        let path = std::env::join_paths(
            std::iter::once(bin_dir())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let short = |input: &str| {
            let mut c = git(&home, &g, "central");
            c.env("PATH", &path).args(["credential", "fill"]);
            with_stdin(c, input)
        };
        let sim_host = home.sim.url().trim_start_matches("http://").to_owned();
        for input in [
            "protocol=https\nhost=git.example.test\n\n".to_owned(),
            "protocol=https\nhost=mirror.example.test:8443\n\n".to_owned(),
            format!("protocol=http\nhost={sim_host}\n\n"),
        ] {
            let out = short(&input);
            let stdout = text(&out.stdout);
            assert!(
                out.status.success(),
                "{g:?} {input:?}: {stdout}\n{}",
                text(&out.stderr)
            );
            assert_eq!(
                attr(&stdout, "password"),
                Some(stored.as_str()),
                "{g:?} {input:?}"
            );
        }
        // Another host: the helper prints nothing, git finds no credential and,
        // unable to prompt, fails. No token leaks to a host not configured.
        for input in [
            "protocol=https\nhost=github.com\n\n",
            "protocol=https\nhost=mirror.example.test\n\n",
            "protocol=http\nhost=git.example.test\n\n",
        ] {
            let out = short(input);
            assert!(!out.status.success(), "{g:?} {input:?}");
            assert!(!text(&out.stdout).contains(&stored), "{g:?} {input:?}");
        }
    }
}

/// A running `git_http_server.py`, killed on drop.
struct GitServer {
    /// Killed on drop.
    #[allow(dead_code)]
    server: FixtureServer,
    port: u16,
    log: PathBuf,
}

impl GitServer {
    fn start(sim_url: &str, root: &Path, git: &Path, log: PathBuf) -> Option<GitServer> {
        let server = FixtureServer::start(
            "git_http_server.py",
            &[
                sim_url.as_ref(),
                root.as_os_str(),
                git.as_os_str(),
                log.as_os_str(),
            ],
        )?;
        let port = server.port;
        Some(GitServer { server, port, log })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/repo.git", self.port)
    }

    /// Every request the server saw: (scheme, token, accepted).
    fn requests(&self) -> Vec<(Option<String>, Option<String>, bool)> {
        let Ok(log) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        log.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["scheme"].as_str().map(str::to_owned),
                    v["token"].as_str().map(str::to_owned),
                    v["ok"].as_bool().unwrap(),
                )
            })
            .collect()
    }
}

fn run_ok(c: &mut Command) {
    let out = c.output().unwrap();
    assert!(out.status.success(), "{c:?}: {}", text(&out.stderr));
}

/// A bare repository `root/repo.git` with one commit.
fn make_repo(g: &Path, dir: &Path) -> PathBuf {
    let root = dir.join("root");
    let seed = dir.join("seed");
    let plain = |args: &[&str]| {
        let mut c = Command::new(g);
        c.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .env_remove("GIT_DIR")
            .args(["-c", "user.name=e2e", "-c", "user.email=e2e@example.test"])
            .args(args);
        run_ok(&mut c);
    };
    plain(&["init", "-q", seed.to_str().unwrap()]);
    std::fs::write(seed.join("README"), "hello\n").unwrap();
    plain(&["-C", seed.to_str().unwrap(), "add", "README"]);
    plain(&["-C", seed.to_str().unwrap(), "commit", "-q", "-m", "init"]);
    std::fs::create_dir(&root).unwrap();
    plain(&[
        "clone",
        "-q",
        "--bare",
        seed.to_str().unwrap(),
        root.join("repo.git").to_str().unwrap(),
    ]);
    root
}

fn access_rejected(home: &TestHome) -> bool {
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.record_path("test")).unwrap()).unwrap();
    record["access_rejected"].as_bool().unwrap()
}

#[test]
fn git_clone_then_stale_token_is_erased_and_the_next_fetch_refreshes() {
    for g in gits() {
        let home = TestHome::new();
        home.import_download("test", 60);
        let first = home.token("test");
        let work = tempfile::tempdir().unwrap();
        let root = make_repo(&g, work.path());
        let Some(server) = GitServer::start(
            &home.sim.url(),
            &root,
            &g,
            work.path().join("requests.jsonl"),
        ) else {
            return;
        };
        let helper = helper_cmd("--profile test");
        let clone = work.path().join("clone");
        let bearer = git_version(&g) >= (2, 46);
        let scheme = if bearer { "bearer" } else { "basic" };

        let out = git(&home, &g, &helper)
            .arg("clone")
            .arg(server.url())
            .arg(&clone)
            .output()
            .unwrap();
        assert!(out.status.success(), "{g:?} clone: {}", text(&out.stderr));
        assert_eq!(
            std::fs::read_to_string(clone.join("README")).unwrap(),
            "hello\n"
        );
        let seen = server.requests();
        assert_eq!(
            seen[0],
            (None, None, false),
            "{g:?}: first request is anonymous, 401"
        );
        assert!(
            seen[1..]
                .iter()
                .all(|r| *r == (Some(scheme.into()), Some(first.clone()), true)),
            "{g:?}: then the broker's token via {scheme}: {seen:?}"
        );

        // Central stops accepting the token while the store still thinks it valid.
        home.sim.expire_access_tokens();
        let fetch = || {
            git(&home, &g, &helper)
                .arg("-C")
                .arg(&clone)
                .args(["fetch", "-q", "origin"])
                .output()
                .unwrap()
        };
        let out = fetch();
        assert!(!out.status.success(), "{g:?}: the stale token must fail");
        assert!(
            text(&out.stderr).contains("Authentication failed"),
            "{g:?}: {}",
            text(&out.stderr)
        );
        assert!(
            access_rejected(&home),
            "{g:?}: git's erase marked the token rejected"
        );
        assert_eq!(home.sim.counters().refresh, 0);

        let out = fetch();
        assert!(
            out.status.success(),
            "{g:?} second fetch: {}",
            text(&out.stderr)
        );
        assert_one_refresh(&home.sim.counters(), &format!("{g:?}: fetch after erase"));
        let second = home.token("test");
        assert_ne!(second, first);
        let last = server.requests().pop().unwrap();
        assert_eq!(
            last,
            (Some(scheme.into()), Some(second.clone()), true),
            "{g:?}"
        );
        assert!(!access_rejected(&home));
        assert_one_refresh(
            &home.sim.counters(),
            &format!("{g:?}: token after the fetch"),
        );
    }
}

fn helper(home: &TestHome, args: &[&str], input: &[u8]) -> Output {
    let mut c = home.cmd(HELPER);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn helper_edge_cases() {
    let home = TestHome::new();

    // No token yet: the broker's error, its exit code, nothing on stdout.
    let out = helper(
        &home,
        &["--profile", "test", "get"],
        b"protocol=https\nhost=x.example\n\n",
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).starts_with("git-credential-central: "));
    assert!(text(&out.stderr).contains("central-auth import --profile test"));

    home.import_download("test", 60);
    let stored = home.token("test");

    // Not ours: nothing at all, exit 0, so git asks the next helper.
    let out = helper(&home, &["get"], b"protocol=https\nhost=github.com\n\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());

    // Injection attempts: exit 2, nothing on stdout, the value not echoed.
    for input in [
        &b"protocol=https\nhost=a\r\nhost=b\n\n"[..],
        b"protocol=https\nhost=a\0b\n\n",
        b"protocol=https\nho\0st=a\n\n",
        b"protocol=https\nhost\n\n",
    ] {
        let out = helper(&home, &["--profile", "test", "get"], input);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{input:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{input:?}");
        assert!(text(&out.stderr).starts_with("git-credential-central: "));
    }
    let mut long = b"protocol=https\npath=".to_vec();
    long.resize(70_000, b'a');
    let out = helper(&home, &["--profile", "test", "get"], &long);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    // No operation (git2 with an absolute path), stdin closed without blank line.
    let out = helper(
        &home,
        &["--profile", "test"],
        b"protocol=http\nhost=127.0.0.1:9",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(&format!("\npassword={stored}\n")));

    // store and unknown operations: ignored, exit 0, no output.
    for op in ["store", "frobnicate"] {
        let out = helper(
            &home,
            &["--profile", "test", op],
            b"protocol=https\nhost=x\npassword=p\n\n",
        );
        assert_eq!(out.status.code(), Some(0), "{op}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{op}");
    }
    let out = helper(&home, &["capability"], b"");
    assert_eq!(text(&out.stdout), "version 0\ncapability authtype\n");

    // erase with some other password leaves the token alone; with the current
    // token it marks it rejected and the next get refreshes once.
    let out = helper(
        &home,
        &["--profile", "test", "erase"],
        b"protocol=https\nhost=x\npassword=other\n\n",
    );
    assert!(out.status.success());
    assert!(!access_rejected(&home));
    let erase = format!("protocol=https\nhost=x\npassword={stored}\n\n");
    let out = helper(&home, &["--profile", "test", "erase"], erase.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(access_rejected(&home));
    let out = helper(
        &home,
        &["--profile", "test", "get"],
        b"protocol=https\nhost=x\n\n",
    );
    let fresh = text(&out.stdout);
    let fresh = attr(&fresh, "password").unwrap();
    assert_ne!(fresh, stored);
    assert!(home.sim.access_token_valid(fresh));
    assert_one_refresh(&home.sim.counters(), "get after erase");

    // A bad command line: one line on stderr, exit 2.
    let out = helper(&home, &["--min-valid", "5x", "get"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );

    // --help documents the exit codes.
    let out = home.cmd(HELPER).arg("--help").output().unwrap();
    assert!(text(&out.stdout).contains("Exit codes:"));
}

/// Replaces the stored access token of profile `test` in its record (a token the
/// broker reads back as is: a hand-edited or damaged store, or a gateway answer
/// stored before validation existed).
fn store_access_token(home: &TestHome, token: &str) {
    let path = home.record_path("test");
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    record["access_token"] = serde_json::json!(token);
    // Rewriting the existing file keeps its mode 0600.
    std::fs::write(&path, record.to_string()).unwrap();
}

/// Output-side injection through the real git: a stored token or a configured
/// username carrying a line break would add or override attributes in the
/// helper's `key=value` answer (`password=`, `url=`, ...). The helper must refuse
/// to answer, so git, which cannot prompt, gets no credential at all; a token
/// holding `=` (base64 padding) is just a value and reaches git intact.
#[test]
fn git_never_receives_an_injected_attribute_from_the_helper() {
    const EVIL: &str = "evil-injected";
    for g in gits() {
        let bearer = git_version(&g) >= (2, 46);
        let home = TestHome::new();
        home.import_download("test", 60);
        let helper = helper_cmd("--profile test");
        let inputs = [
            "protocol=https\nhost=git.example.test\n\n",
            "capability[]=authtype\nprotocol=https\nhost=git.example.test\n\n",
        ];
        let injected_tokens = [
            format!("tok\npassword={EVIL}"),
            format!("tok\rpassword={EVIL}"),
            format!("tok\ncredential={EVIL}\nauthtype=Bearer"),
            format!("tok\nurl=https://{EVIL}.example/repo.git"),
        ];
        for token in &injected_tokens {
            store_access_token(&home, token);
            for input in inputs {
                let out = fill(&home, &g, &helper, input);
                let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
                assert!(
                    !out.status.success(),
                    "{g:?} {token:?} {input:?}: git got a credential: {stdout}"
                );
                assert!(
                    !stdout.contains(EVIL) && !stderr.contains(EVIL),
                    "{g:?} {token:?} {input:?}: the injected attribute reached git: {stdout}{stderr}"
                );
                assert!(
                    stderr.contains("git-credential-central: "),
                    "{g:?}: the helper says why: {stderr}"
                );
            }
        }

        // `=` inside a value is data: git splits at the first `=` only.
        let padded = "tok=with=equals==";
        store_access_token(&home, padded);
        for input in inputs {
            let out = fill(&home, &g, &helper, input);
            let stdout = text(&out.stdout);
            assert!(out.status.success(), "{g:?}: {}", text(&out.stderr));
            let key = if bearer && input.starts_with("capability") {
                "credential"
            } else {
                "password"
            };
            assert_eq!(
                attr(&stdout, key),
                Some(padded),
                "{g:?} {input:?}: {stdout}"
            );
        }

        // A configured username carrying a line break.
        let config = std::fs::read_to_string(home.config_path()).unwrap();
        let username_line = format!("username = \"{}\"", SimConfig::default().username);
        assert!(config.contains(&username_line));
        std::fs::write(
            home.config_path(),
            config.replace(
                &username_line,
                &format!("username = \"alice\\npassword={EVIL}\""),
            ),
        )
        .unwrap();
        for input in inputs {
            let out = fill(&home, &g, &helper, input);
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert!(!out.status.success(), "{g:?} {input:?}: {stdout}");
            assert!(
                !stdout.contains(EVIL) && !stderr.contains(EVIL),
                "{g:?} {input:?}: the injected username reached git: {stdout}{stderr}"
            );
        }
    }
}
