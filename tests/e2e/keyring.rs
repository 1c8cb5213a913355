//! The OS keyring store against a real GNOME Keyring on a private D-Bus
//! session bus (`central_auth_e2e::keyring`): import, token, refresh and a
//! 32-process stampede with one refresh and no refresh token in any file;
//! SIGKILLs during forced refreshes never hand out a dead token; a locked,
//! missing or silent keyring is one line with its own exit code within the
//! deadline; migration to the keyring and back keeps the chain; another user
//! cannot reach the item.

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::keyring::Keyring;
use central_auth_e2e::*;

const STORE: &str = "\n[stores.keyring]\nkind = \"keyring\"\ntimeout = \"2s\"\n";

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// A home whose profile `test` lives in the keyring of `kr`.
fn keyring_home(kr: &Keyring, access_ttl: u64) -> TestHome {
    let home = TestHome::with_env(
        sim_with(access_ttl),
        &[ProfileOpts {
            extra: "store = \"keyring\"\n".into(),
            ..ProfileOpts::default()
        }],
        &[("DBUS_SESSION_BUS_ADDRESS", kr.address.as_str())],
    );
    home.append_config(STORE).unwrap();
    home
}

/// The record in the keyring item of profile `test`.
fn item(kr: &Keyring) -> Option<serde_json::Value> {
    kr.lookup("central-auth", "test")
        .map(|s| serde_json::from_str(&s).expect("the item holds a record"))
}

fn line(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    err.trim_end().to_owned()
}

/// Every file under `dir` that contains `needle`.
fn files_with(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    tree(dir)
        .into_iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
        .map(|(p, _)| p)
        .collect()
}

#[test]
fn keyring_store_refreshes_once_for_32_callers_and_keeps_no_refresh_token_in_files() {
    let Some(kr) = Keyring::start() else {
        return;
    };
    let home = keyring_home(&kr, 7200);
    let imported = home.import_aged("test", 7250);
    assert_eq!(item(&kr).unwrap()["refresh_token"], imported.as_str());
    assert!(!home.record_path("test").exists(), "no token.json");

    let before = home.sim.counters();
    let (tokens, wall) = home.stampede(32).unwrap();
    let after = home.sim.counters();
    assert!(tokens.iter().all(|t| t == &tokens[0]), "one token for all");
    assert!(home.sim.access_token_valid(&tokens[0]));
    assert_eq!(
        (
            after.refresh - before.refresh,
            after.refresh_rejected - before.refresh_rejected,
            after.login - before.login
        ),
        (1, 0, 0),
        "one refresh for 32 callers: {after:?}"
    );
    let record = item(&kr).unwrap();
    let refresh = record["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh, imported);
    assert!(home.sim.refresh_token_valid(&refresh));

    // No refresh token (old or new) in any file of the home, and none in
    // clear in the keyring's own files (encrypted at rest).
    for rt in [&refresh, &imported] {
        assert_eq!(
            files_with(home.path(), rt),
            Vec::<std::path::PathBuf>::new()
        );
        assert_eq!(files_with(kr.dir(), rt), Vec::<std::path::PathBuf>::new());
    }
    // The access token is in the 0600 cache, and the cached path never opens
    // D-Bus: with the daemon stopped, `token` still answers at once.
    let cache = home.path().join("state/keyring/keyring/test.cache.json");
    let cache = if cache.exists() {
        cache
    } else {
        files_with(home.path(), &tokens[0])
            .into_iter()
            .find(|p| p.to_string_lossy().ends_with("test.cache.json"))
            .expect("a cache file holds the access token")
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    kr.freeze(true);
    let start = Instant::now();
    let cached = home.token("test");
    let cached_wall = start.elapsed();
    // status shows the item and the cache without asking the keyring.
    let status = home.cli(&["status", "--profile", "test"]);
    kr.freeze(false);
    assert_eq!(cached, tokens[0]);
    assert!(cached_wall < Duration::from_secs(1), "{cached_wall:?}");
    let s = text(&status.stdout);
    assert!(
        s.contains("keyring item") && s.contains("central-auth"),
        "{s}"
    );
    // doctor: the keyring answers and holds the item.
    let doctor = home.cli(&["doctor", "--profile", "test"]);
    let d = text(&doctor.stdout);
    assert!(d.contains("answers and holds"), "{d}");

    // An explicit refresh rotates through the keyring.
    let out = home.cli(&["refresh", "--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_ne!(item(&kr).unwrap()["refresh_token"], refresh.as_str());
    // logout removes the item and the cache.
    let out = home.cli(&["logout", "--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(item(&kr).is_none(), "logout removed the item");
    assert!(!cache.exists(), "logout removed the cache");
    figures(&format!(
        "keyring store: 32 concurrent token calls -> 1 refresh in {} ms; cached token with the keyring daemon stopped in {} ms; 0 files under the home hold a refresh token",
        wall.as_millis(),
        cached_wall.as_millis()
    ));
}

#[test]
fn a_locked_missing_or_silent_keyring_is_one_line_and_its_own_exit_code_in_time() {
    let Some(mut kr) = Keyring::start() else {
        return;
    };
    let home = keyring_home(&kr, 7200);
    let imported = home.import_aged("test", 0);
    let valid = home.token("test");
    let before = home.sim.counters();
    let mut rows = Vec::new();
    let mut attempt = |what: &str, code: i32, words: &str| {
        let start = Instant::now();
        let out = home.cli(&["refresh", "--profile", "test"]);
        let took = start.elapsed();
        let l = line(&out);
        assert_eq!(out.status.code(), Some(code), "{what}: {l}");
        assert!(
            l.starts_with("central-auth: ") && l.contains(words),
            "{what}: {l}"
        );
        // Within the 2 s deadline plus process start and one call, with room
        // for a loaded machine; without the deadline D-Bus waits 25 s.
        assert!(took < Duration::from_millis(6000), "{what}: {took:?}");
        rows.push(format!("{what} exit {code} in {} ms", took.as_millis()));
        // The cached token is still served: the cached path needs no keyring.
        let cached = home.cli(&["token", "--profile", "test"]);
        assert!(cached.status.success(), "{what}: {}", text(&cached.stderr));
        assert_eq!(text(&cached.stdout).trim(), valid);
    };
    // A daemon that keeps its bus name and never answers.
    kr.freeze(true);
    attempt("never answers", 9, "did not answer within 2s");
    kr.freeze(false);
    // Locked, as by a screen lock; this bus has no prompter to unlock it.
    kr.lock();
    attempt("locked", 7, "locked");
    // No daemon at all on the session bus.
    kr.stop_daemon();
    attempt("no daemon", 8, "no OS keyring answers");
    let after = home.sim.counters();
    assert_eq!(
        after.token_requests, before.token_requests,
        "nothing reached Central"
    );
    // The chain survived all three: a new daemon unlocks the same keyring.
    kr.start_daemon();
    assert_eq!(item(&kr).unwrap()["refresh_token"], imported.as_str());
    let out = home.cli(&["refresh", "--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(home.sim.access_token_valid(&home.token("test")));
    figures(&format!(
        "keyring failures (2 s deadline): {}",
        rows.join("; ")
    ));
}

#[test]
fn sigkill_during_a_keyring_refresh_never_hands_out_a_dead_token() {
    let Some(kr) = Keyring::start() else {
        return;
    };
    let home = keyring_home(&kr, 7200);
    let kills = 50;
    let (mut old_valid, mut new_saved, mut lost, mut served) = (0, 0, 0, 0);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    // One whole forced refresh, timed, sets the window the kills spread over.
    home.import_aged("test", 0);
    let start = Instant::now();
    assert!(home.cli(&["refresh", "--profile", "test"]).status.success());
    let window = start.elapsed().mul_f64(1.5);
    for i in 0..kills {
        let old_refresh = home.import_aged("test", 0);
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let mut kill_after =
            Duration::from_micros(2_000 + (seed >> 33) % window.as_micros().max(1) as u64);
        let rotations = home.sim.counters().refresh;
        let mut child = home
            .cmd("central-auth")
            .args(["refresh", "--profile", "test"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let spawned = Instant::now();
        if i % 2 == 1 {
            // Every other kill lands right after Central rotated the pair:
            // between the rotation and the keyring write, the window a
            // random time rarely hits.
            while home.sim.counters().refresh == rotations
                && spawned.elapsed() < Duration::from_secs(5)
            {
                std::hint::spin_loop();
            }
            kill_after = spawned.elapsed();
        } else {
            std::thread::sleep(kill_after);
        }
        let _ = child.kill();
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(30));
        let stored = item(&kr).expect("the item survives every kill");
        let stored_refresh = stored["refresh_token"].as_str().unwrap();
        if stored_refresh != old_refresh {
            new_saved += 1;
        } else if home.sim.refresh_token_valid(&old_refresh) {
            old_valid += 1;
        } else {
            lost += 1;
        }
        // The next caller never gets a dead token: a live one, or a clear
        // line saying to log in again.
        let out = home.cli(&["token", "--profile", "test"]);
        if out.status.success() {
            let t = text(&out.stdout);
            assert!(
                home.sim.access_token_valid(t.trim()),
                "a dead access token was handed out after a kill at {kill_after:?}"
            );
            served += 1;
        } else {
            assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        }
    }
    figures(&format!(
        "keyring crash safety: {kills} SIGKILLs during forced refreshes (half at 2 ms .. {} ms, half right after Central rotated): old pair kept {old_valid}, new pair saved {new_saved}, rotated but not saved {lost}; a live token served after {served}, no dead token handed out",
        window.as_millis()
    ));
    assert!(
        old_valid + new_saved >= 1 && new_saved + lost >= 1,
        "kills landed before and after the rotation"
    );
}

#[test]
fn migration_to_the_keyring_and_back_keeps_the_chain_without_a_refresh() {
    let Some(kr) = Keyring::start() else {
        return;
    };
    let home = TestHome::with_env(
        sim_with(7200),
        &[ProfileOpts::default()],
        &[("DBUS_SESSION_BUS_ADDRESS", kr.address.as_str())],
    );
    let download = home.import_download("test", 0);
    let access = home.token("test");
    let refresh = download["refresh_token"].as_str().unwrap().to_owned();
    let before = home.sim.counters();

    let out = home.cli(&["store", "migrate", "--profile", "test", "--to", "keyring"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(home.config().unwrap().contains("store = \"keyring\""));
    assert!(home.config().unwrap().contains("[stores.keyring]"));
    assert!(!home.record_path("test").exists(), "the file copy is gone");
    assert_eq!(item(&kr).unwrap()["refresh_token"], refresh.as_str());
    assert_eq!(home.token("test"), access);
    assert!(files_with(home.path(), &refresh).is_empty());
    // Again: refused, nothing changes.
    let again = home.cli(&["store", "migrate", "--profile", "test", "--to", "keyring"]);
    assert_eq!(again.status.code(), Some(2), "{}", line(&again));

    let out = home.cli(&["store", "migrate", "--profile", "test", "--to", "file"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!home.config().unwrap().contains("store = "));
    assert!(item(&kr).is_none(), "the keyring item is gone");
    assert_eq!(home.token("test"), access);
    let after = home.sim.counters();
    assert_eq!(
        after.token_requests, before.token_requests,
        "no token call while moving"
    );
    // The chain still rotates.
    let out = home.cli(&["refresh", "--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(home.sim.counters().refresh_rejected, 0);
    figures("keyring migration: file -> keyring -> file with 0 token calls; the chain refreshes afterwards");
}

#[test]
fn another_user_cannot_reach_the_keyring_item() {
    let Some(kr) = Keyring::start() else {
        return;
    };
    let Some(other) = other_user::OtherUser::get() else {
        return;
    };
    let home = keyring_home(&kr, 7200);
    home.import_aged("test", 0);
    // The other user on our session bus: the bus refuses a foreign uid.
    let out = other
        .command("secret-tool")
        .args(["lookup", "service", "central-auth", "username", "test"])
        .env("DBUS_SESSION_BUS_ADDRESS", &kr.address)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "secret-tool as uid {} read the item",
        other.uid
    );
    assert!(out.stdout.is_empty());
    // Its own central-auth, with a keyring profile of the same name and our
    // bus address: the bus refuses the connection, so it is "no keyring
    // answers" (exit 8), not an empty item, and nothing is printed.
    let exe = other.home().join("central-auth");
    std::fs::copy(bin("central-auth"), &exe).unwrap();
    let config = other.home().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.test]\nbase_url = \"{}\"\nclient_id = \"x\"\nclient_secret_env = \"X\"\nstore = \"keyring\"\n{STORE}",
            home.sim.url()
        ),
    )
    .unwrap();
    std::os::unix::fs::chown(&config, Some(other.uid), Some(other.gid)).unwrap();
    let out = other
        .command(&exe)
        .args(["token", "--profile", "test"])
        .env("DBUS_SESSION_BUS_ADDRESS", &kr.address)
        .env("CENTRAL_AUTH_HOME", other.home())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(line(&out).contains("no OS keyring answers"));
    figures(&format!(
        "keyring isolation: uid {} gets nothing from our session bus (secret-tool and central-auth refused)",
        other.uid
    ));
}

/// `central-auth secret set` with `stdin` piped in.
fn secret_set(home: &TestHome, name: &str, value: &str) -> Output {
    let mut child = home
        .cmd("central-auth")
        .args(["secret", "set", "--profile", "test", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{value}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn secrets_from_the_keyring_are_used_and_set_without_echo() {
    let Some(kr) = Keyring::start() else {
        return;
    };
    let home = TestHome::with_env(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
        &[("DBUS_SESSION_BUS_ADDRESS", kr.address.as_str())],
    );
    let cfg = central_sim::SimConfig::default();
    // A wrong client secret first: Central rejects it, exit 4.
    let out = secret_set(&home, "client_secret", "not-the-secret");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("not-the-secret"));
    let config = home.config().unwrap();
    assert!(
        config.contains("client_secret_keyring = { account = \"test/client_secret\" }"),
        "{config}"
    );
    assert!(!config.contains("client_secret_env"), "{config}");
    assert_eq!(
        kr.lookup("central-auth", "test/client_secret").as_deref(),
        Some("not-the-secret")
    );
    let login = home.cli(&["login", "--profile", "test"]);
    assert_eq!(login.status.code(), Some(4), "{}", text(&login.stderr));
    // The right one, and the password too: login reads both from the keyring.
    assert!(secret_set(&home, "client_secret", &cfg.client_secret)
        .status
        .success());
    assert!(secret_set(&home, "password", &cfg.password)
        .status
        .success());
    let config = home.config().unwrap();
    assert!(
        config.contains("password_keyring = { account = \"test/password\" }"),
        "{config}"
    );
    assert!(!config.contains("password_env"), "{config}");
    let login = home.cli(&["login", "--profile", "test"]);
    assert!(login.status.success(), "{}", text(&login.stderr));
    // Neither secret is in any file under the home.
    for s in [&cfg.client_secret, &cfg.password] {
        assert!(
            files_with(home.path(), s).is_empty(),
            "a secret reached a file"
        );
    }
    // Empty input changes nothing.
    let before = home.config().unwrap();
    let out = secret_set(&home, "client_secret", "");
    assert_eq!(out.status.code(), Some(2));
    assert!(line(&out).contains("nothing was changed"));
    assert_eq!(home.config().unwrap(), before);
    figures("keyring secrets: client_secret and password set from stdin, login reads both from the keyring, a wrong one is exit 4, 0 files hold either");
}
