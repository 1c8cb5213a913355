//! The chain's truth at the edges: local state that looks fine while Central has
//! moved on, and hostile answers. Killed forced rotations (the access token still
//! has time left), rotate-then-drop, every bad gateway answer, a dead chain seen
//! by every tool, bounded secret commands, the worst-case lock hold, a replaced
//! lock file whose holder wins, `--min-valid` limits and Ctrl-C at the prompt.
//! The rule throughout: a call either returns a token the simulator accepts or
//! fails with a clear line saying what to run; it never returns a dead token.

use std::io::Write;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::*;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

fn record(home: &TestHome, profile: &str) -> serde_json::Value {
    let bytes = std::fs::read(home.record_path(profile)).expect("record exists");
    serde_json::from_slice(&bytes).expect("record parses")
}

fn two_profiles() -> TestHome {
    TestHome::with(
        sim_with(7200),
        &[
            ProfileOpts {
                name: "nopw".into(),
                ..ProfileOpts::default()
            },
            ProfileOpts {
                name: "pw".into(),
                with_password: true,
                ..ProfileOpts::default()
            },
        ],
    )
}

fn spawn(home: &TestHome, args: &[&str]) -> Child {
    home.cmd("central-auth")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Polls the record of `profile` until a rotation mark shows (or `child` ended,
/// or 5 s passed), then kills `child` at once.
fn kill_when_marked(home: &TestHome, profile: &str, child: &mut Child) {
    let path = home.record_path(profile);
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        let marked = std::fs::read(&path)
            .map(|b| b.windows(10).any(|w| w == b"\"rotating\""))
            .unwrap_or(false);
        if marked || !matches!(child.try_wait(), Ok(None)) {
            break;
        }
    }
    let _ = child.kill();
}

/// The outcome of the call after a fault: a live token, or the clear exit 3.
enum Next {
    Live,
    Interrupted,
}

/// Runs `token` and checks the promise: a token the simulator accepts, or exit 3
/// whose one line says the refresh was interrupted (or the answer lost) and what
/// to run. Never a dead token.
fn next_call(home: &TestHome, profile: &str) -> Next {
    let out = home.cli(&["token", "--profile", profile]);
    let err = text(&out.stderr);
    match out.status.code() {
        Some(0) => {
            let token = text(&out.stdout).trim().to_owned();
            assert!(
                home.sim.access_token_valid(&token),
                "HANDED OUT A DEAD TOKEN (profile {profile}); stderr: {err}"
            );
            Next::Live
        }
        Some(3) => {
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                (err.contains("interrupted") || err.contains("answer to a refresh was lost"))
                    && err.contains("central-auth login")
                    && err.contains("central-auth import"),
                "{err}"
            );
            Next::Interrupted
        }
        other => panic!("unexpected exit {other:?}: {err}"),
    }
}

#[test]
fn killed_forced_rotations_never_hand_out_a_dead_token() {
    let home = two_profiles();
    let kills = 200;
    let (mut not_rotated, mut mark_left_alive, mut new_saved, mut lost) = (0, 0, 0, 0);
    let (mut lost_relogin, mut lost_clear_error, mut next_live, mut late) = (0, 0, 0, 0);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..kills {
        let profile = if i % 2 == 0 { "nopw" } else { "pw" };
        // Half `refresh` of a fresh token, half `token --min-valid 1h` of a token
        // with 59 minutes left: either way the access token still looks valid.
        let by_refresh = (i / 2) % 2 == 0;
        let old_refresh = home.import_aged(profile, if by_refresh { 0 } else { 3660 });
        home.sim.inject(Fault::Delay {
            path_prefix: "/oauth2/token".into(),
            count: 1,
            millis: 25,
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = Duration::from_micros(1_000 + seed % 150_000);
        let calls_before = home.sim.token_log().len();
        let mut child = if by_refresh {
            spawn(&home, &["refresh", "--profile", profile])
        } else {
            spawn(&home, &["token", "--profile", profile, "--min-valid", "1h"])
        };
        if i % 4 == 3 {
            // Aim at the narrowest window: right after the write-ahead mark
            // appears, before the request leaves (on an idle machine a timed
            // kill rarely lands between the two).
            kill_when_marked(&home, profile, &mut child);
        } else {
            std::thread::sleep(kill_after);
        }
        let _ = child.kill();
        let _ = child.wait();
        // If the killed process's request reached the simulator (it took the
        // delay), let the simulator finish it before looking.
        if home.sim.pending_faults().is_empty() {
            let start = Instant::now();
            while home.sim.token_log().len() == calls_before {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "request never finished"
                );
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        home.sim.clear_faults();

        let stored = record(&home, profile);
        let stored_refresh = stored["refresh_token"].as_str().unwrap().to_owned();
        let rotated_here = stored_refresh != old_refresh;
        let was_lost = !rotated_here && !home.sim.refresh_token_valid(&old_refresh);
        if rotated_here {
            assert!(home.sim.refresh_token_valid(&stored_refresh));
            assert!(stored.get("rotating").is_none(), "a saved pair has no mark");
            new_saved += 1;
        } else if home.sim.refresh_token_valid(&old_refresh) {
            not_rotated += 1;
            if stored.get("rotating").is_some() {
                mark_left_alive += 1;
            }
        } else {
            // Central rotated and the answer died with the process: the
            // write-ahead mark must be there, or the next call would trust the
            // dead access token on the clock's word.
            assert!(
                stored.get("rotating").is_some(),
                "rotated at Central, nothing saved, and no rotation mark: {stored}"
            );
            lost += 1;
        }
        let had_mark = stored.get("rotating").is_some();
        let before = home.sim.counters();
        let next = next_call(&home, profile);
        let after = home.sim.counters();
        let rejected = after.refresh_rejected - before.refresh_rejected;
        let logins = after.login - before.login;
        if was_lost {
            assert_eq!(
                rejected, 1,
                "a lost chain is found out by one rejected refresh"
            );
        } else if rejected == 1 {
            // The killed process's request reached Central only after we looked:
            // its mark was there, so the next call settled it instead of trusting
            // the access token.
            assert!(had_mark, "a late rotation without a mark");
            late += 1;
        } else {
            assert_eq!(rejected, 0);
        }
        match next {
            Next::Live if rejected == 1 => {
                assert_eq!(profile, "pw", "only a profile with a password may log in");
                assert_eq!(logins, 1);
                lost_relogin += 1;
            }
            Next::Live => next_live += 1,
            Next::Interrupted => {
                assert_eq!(profile, "nopw", "a profile with a password logs in again");
                lost_clear_error += 1;
            }
        }
    }
    let c = home.sim.counters();
    figures(&format!(
        "forced-rotation crashes: {kills} SIGKILLs of `refresh` / `token --min-valid 1h` with the access token still valid: not rotated {not_rotated} (mark left and settled {mark_left_alive}), new pair saved {new_saved}, rotated but answer lost {lost} (+{late} whose request reached Central after the kill; re-login {lost_relogin}, clear exit 3 {lost_clear_error}); next call live {next_live}; simulator: {} refreshes, {} rejected, {} logins",
        c.refresh, c.refresh_rejected, c.login
    ));
    assert_eq!(not_rotated + new_saved + lost, kills);
    assert_eq!(lost + late, lost_relogin + lost_clear_error);
    for (what, n) in [
        ("not rotated", not_rotated),
        ("mark left and settled", mark_left_alive),
        ("new pair saved", new_saved),
        ("lost, re-login", lost_relogin),
        ("lost, clear error", lost_clear_error),
    ] {
        assert!(
            n > 0,
            "no kill landed as `{what}`: the suite did not hit that window"
        );
    }
    // Every lost chain was found out by exactly one rejected refresh: settling.
    assert_eq!(
        c.refresh_rejected,
        (lost + late) as u64,
        "rejected refreshes"
    );
    assert_eq!(
        c.login, lost_relogin as u64,
        "logins only to recover lost chains"
    );
    // Rotations by the killed processes (saved, lost, or late), plus one
    // successful settling refresh per mark whose pair was still alive.
    assert_eq!(
        c.refresh,
        (new_saved + lost + mark_left_alive) as u64,
        "successful refreshes"
    );
}

#[test]
fn rotate_then_drop_is_settled_not_trusted() {
    let home = two_profiles();
    let rounds = 24;
    let (mut relogin, mut clear) = (0, 0);
    for i in 0..rounds {
        let profile = if i % 2 == 0 { "nopw" } else { "pw" };
        let by_refresh = (i / 2) % 2 == 0;
        home.import_aged(profile, if by_refresh { 0 } else { 3660 });
        home.sim.inject(Fault::RotateThenDrop { count: 1 });
        let out = if by_refresh {
            home.cli(&["refresh", "--profile", profile])
        } else {
            home.cli(&["token", "--profile", profile, "--min-valid", "1h"])
        };
        let err = text(&out.stderr);
        if profile == "pw" {
            assert!(out.status.success(), "{err}");
            relogin += 1;
        } else {
            assert_eq!(out.status.code(), Some(3), "{err}");
            assert!(err.contains("answer to a refresh was lost"), "{err}");
            assert!(record(&home, profile).get("lost").is_some());
            clear += 1;
        }
        let before = home.sim.counters().token_requests;
        match next_call(&home, profile) {
            Next::Live => assert_eq!(profile, "pw"),
            Next::Interrupted => {
                assert_eq!(profile, "nopw");
                // The loss is recorded: the next call fails fast, offline.
                assert_eq!(home.sim.counters().token_requests, before);
            }
        }
    }
    let c = home.sim.counters();
    figures(&format!(
        "rotate-then-drop: {rounds} rotations answered by a reset: re-login {relogin}, recorded lost with exit 3 {clear}; simulator: {} refreshes, {} rejected, {} logins",
        c.refresh, c.refresh_rejected, c.login
    ));
    assert_eq!(c.refresh as usize, rounds);
    assert_eq!(c.login as usize, relogin);
}

/// Exit 3 with a one-line "recorded lost" error, and no request to Central.
fn assert_fails_fast(home: &TestHome, what: &str, out: &Output, before: u64) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{what}: {err}");
    assert!(out.stdout.is_empty(), "{what} printed on stdout");
    assert_eq!(err.lines().count(), 1, "{what}: {err}");
    assert!(
        err.contains("recorded lost") && err.contains("login") && err.contains("import"),
        "{what}: {err}"
    );
    assert_eq!(
        home.sim.counters().token_requests,
        before,
        "{what} called Central"
    );
}

fn run_with_stdin(home: &TestHome, bin_name: &str, args: &[&str], input: &[u8]) -> Output {
    let mut child = home
        .cmd(bin_name)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

#[test]
fn a_dead_chain_is_state_that_every_tool_reports() {
    let home = TestHome::new();
    home.import_aged("test", 7250);
    home.sim.revoke_all();
    let out = home.cli(&["token", "--profile", "test"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("Central rejected the stored refresh token"),
        "{}",
        text(&out.stderr)
    );
    let before = home.sim.counters().token_requests;

    let out = home.cli(&["token", "--profile", "test"]);
    assert_fails_fast(&home, "token", &out, before);
    let out = home.cli(&["refresh", "--profile", "test"]);
    assert_fails_fast(&home, "refresh", &out, before);
    let out = run_with_stdin(
        &home,
        "git-credential-central",
        &["--profile", "test", "get"],
        b"protocol=https\nhost=x.example\n\n",
    );
    assert_fails_fast(&home, "git-credential-central", &out, before);
    let out = home
        .cmd("central-auth-kube")
        .args(["--profile", "test"])
        .output()
        .unwrap();
    assert_fails_fast(&home, "central-auth-kube", &out, before);
    let out = run_with_stdin(
        &home,
        "central-auth-terraform",
        &["--profile", "test"],
        b"{}",
    );
    assert_fails_fast(&home, "central-auth-terraform", &out, before);
    let out = home
        .cmd("central-auth-ansible")
        .args(["--profile", "test"])
        .output()
        .unwrap();
    assert_fails_fast(&home, "central-auth-ansible", &out, before);

    let out = home.cli(&["status", "--profile", "test"]);
    assert_eq!(out.status.code(), Some(3), "status exits non-zero");
    let shown = text(&out.stdout);
    assert!(
        shown.contains("LOST at") && shown.contains("warning:"),
        "{shown}"
    );
    assert!(!shown.contains("left of the 15-day rule"), "{shown}");
    let out = home.cli(&["status", "--profile", "test", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["token"]["lost"]["reason"]
        .as_str()
        .unwrap()
        .contains("Invalid refresh_token"));
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w.as_str().unwrap().contains("recorded lost")));
    let out = home.cli(&["doctor", "--profile", "test"]);
    assert!(!out.status.success());
    let report = text(&out.stdout);
    let line = report
        .lines()
        .find(|l| l.contains("refresh token"))
        .unwrap();
    assert!(
        line.starts_with("FAIL")
            && line.contains("cannot help")
            && line.contains("central-auth login --profile test")
            && line.contains("central-auth import --profile test"),
        "{report}"
    );
    assert!(!report.contains("run `central-auth refresh"), "{report}");
    assert_eq!(home.sim.counters().refresh, 0);

    // import clears it.
    let download = home.sim.download_token();
    let file = home.path().join("new.json");
    std::fs::write(&file, download.to_string()).unwrap();
    let out = home.cli(&["import", "--profile", "test", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    let out = home.cli(&["status", "--profile", "test", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["token"]["lost"].is_null());
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn login_clears_a_lost_chain() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: false,
            ..ProfileOpts::default()
        }],
    );
    home.import_aged("test", 7250);
    home.sim.revoke_all();
    assert_eq!(home.cli(&["token"]).status.code(), Some(3));
    let mut child = home
        .cmd("central-auth")
        .args(["login", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pw = SimConfig::default().password;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{pw}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(home.sim.access_token_valid(&home.token("test")));
    assert!(record(&home, "test").get("lost").is_none());
}

/// The hostile shapes a gateway could answer a refresh with, after it rotated.
fn hostile_shapes() -> Vec<(&'static str, String, bool)> {
    let pair = |extra: &str| {
        format!(
            r#"{{"access_token":"{{access_token}}","refresh_token":"{{refresh_token}}","token_type":"bearer"{extra}}}"#
        )
    };
    let with_at = |at: &str| {
        format!(
            r#"{{"access_token":"{at}","refresh_token":"{{refresh_token}}","token_type":"bearer","expires_in":7200}}"#
        )
    };
    vec![
        // (what, body, chain survives with a clamped expiry)
        ("expires_in 1e13", pair(r#","expires_in":1e13"#), true),
        (
            "expires_in as a numeric string",
            pair(r#","expires_in":"10000000000000""#),
            true,
        ),
        (
            "expires_in 2^64-1",
            pair(r#","expires_in":18446744073709551615"#),
            true,
        ),
        (
            "a 100 KB access token",
            with_at(&"A".repeat(100_000)),
            false,
        ),
        (
            "CR LF in the access token",
            with_at(r"{access_token}\r\nX-Injected: 1"),
            false,
        ),
        (
            "NUL in the access token",
            with_at(r"{access_token}\u0000"),
            false,
        ),
        (
            "ESC in the access token",
            with_at(r"\u001b]0;pwned\u0007"),
            false,
        ),
        (
            "a space in the access token",
            with_at("{access_token} x"),
            false,
        ),
        ("token_type mac", pair("").replace("bearer", "mac"), false),
        (
            "no access_token",
            r#"{"refresh_token":"{refresh_token}","token_type":"bearer","expires_in":7200}"#
                .to_owned(),
            false,
        ),
        (
            "no refresh_token",
            r#"{"access_token":"{access_token}","token_type":"bearer","expires_in":7200}"#
                .to_owned(),
            false,
        ),
        ("not JSON", "<html>upstream error</html>".to_owned(), false),
        ("expires_in -5", pair(r#","expires_in":-5"#), false),
    ]
}

#[test]
fn hostile_answers_never_panic_and_lose_the_chain_plainly() {
    let home = two_profiles();
    let (mut clamped, mut lost, mut relogin) = (0, 0, 0);
    for (what, body, survives) in hostile_shapes() {
        home.import_aged("nopw", 7250);
        home.sim.inject(Fault::RotateThenAnswer {
            count: 1,
            status: 200,
            body: body.clone(),
        });
        let out = home.cli(&["token", "--profile", "nopw"]);
        let err = text(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "{what}: panic: {err}");
        assert!(
            !err.contains("X-Injected") && !err.contains("pwned") && !err.contains('\u{1b}'),
            "{what}: {err}"
        );
        if survives {
            assert!(out.status.success(), "{what}: {err}");
            let token = text(&out.stdout).trim().to_owned();
            assert!(home.sim.access_token_valid(&token), "{what}");
            let r = record(&home, "nopw");
            let life = r["expires_at"].as_i64().unwrap() - r["issued_at"].as_i64().unwrap();
            assert!(life <= 7200, "{what}: trusted for {life} s");
            clamped += 1;
            continue;
        }
        assert_eq!(out.status.code(), Some(3), "{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(
            err.contains("unusable token") && err.contains("chain is lost"),
            "{what}: {err}"
        );
        let r = record(&home, "nopw");
        assert!(r.get("lost").is_some(), "{what}: not recorded lost");
        let status = home.cli(&["status", "--profile", "nopw"]);
        assert_eq!(status.status.code(), Some(3), "{what}");
        let before = home.sim.counters().token_requests;
        let again = home.cli(&["token", "--profile", "nopw"]);
        assert_fails_fast(&home, what, &again, before);
        lost += 1;
    }
    // The repair: a fresh download replaces the lost record.
    home.import_aged("nopw", 0);
    assert!(home.sim.access_token_valid(&home.token("nopw")));

    // With a password source the same answer is recovered by logging in.
    home.import_aged("pw", 7250);
    home.sim.inject(Fault::RotateThenAnswer {
        count: 1,
        status: 200,
        body: r#"{"access_token":"bad token","refresh_token":"{refresh_token}"}"#.into(),
    });
    let out = home.cli(&["token", "--profile", "pw"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(home.sim.access_token_valid(text(&out.stdout).trim()));
    relogin += 1;
    figures(&format!(
        "hostile answers: {} shapes after a real rotation: {clamped} kept the chain with a clamped expiry, {lost} recorded lost with one line and exit 3 then repaired by import, {relogin} recovered by re-login; 0 panics",
        clamped + lost
    ));
}

#[test]
fn an_oversized_or_damaged_record_can_always_be_replaced_or_removed() {
    let home = TestHome::new();
    home.import_aged("test", 0);
    let path = home.record_path("test");
    for junk in [vec![b'x'; 100_000], b"{\"format\":1,".to_vec()] {
        std::fs::write(&path, &junk).unwrap();
        let out = home.cli(&["token"]);
        assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("import --force"));
        // Without --force import refuses and changes nothing.
        let download = home.sim.download_token();
        let file = home.path().join("d.json");
        std::fs::write(&file, download.to_string()).unwrap();
        let out = home.cli(&["import", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(6));
        assert_eq!(std::fs::read(&path).unwrap(), junk);
        let out = home.cli(&["import", "--force", file.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(home.sim.access_token_valid(&home.token("test")));
        std::fs::write(&path, &junk).unwrap();
        let out = home.cli(&["logout"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(!path.exists());
        home.import_aged("test", 0);
    }
}

#[test]
fn secret_commands_are_bounded_and_quiet() {
    let home = TestHome::new();
    let dir = home.path().to_path_buf();
    let pids = dir.join("pids");
    // A hanging client_secret_cmd that also starts a grandchild.
    home.write_config(&[ProfileOpts {
        extra: String::new(),
        ..ProfileOpts::default()
    }]);
    let config = std::fs::read_to_string(home.config_path()).unwrap().replace(
        "client_secret_env = \"E2E_CLIENT_SECRET\"",
        &format!(
            "client_secret_cmd = \"echo $$ > {p}; sleep 300 & echo $! >> {p}; wait\"\nsecret_cmd_timeout = \"1s\"",
            p = pids.display()
        ),
    );
    std::fs::write(home.config_path(), &config).unwrap();
    home.import_aged("test", 7250);
    let start = Instant::now();
    let out = home.cli(&["token"]);
    let took = start.elapsed();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("did not finish within 1 s"), "{err}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(home.sim.counters().token_requests, 0, "nothing was sent");
    let gone = |pid: &str| {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat.is_empty() || stat.contains(") Z") {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        assert!(
            gone(pid),
            "process {pid} of the timed-out command still runs"
        );
    }

    // The holder is SIGKILLed while its command hangs: the command goes too.
    std::fs::remove_file(&pids).unwrap();
    std::fs::write(
        home.config_path(),
        config.replace(
            "secret_cmd_timeout = \"1s\"",
            "secret_cmd_timeout = \"60s\"",
        ),
    )
    .unwrap();
    let mut holder = spawn(&home, &["token"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&pids)
        .unwrap_or_default()
        .lines()
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    for pid in std::fs::read_to_string(&pids).unwrap().lines() {
        assert!(gone(pid), "process {pid} outlived its killed holder");
    }

    // A command that traces the secret on stderr (`set -x`) leaks nothing.
    let cfg = SimConfig::default();
    std::fs::write(
        home.config_path(),
        config.replace(
            &format!(
                "client_secret_cmd = \"echo $$ > {p}; sleep 300 & echo $! >> {p}; wait\"",
                p = pids.display()
            ),
            "client_secret_cmd = \"set -x; printf '%s\\\\n' \\\"$E2E_CLIENT_SECRET\\\"\"",
        ),
    )
    .unwrap();
    for args in [&["refresh"][..], &["-v", "refresh"][..]] {
        let out = home.cli(args);
        let err = text(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(!err.contains(&cfg.client_secret), "secret on stderr: {err}");
        if args[0] == "-v" {
            assert!(err.contains("said on stderr"), "{err}");
        }
    }
    figures(&format!(
        "secret commands: a hanging *_cmd ended after {} ms with its process group; killing its holder killed it too; `set -x` traces leaked nothing",
        took.as_millis()
    ));
}

#[test]
fn the_worst_case_lock_hold_is_bounded() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    home.import_aged("test", 7250);
    // Every token-endpoint and login request hangs longer than the budget.
    home.sim.inject(Fault::Delay {
        path_prefix: "/oauth2/".into(),
        count: 20,
        millis: 27_000,
    });
    let start = Instant::now();
    let out = home.cli(&["refresh"]);
    let held = start.elapsed();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    figures(&format!(
        "lock hold: a holder facing a gateway that never answers held the lock {} ms (budget 25 s)",
        held.as_millis()
    ));
    assert!(held < Duration::from_secs(29), "held {held:?}");
    assert!(held >= Duration::from_secs(20), "gave up early: {held:?}");
    home.sim.clear_faults();
    // The request may have reached Central: the next call settles with it.
    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
}

#[test]
fn a_replaced_lock_file_whose_holder_wins_gives_everyone_its_pair() {
    let home = TestHome::new();
    home.import_aged("test", 7250);
    home.sim.inject(Fault::Delay {
        path_prefix: "/oauth2/token".into(),
        count: 1,
        millis: 1500,
    });
    let slow = spawn(&home, &["token"]);
    let start = Instant::now();
    while home.sim.counters().token_requests == 0 {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2));
    }
    // The slow holder's request is inside Central: take its lock file away.
    let lock = home.lock_path("test");
    std::fs::remove_file(&lock).unwrap();
    let fast = home.token("test");
    let slow = slow.wait_with_output().unwrap();
    assert!(slow.status.success(), "{}", text(&slow.stderr));
    assert_eq!(
        text(&slow.stdout).trim(),
        fast,
        "both hold the winner's pair"
    );
    assert!(home.sim.access_token_valid(&fast));
    assert_one_refresh(
        &home.sim.counters(),
        "a replaced lock file, the holder wins",
    );
}

#[test]
fn an_unmeetable_min_valid_is_said_and_shown() {
    let home = TestHome::new();
    home.import_aged("test", 0);
    let out = home.cli(&["token", "--min-valid", "3h"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--min-valid 3h 0m cannot be met") && err.contains("using 1h 0m"),
        "{err}"
    );
    let out = home.cli(&["token", "--min-valid", "30m"]);
    assert!(text(&out.stderr).is_empty());
    home.write_config(&[ProfileOpts {
        min_valid: "90m",
        ..ProfileOpts::default()
    }]);
    let shown = text(&home.cli(&["status"]).stdout);
    assert!(
        shown.contains("min valid      1h 30m configured, 1h 0m applied"),
        "{shown}"
    );
}

#[test]
fn ctrl_c_at_the_password_prompt_restores_the_terminal() {
    let Some(python) = require_tool("python3", &on_path("python3")) else {
        return;
    };
    let home = TestHome::new();
    let mut c = std::process::Command::new(python);
    home.apply_env(&mut c);
    // Type "abc", then Ctrl-C.
    let out = c
        .arg(workspace().join("tests/fixtures/pty_prompt.py"))
        .args(["Password for", "61626303"])
        .arg("--")
        .arg(bin("central-auth"))
        .arg("login")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(v["exit"], 130, "{v}");
    assert_eq!(v["echo"], true, "the terminal was left without echo: {v}");
    assert!(
        !v["output"].as_str().unwrap().contains("abc"),
        "echoed: {v}"
    );
    assert!(v["output"].as_str().unwrap().contains("cancelled"), "{v}");
    assert_eq!(home.sim.counters().login, 0);
}

#[test]
fn a_rotated_pair_that_cannot_be_saved_is_reported_honestly() {
    let home = TestHome::new();
    home.import_aged("test", 7250);
    home.sim.inject(Fault::Delay {
        path_prefix: "/oauth2/token".into(),
        count: 1,
        millis: 800,
    });
    let holder = spawn(&home, &["token"]);
    let start = Instant::now();
    while home.sim.counters().token_requests == 0 {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(2));
    }
    // While Central rotates, the store's directory becomes unusable (a file
    // where the directory was): the fresh pair cannot be saved.
    let profiles = home.path().join("state/profiles");
    let aside = home.path().join("state/profiles.aside");
    std::fs::rename(&profiles, &aside).unwrap();
    std::fs::write(&profiles, b"not a directory").unwrap();
    let out = holder.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Central rotated the token pair")
            && err.contains("could not be saved")
            && err.contains("chain is lost")
            && err.contains("central-auth login --profile test"),
        "{err}"
    );
    assert!(!err.contains("unchanged"), "{err}");
    assert_eq!(home.sim.counters().refresh, 1);
    // The store comes back; the write-ahead mark in it tells the next call what
    // happened, instead of blaming another tool.
    std::fs::remove_file(&profiles).unwrap();
    std::fs::rename(&aside, &profiles).unwrap();
    assert!(record(&home, "test").get("rotating").is_some());
    let out = home.cli(&["token"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("was interrupted after Central had already rotated the pair"),
        "{err}"
    );
    assert!(!err.contains("another tool"), "{err}");
    assert!(record(&home, "test").get("lost").is_some());
}
