//! Local security (issue 8): each attack a hostile local user, proxy, child or
//! input made, performed again and shown to fail. Every attack asserts a one-line
//! error (or a clean answer), no change on disk, and no secret where it should not
//! be. Other users are played with `setpriv --reuid/--regid` to unprivileged ids
//! (the suite runs as root; no accounts are needed).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use central_auth_e2e::*;

/// The victim and the attacker: two unprivileged ids without accounts.
const VICTIM: u32 = 60_001;
const ATTACKER: u32 = 60_002;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// Asserts exit `code`, exactly one stderr line containing `needle`, and that
/// neither stream holds `secrets`.
fn one_line_error(out: &Output, code: i32, needle: &str, secrets: &[&str]) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
    no_secret(out, secrets);
    err
}

fn no_secret(out: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(!text(&out.stderr).contains(s), "secret on stderr");
        assert!(!text(&out.stdout).contains(s), "secret on stdout");
    }
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid)).unwrap();
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown_tree(path: &Path, uid: u32) {
    chown(path, uid);
    if std::fs::symlink_metadata(path).unwrap().is_dir() {
        for e in std::fs::read_dir(path).unwrap().flatten() {
            chown_tree(&e.path(), uid);
        }
    }
}

/// A home owned by [`VICTIM`] inside the test's directory, with an imported token.
struct VictimHome {
    home: TestHome,
    dir: PathBuf,
    refresh_token: String,
}

impl VictimHome {
    fn new() -> VictimHome {
        VictimHome::aged(0)
    }

    /// With a token imported `age` seconds old (7250: access token expired).
    fn aged(age: u64) -> VictimHome {
        let home = TestHome::new();
        let download = home.import_download("test", age);
        let dir = home.path().join("victim");
        std::fs::create_dir(&dir).unwrap();
        for name in ["config.toml", "state"] {
            std::fs::rename(home.path().join(name), dir.join(name)).unwrap();
        }
        chmod(home.path(), 0o711);
        chmod(&dir, 0o700);
        chown_tree(&dir, VICTIM);
        VictimHome {
            home,
            dir,
            refresh_token: download["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    /// `central-auth ARGS` run as `uid` on the victim's home.
    fn run_as(&self, uid: u32, args: &[&str]) -> Output {
        self.cmd_as(uid, &bin("central-auth"), args)
            .output()
            .unwrap()
    }

    /// `program ARGS` as `uid` (setpriv execs it: same pid) with the victim's
    /// environment.
    fn cmd_as(&self, uid: u32, program: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("setpriv");
        c.args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".to_owned(),
        ])
        .arg(program)
        .args(args);
        self.home.apply_env(&mut c);
        c.env("CENTRAL_AUTH_HOME", &self.dir).env("HOME", &self.dir);
        c
    }

    fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        tree(&self.dir)
    }
}

#[test]
fn other_users_cannot_plant_a_config_or_state() {
    let start = Instant::now();
    let v = VictimHome::new();
    let secret = SimConfig::default().client_secret;
    let secrets = [secret.as_str(), v.refresh_token.as_str()];
    // Sanity: the victim's own, private home works.
    let out = v.run_as(VICTIM, &["token"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pwned = v.dir.join("pwned");
    let evil_config = format!(
        "[profiles.test]\nbase_url = \"{}\"\nclient_id = \"x\"\nclient_secret_cmd = \"id > {}\"\ncustomer_id = \"c\"\n",
        v.home.sim.url(),
        pwned.display()
    );
    let config = v.dir.join("config.toml");
    let mut attacks = 0;

    // 1. A 0777 home: the attacker replaces config.toml with one whose
    //    client_secret_cmd runs `id`. The victim's refresh must not run it.
    chmod(&v.dir, 0o777);
    std::fs::remove_file(&config).unwrap();
    std::fs::write(&config, &evil_config).unwrap();
    chown(&config, ATTACKER);
    chmod(&config, 0o644);
    let before = v.snapshot();
    let out = v.run_as(VICTIM, &["refresh"]);
    one_line_error(&out, 6, "writable by group or others (mode 777)", &secrets);
    assert!(!pwned.exists(), "the attacker's command ran");
    assert_eq!(v.snapshot(), before);
    attacks += 1;

    // 2. The home is private again but config.toml belongs to the attacker.
    chmod(&v.dir, 0o700);
    let out = v.run_as(VICTIM, &["refresh"]);
    let err = one_line_error(&out, 6, &format!("is owned by uid {ATTACKER}"), &secrets);
    assert!(err.contains("chown"), "{err}");
    assert!(!pwned.exists(), "the attacker's command ran");
    assert_eq!(v.snapshot(), before);
    attacks += 1;

    // 3. The victim's own config, but writable by others (0666).
    chown(&config, VICTIM);
    chmod(&config, 0o666);
    let out = v.run_as(VICTIM, &["refresh"]);
    one_line_error(&out, 6, "chmod 600", &secrets);
    assert!(!pwned.exists(), "the attacker's command ran");
    attacks += 1;

    // 4. A state directory others can write to (they could plant records).
    let state = v.dir.join("state");
    chmod(&config, 0o600);
    chmod(&state, 0o777);
    let out = v.run_as(VICTIM, &["token"]);
    one_line_error(&out, 6, "chmod 700", &secrets);
    assert_eq!(v.snapshot(), before);
    attacks += 1;
    // 5. ... or owned by the attacker.
    chmod(&state, 0o700);
    chown(&state, ATTACKER);
    let out = v.run_as(VICTIM, &["token"]);
    one_line_error(&out, 6, "state directory", &secrets);
    chown(&state, VICTIM);
    assert!(!pwned.exists());
    attacks += 1;

    // doctor tells the truth about a readable state and a literal secret.
    std::fs::write(
        &config,
        format!(
            "[profiles.test]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{secret}\"\ncustomer_id = \"c\"\n",
            v.home.sim.url(),
            SimConfig::default().client_id
        ),
    )
    .unwrap();
    chown(&config, VICTIM);
    chmod(&config, 0o644);
    chmod(&state, 0o755);
    let out = v.run_as(VICTIM, &["doctor"]);
    let report = text(&out.stdout);
    assert!(!out.status.success(), "{report}");
    let line = report
        .lines()
        .find(|l| l.contains("permissions"))
        .unwrap_or_default();
    assert!(!line.contains("ok"), "{report}");
    assert!(
        line.contains("chmod 700") && line.contains("chmod 600"),
        "{line}"
    );
    no_secret(&out, &secrets);
    // Every command warns, in one line, about the readable literal secret.
    let out = v.run_as(VICTIM, &["token"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("literal client_secret") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(&secret));
    chmod(&config, 0o600);
    let out = v.run_as(VICTIM, &["token"]);
    assert_eq!(text(&out.stderr), "", "no warning once private");
    figures(&format!(
        "security other-user: {attacks} attacks refused (exit 6, one line, nothing run or changed) in {:.1}s",
        start.elapsed().as_secs_f64()
    ));
}

#[test]
fn planted_symlinks_are_refused_and_nothing_is_created_outside() {
    let home = TestHome::new();
    let download = home.import_download("test", 0);
    let rt = download["refresh_token"].as_str().unwrap().to_owned();
    let secrets = [rt.as_str()];
    let outside = home.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let mut attacks = 0;

    // A lock planted as a link: the broker used to create the file it points to.
    let lock = home.lock_path("test");
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(outside.join("created"), &lock).unwrap();
    let before = tree(home.path());
    let out = home.cli(&["token"]);
    one_line_error(&out, 6, "is a symbolic link", &secrets);
    assert!(!outside.join("created").exists(), "followed the lock link");
    assert_eq!(tree(home.path()), before);
    std::fs::remove_file(&lock).unwrap();
    std::fs::write(&lock, b"").unwrap();
    attacks += 1;

    // A record planted as a link to a record elsewhere.
    let record = home.record_path("test");
    let elsewhere = outside.join("token.json");
    std::fs::rename(&record, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &record).unwrap();
    let before = tree(home.path());
    let out = home.cli(&["token"]);
    one_line_error(&out, 6, "is a symbolic link", &secrets);
    assert_eq!(tree(home.path()), before);
    std::fs::remove_file(&record).unwrap();
    std::fs::rename(&elsewhere, &record).unwrap();
    attacks += 1;

    // The profile directory itself as a link.
    let pdir = home.profile_dir("test");
    let moved = outside.join("test");
    std::fs::rename(&pdir, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &pdir).unwrap();
    let before = tree(home.path());
    let out = home.cli(&["token"]);
    one_line_error(&out, 6, "is a symbolic link", &secrets);
    assert_eq!(tree(home.path()), before);
    std::fs::remove_file(&pdir).unwrap();
    std::fs::rename(&moved, &pdir).unwrap();
    attacks += 1;

    assert_eq!(
        home.token("test"),
        download["access_token"].as_str().unwrap()
    );
    figures(&format!(
        "security symlinks: {attacks} planted links refused"
    ));
}

#[test]
fn profile_names_never_collide_and_old_stores_migrate_without_a_refresh() {
    let profiles = [
        ProfileOpts::default(),
        ProfileOpts {
            name: "p".into(),
            ..ProfileOpts::default()
        },
        ProfileOpts {
            name: "p.usage".into(),
            ..ProfileOpts::default()
        },
    ];
    let home = TestHome::with(sim_with(7200), &profiles);
    let p = home.import_download("p", 0);
    let pu = home.import_download("p.usage", 0);
    let rt_pu = pu["refresh_token"].as_str().unwrap();
    // The attack: `token --profile p` records p's usage; it used to overwrite the
    // record of `p.usage`.
    let record_pu = std::fs::read(home.record_path("p.usage")).unwrap();
    assert_eq!(home.token("p"), p["access_token"].as_str().unwrap());
    assert!(home.usage_path("p").exists());
    assert_eq!(
        std::fs::read(home.record_path("p.usage")).unwrap(),
        record_pu
    );
    assert!(home.sim.refresh_token_valid(rt_pu));

    // An old flat store: p.json, p.lock, and p.usage.json which is p.usage's
    // record (not p's usage). Each profile migrates on first use, by renames.
    let profiles_dir = home.path().join("state").join("profiles");
    for name in ["p", "p.usage"] {
        std::fs::rename(
            home.record_path(name),
            profiles_dir.join(format!("{name}.json")),
        )
        .unwrap();
        std::fs::remove_dir_all(home.profile_dir(name)).unwrap();
    }
    std::fs::write(profiles_dir.join("p.lock"), b"").unwrap();
    let calls = home.sim.counters().token_requests;
    assert_eq!(home.token("p"), p["access_token"].as_str().unwrap());
    assert!(
        profiles_dir.join("p.usage.json").exists(),
        "not taken as usage"
    );
    assert!(!profiles_dir.join("p.lock").exists());
    assert_eq!(home.token("p.usage"), pu["access_token"].as_str().unwrap());
    assert!(!profiles_dir.join("p.usage.json").exists());
    assert_eq!(home.sim.counters().token_requests, calls, "no refresh");
    assert!(home.sim.refresh_token_valid(rt_pu));
    figures("security names: profiles p and p.usage kept apart; old store migrated with 0 token requests");
}

/// A hostile HTTP proxy on 127.0.0.1 that records every byte it receives and
/// answers `CONNECT` with 200 (then closes) and anything else with 502.
struct CapturingProxy {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CapturingProxy {
    fn start() -> CapturingProxy {
        use std::io::Read;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, c, st) = (seen.clone(), connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    continue;
                };
                c.fetch_add(1, Ordering::SeqCst);
                conn.set_nonblocking(false).unwrap();
                // Generous: the client may be slow to write on a loaded machine.
                conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let mut head = Vec::new();
                let mut buf = vec![0u8; 65536];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                s.lock().unwrap().extend_from_slice(&head);
                conn.set_read_timeout(Some(std::time::Duration::from_millis(500)))
                    .unwrap();
                let answer: &[u8] = if head.starts_with(b"CONNECT ") {
                    b"HTTP/1.1 200 Connection established\r\n\r\n"
                } else {
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                };
                let _ = conn.write_all(answer);
                // Whatever follows in the tunnel (a TLS ClientHello) is kept too.
                let n = conn.read(&mut buf).unwrap_or(0);
                s.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        CapturingProxy {
            port,
            seen,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> String {
        text(&self.seen.lock().unwrap())
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn set_env(&self, c: &mut Command) {
        for var in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "ALL_PROXY",
            "all_proxy",
        ] {
            c.env(var, self.url());
        }
        c.env_remove("NO_PROXY").env_remove("no_proxy");
    }
}

impl Drop for CapturingProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn secrets_stay_out_of_urls_and_away_from_proxies() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    let mut config = std::fs::read_to_string(home.config_path()).unwrap();
    config.push_str(
        "\n[profiles.remote]\nbase_url = \"https://central.invalid\"\nclient_id = \"x\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\n",
    );
    std::fs::write(home.config_path(), config).unwrap();
    let proxy = CapturingProxy::start();
    let run = |args: &[&str]| {
        let mut c = home.cmd("central-auth");
        proxy.set_env(&mut c);
        c.args(args).output().unwrap()
    };
    // Login (code exchange) and a refresh, with every proxy variable set and a
    // loopback base_url: nothing may reach the proxy, nothing secret in a URL.
    let out = run(&["login", "--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&["refresh", "--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c = home.sim.counters();
    assert_eq!((c.code_exchange, c.refresh), (1, 1), "{c:?}");
    assert_eq!(
        c.secrets_in_query, 0,
        "a secret travelled in a query string"
    );
    assert_eq!(proxy.connections(), 0, "the proxy saw: {}", proxy.seen());

    // https to a remote gateway still goes through the proxy, as a CONNECT
    // tunnel: the proxy sees the host name, never a secret.
    let out = run(&["doctor", "--profile", "remote"]);
    assert!(!out.status.success());
    let seen = proxy.seen();
    assert!(seen.starts_with("CONNECT central.invalid:443 "), "{seen:?}");
    assert!(!seen.contains(&SimConfig::default().client_secret));
    figures(&format!(
        "security proxy: 0 of {} loopback token requests via the proxy, {} secrets in query strings; https via proxy: CONNECT only",
        c.token_requests, c.secrets_in_query
    ));
}

#[test]
fn exec_children_do_not_inherit_the_profile_secrets() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    let download = home.import_download("test", 0);
    let cfg = SimConfig::default();
    let out = home
        .cmd("central-auth")
        .env("UNRELATED_VAR", "kept")
        .args(["exec", "--", "env"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let env = text(&out.stdout);
    assert!(env.contains("UNRELATED_VAR=kept"), "{env}");
    assert!(env.contains(&format!(
        "CENTRAL_ACCESS_TOKEN={}",
        download["access_token"].as_str().unwrap()
    )));
    for (var, secret) in [
        ("E2E_CLIENT_SECRET", &cfg.client_secret),
        ("E2E_PASSWORD", &cfg.password),
    ] {
        assert!(!env.contains(&format!("{var}=")), "{var} reached the child");
        assert!(
            !env.contains(secret.as_str()),
            "{var}'s value reached the child"
        );
    }
    assert!(!env.contains(download["refresh_token"].as_str().unwrap()));
    figures("security exec: child env has the access token, not client_secret_env/password_env nor the refresh token");
}

/// The owner of `/proc/PID/status`: root for a non-dumpable process, else its
/// uid.
fn proc_owner(pid: u32) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(format!("/proc/{pid}/status"))
        .ok()
        .map(|m| m.uid())
}

/// Polls until `/proc/PID/status` belongs to `uid` (10 s bound).
fn wait_for_owner(pid: u32, uid: u32) -> bool {
    let start = Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(10) {
        if proc_owner(pid) == Some(uid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    false
}

#[test]
fn no_core_dump_or_same_user_memory_read_while_holding_secrets() {
    use std::process::Stdio;
    let v = VictimHome::aged(7250);
    // Control: an ordinary process of the victim owns its /proc entry.
    let mut sleep = v
        .cmd_as(VICTIM, Path::new("/bin/sleep"), &["5"])
        .spawn()
        .unwrap();
    assert!(wait_for_owner(sleep.id(), VICTIM), "control: /proc owner");
    let _ = sleep.kill();
    let _ = sleep.wait();

    // A refresh held up at Central: the process holds the refresh token and the
    // client secret while the lock is held.
    v.home.sim.inject(Fault::Delay {
        path_prefix: "/oauth2/token".into(),
        count: 1,
        millis: 3000,
    });
    let child = v
        .cmd_as(VICTIM, &bin("central-auth"), &["token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    while v.home.sim.counters().token_requests == 0 {
        assert!(start.elapsed().as_secs() < 20, "no refresh started");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(proc_owner(pid), Some(0), "mid-refresh process is dumpable");
    // The same user cannot read its memory or environment either.
    let peek = v
        .cmd_as(
            VICTIM,
            Path::new("/bin/cat"),
            &[&format!("/proc/{pid}/environ")],
        )
        .output()
        .unwrap();
    assert!(!peek.status.success(), "victim-uid process read environ");
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    // Every helper is non-dumpable from its first line (here: waiting on stdin).
    let mut helpers = 0;
    for (name, args) in [
        ("git-credential-central", &["get"][..]),
        ("central-auth-terraform", &[][..]),
        ("central-auth", &["import", "-"][..]),
    ] {
        let mut child = v
            .cmd_as(VICTIM, &bin(name), args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let ok = wait_for_owner(child.id(), 0);
        drop(child.stdin.take());
        let _ = child.wait();
        assert!(ok, "{name} stayed dumpable");
        helpers += 1;
    }
    figures(&format!(
        "security core dumps: mid-refresh central-auth and {helpers} helpers non-dumpable (/proc/PID/status owned by root, environ unreadable to the same uid)"
    ));
}

/// Runs `cmd` under `/usr/bin/time -f %M`, feeding `input_len` bytes made by
/// repeating `chunk` on stdin (stopping quietly when the helper closes it).
/// Returns the output and the peak RSS in KiB.
fn with_peak_memory(
    home: &TestHome,
    binary: &str,
    args: &[&str],
    chunk: &[u8],
    input_len: usize,
) -> (Output, u64) {
    use std::process::Stdio;
    let time = require_tool("/usr/bin/time", &[PathBuf::from("/usr/bin/time")])
        .expect("/usr/bin/time (apt package `time`)");
    let report = home.path().join("peak-rss");
    let mut c = Command::new(time);
    home.apply_env(&mut c);
    c.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(bin(binary))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let block: Vec<u8> = chunk.iter().copied().cycle().take(1 << 20).collect();
    let writer = std::thread::spawn(move || {
        let mut sent = 0;
        while sent < input_len {
            let n = block.len().min(input_len - sent);
            if stdin.write_all(&block[..n]).is_err() {
                break;
            }
            sent += n;
        }
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let kib = std::fs::read_to_string(&report)
        .unwrap()
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .parse()
        .unwrap();
    std::fs::remove_file(&report).unwrap();
    (out, kib)
}

#[test]
fn oversized_and_escape_laden_inputs_are_bounded_and_escaped() {
    let start = Instant::now();
    let home = TestHome::new();
    let download = home.import_download("test", 0);
    let secrets = [download["refresh_token"].as_str().unwrap()];
    let before = tree(home.path());
    let mut peaks = Vec::new();
    // 1 GiB query to the Terraform helper.
    let (out, kib) = with_peak_memory(
        &home,
        "central-auth-terraform",
        &[],
        b"{\"profile\":\"",
        1 << 30,
    );
    one_line_error(&out, 2, "larger than 65536 bytes", &secrets);
    peaks.push(("terraform 1GiB stdin", kib));
    // 3 million capability[] lines to the git helper (45 MB).
    let (out, kib) = with_peak_memory(
        &home,
        "git-credential-central",
        &["get"],
        b"capability[]=authtype\n",
        3_000_000 * 22,
    );
    one_line_error(&out, 2, "more than 64 \"capability[]\" lines", &secrets);
    peaks.push(("git 3M capability lines", kib));
    // 64 MiB of distinct-looking single-valued lines: the total cap.
    let (out, kib) = with_peak_memory(
        &home,
        "git-credential-central",
        &["get"],
        b"x-unknown=aaaaaaaaaaaaaaaaaa\n",
        64 << 20,
    );
    one_line_error(&out, 2, "bytes of input", &secrets);
    peaks.push(("git 64MiB input", kib));
    for (what, kib) in &peaks {
        assert!(*kib < 64 * 1024, "{what}: peak RSS {kib} KiB");
    }
    // Duplicate keys in a Terraform query: an error, not "the last one wins".
    let mut c = home.cmd("central-auth-terraform");
    let out = c
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin
                .take()
                .unwrap()
                .write_all(br#"{"profile":"test","profile":"other"}"#)?;
            ch.wait_with_output()
        })
        .unwrap();
    one_line_error(&out, 2, "given twice", &secrets);
    // An oversized KUBERNETES_EXEC_INFO.
    let out = home
        .cmd("central-auth-kube")
        .env("KUBERNETES_EXEC_INFO", "x".repeat(100 * 1024))
        .output()
        .unwrap();
    one_line_error(&out, 2, "more than 65536", &secrets);
    // Terminal escapes in git's host, echoed by -v: escaped, never raw.
    let mut c = home.cmd("git-credential-central");
    let out = c
        .args(["-v", "get"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin
                .take()
                .unwrap()
                .write_all(b"protocol=https\nhost=evil\x1b]0;pwned\x07\x1b[2J.example\n\n")?;
            ch.wait_with_output()
        })
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("\\u{1b}]0;pwned\\u{7}"), "{err:?}");
    assert!(
        !err.bytes().any(|b| b < 0x20 && b != b'\n'),
        "raw control bytes on stderr: {err:?}"
    );
    assert_eq!(text(&out.stdout), "", "not our host: no answer");
    assert_eq!(tree(home.path()), before, "bad input changed the store");
    // A base_url that a resolver reads differently from a person.
    for bad in [
        "http://[::1]evil.com",
        "https://central.example\\\\@evil.example",
        "http://127.1",
        "https://c%65ntral.example",
    ] {
        let config = std::fs::read_to_string(home.config_path()).unwrap();
        let url = home.sim.url();
        std::fs::write(home.config_path(), config.replace(&url, bad)).unwrap();
        let before = tree(home.path());
        let out = home.cli(&["token"]);
        one_line_error(&out, 2, "base_url", &secrets);
        assert_eq!(tree(home.path()), before);
        std::fs::write(home.config_path(), config).unwrap();
    }
    let shown: Vec<String> = peaks
        .iter()
        .map(|(w, k)| format!("{w} {:.1} MiB", *k as f64 / 1024.0))
        .collect();
    figures(&format!(
        "security input: peak RSS {}; dup keys, 100KiB exec info, ESC in host, 4 deceptive base_urls refused; {:.1}s",
        shown.join(", "),
        start.elapsed().as_secs_f64()
    ));
}

/// Every file with its JSON `generation` dropped, and no rotation mark left.
fn pair_of(files: &[(PathBuf, Vec<u8>)]) -> Vec<(PathBuf, String)> {
    files
        .iter()
        .map(|(p, bytes)| {
            let shown = match serde_json::from_slice::<serde_json::Value>(bytes) {
                Ok(mut v) if v.is_object() => {
                    assert!(v.get("rotating").is_none(), "mark left in {}", p.display());
                    v.as_object_mut().unwrap().remove("generation");
                    v.to_string()
                }
                _ => text(bytes),
            };
            (p.clone(), shown)
        })
        .collect()
}

/// A CA and three leaves made with the openssl CLI in `dir`: `good` (SAN
/// 127.0.0.1), `other` (SAN other.e2e.test only) and `expired` (127.0.0.1, its
/// validity ended before it began). `None` when openssl is missing.
fn tls_certs(dir: &Path) -> Option<()> {
    let ca = central_auth_e2e::kube::TestCa::new(dir)?;
    for (name, san, days) in [
        ("good", "IP:127.0.0.1", "2"),
        ("other", "DNS:other.e2e.test", "2"),
        ("expired", "IP:127.0.0.1", "-1"),
    ] {
        ca.leaf(name, san, days);
    }
    Some(())
}

#[test]
fn tls_failures_name_the_problem_and_the_fix_and_are_not_retried() {
    let home = TestHome::new();
    let dir = home.path().join("tls");
    std::fs::create_dir(&dir).unwrap();
    if tls_certs(&dir).is_none() {
        return;
    }
    let base = std::fs::read_to_string(home.config_path()).unwrap();
    let mut cases = 0;
    for (leaf, ca_file, want) in [
        ("good", false, "unknown CA"),
        ("other", true, "name mismatch"),
        ("expired", true, "has expired"),
    ] {
        let log = dir.join(format!("{leaf}.log"));
        let Some(server) = FixtureServer::start(
            "fake_apiserver.py",
            &[
                "--cert".as_ref(),
                dir.join(format!("{leaf}.pem")).as_os_str(),
                "--key".as_ref(),
                dir.join("leaf.key").as_os_str(),
                "--sim-url".as_ref(),
                home.sim.url().as_ref(),
                "--log".as_ref(),
                log.as_os_str(),
            ],
        ) else {
            return;
        };
        let mut config = base.clone();
        config.push_str(&format!(
            "\n[profiles.tls]\nbase_url = \"https://127.0.0.1:{}\"\nclient_id = \"x\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\n{}",
            server.port,
            if ca_file {
                format!("ca_file = \"{}\"\n", dir.join("ca.pem").display())
            } else {
                String::new()
            }
        ));
        std::fs::write(home.config_path(), config).unwrap();
        home.import_download("tls", 7250);
        let before = tree(&home.path().join("state"));
        let out = home
            .cmd("central-auth")
            .env_remove("SSL_CERT_FILE")
            .args(["-v", "refresh", "--profile", "tls"])
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{err}");
        let attempts = err.lines().filter(|l| l.contains(": http: POST")).count();
        assert_eq!(attempts, 1, "retried: {err}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.contains(want), "{want:?} not in {last}");
        assert!(!last.contains("try again later"), "{last}");
        if want == "unknown CA" {
            assert!(
                last.contains("ca_file") && last.contains("SSL_CERT_FILE"),
                "{last}"
            );
        }
        assert!(!err.contains(&SimConfig::default().client_secret));
        // The pair is untouched; only the generation moved (the write-ahead
        // rotation mark was written, then cleared when nothing was sent).
        assert_eq!(pair_of(&tree(&home.path().join("state"))), pair_of(&before));
        assert_eq!(
            std::fs::read_to_string(&log).unwrap_or_default(),
            "",
            "no request got through"
        );
        drop(server);
        cases += 1;
    }
    figures(&format!(
        "security tls: {cases} certificate failures (unknown CA, name mismatch, expired) named with their fix, 1 attempt each"
    ));
}
