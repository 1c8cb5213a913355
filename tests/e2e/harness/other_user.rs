//! Another local user (`OtherUser`): a different uid with a clean environment,
//! kept out of our 0600 files and private sockets, and able to reach loopback
//! TCP and the simulator (the threat the proxy must answer).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use central_auth_e2e::other_user::{current_uid, reachable_tempdir, OtherUser};
use central_auth_e2e::raw_http::{self, Target};
use central_auth_e2e::recorder::{Recorder, RecorderOpts};
use central_auth_e2e::*;

use super::{figures, sim_addr};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn other_user_is_another_uid_with_a_clean_environment() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let run = |program: &str, args: &[&str]| {
        let out = other.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} as {}: {}",
            other.name(),
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    let uid: u32 = run("/usr/bin/id", &["-u"]).trim().parse().unwrap();
    assert_eq!(uid, other.uid);
    assert_ne!(uid, current_uid(), "another user, not us");
    assert_ne!(uid, 0, "not root");
    // No supplementary group of ours (root's) is kept.
    assert_eq!(run("/usr/bin/id", &["-G"]).trim(), other.gid.to_string());
    assert_eq!(run("/usr/bin/id", &["-un"]).trim(), other.name());

    // A clean environment: none of the owner's CENTRAL_AUTH_* (cargo xtask
    // test sets several), HOME is its own, and it can write there.
    let env = run("/usr/bin/env", &[]);
    let ours: Vec<String> = std::env::vars()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("CENTRAL_AUTH_") || k.starts_with("E2E_"))
        .collect();
    for line in env.lines() {
        assert!(
            !line.starts_with("CENTRAL_AUTH_") && !line.starts_with("E2E_"),
            "the owner's variable leaked: {line}"
        );
    }
    assert!(
        env.lines()
            .any(|l| l == format!("HOME={}", other.home().display())),
        "{env}"
    );
    run("/usr/bin/touch", &["written-by-the-other-user"]);
    assert!(other.home().join("written-by-the-other-user").is_file());

    // It cannot read a 0600 file of ours, even in a directory it can enter.
    let dir = reachable_tempdir();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "owner only\n").unwrap();
    chmod(&secret, 0o600);
    let out = other.command("/usr/bin/cat").arg(&secret).output().unwrap();
    assert!(!out.status.success(), "read a 0600 file of ours");
    assert!(
        text(&out.stderr).contains("Permission denied"),
        "{}",
        text(&out.stderr)
    );
    // The control: the same file at 0644 is readable, so the refusal above was
    // the file's mode, not a broken harness.
    chmod(&secret, 0o644);
    assert_eq!(
        run("/usr/bin/cat", &[secret.to_str().unwrap()]),
        "owner only\n"
    );
    figures(&format!(
        "other user: {} uid {} gid {} (we are uid {}); {} CENTRAL_AUTH_*/E2E_* variables of ours kept out of its environment",
        other.name(),
        other.uid,
        other.gid,
        current_uid(),
        ours.len()
    ));
}

#[test]
fn other_user_reaches_loopback_tcp_and_the_simulator() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let Some(curl) = require_tool("curl", &[PathBuf::from("/usr/bin/curl")]) else {
        return;
    };
    // A loopback listener of ours: the other user connects and is answered.
    let rec = Recorder::start();
    let reply = other
        .raw_http(
            &Target::Tcp(rec.addr()),
            &raw_http::get("/from-the-other-user", "127.0.0.1"),
        )
        .unwrap();
    assert_eq!(reply.status, Some(200), "{reply:?}");
    let seen = rec.matching("/from-the-other-user");
    assert_eq!(seen.len(), 1, "{:?}", rec.requests());
    assert_eq!(seen[0].header("user-agent"), Some("e2e-raw"));

    // And it can use central-sim: curl GET and a raw DELETE both arrive (401:
    // it has no token; behind the proxy it would have the owner's).
    let sim = sim_with(7200);
    let out = other
        .command(&curl)
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("{}/configuration/v2/groups", sim.url()))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "401", "{}", text(&out.stderr));
    let delete =
        b"DELETE /configuration/v2/groups HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let reply = other
        .raw_http(&Target::Tcp(sim_addr(&sim)), delete)
        .unwrap();
    assert_eq!(reply.status, Some(401), "{reply:?}");
    let c = sim.counters();
    assert_eq!(
        c.api_unauthorized, 2,
        "both requests of the other user reached the simulator: {c:?}"
    );
}

#[test]
fn other_user_cannot_connect_to_a_socket_in_a_private_directory() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let base = reachable_tempdir();
    let req = raw_http::get("/over-the-socket", "localhost");

    // 1. A socket (any mode) inside a 0700 directory of ours.
    let private = base.path().join("private");
    std::fs::create_dir(&private).unwrap();
    chmod(&private, 0o700);
    let sock = private.join("proxy.sock");
    let rec = Recorder::unix(&sock, RecorderOpts::default());
    chmod(&sock, 0o777);
    let theirs = other.raw_http(&Target::Unix(sock.clone()), &req).unwrap();
    assert!(!theirs.connected, "{theirs:?}");
    assert_eq!(theirs.errno, Some(13), "EACCES: {theirs:?}");
    // We, the owner, can.
    let ours = raw_http::send(&Target::Unix(sock.clone()), &req).unwrap();
    assert_eq!(ours.status, Some(200), "{ours:?}");
    assert_eq!(rec.count(), 1, "only the owner's request arrived");

    // 2. A 0600 socket in a directory the other user can enter.
    let open_dir = base.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    chmod(&open_dir, 0o755);
    let sock = open_dir.join("proxy.sock");
    let rec = Recorder::unix(&sock, RecorderOpts::default());
    chmod(&sock, 0o600);
    let theirs = other.raw_http(&Target::Unix(sock.clone()), &req).unwrap();
    assert_eq!(theirs.errno, Some(13), "EACCES: {theirs:?}");
    assert_eq!(rec.count(), 0);

    // The control: the same socket at 0666 admits it, so the refusals above
    // were the modes, not a broken harness.
    chmod(&sock, 0o666);
    let theirs = other.raw_http(&Target::Unix(sock.clone()), &req).unwrap();
    assert_eq!(theirs.status, Some(200), "{theirs:?}");
    assert_eq!(rec.count(), 1);
}
