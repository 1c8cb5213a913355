//! Another local user can reach loopback TCP and, once modes are loosened,
//! the socket file, but never the owner's token: over TCP the kernel's
//! socket table names its uid, over the Unix socket first the file mode keeps
//! it out and then `SO_PEERCRED` does. GET and DELETE, as curl and as raw
//! bytes, never reach the simulator (its request counter stays put), and the
//! owner is still served.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use central_auth_e2e::other_user::{reachable_tempdir, OtherUser};
use central_auth_e2e::raw_http::{self, Target};
use central_auth_e2e::*;

use super::{curl, figures, get_raw, raw, reached, refused_start, Proxy};

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The 403 of the owner check, as a client reads it.
fn assert_refused_as_another_user(what: &str, status: Option<u16>, body: &str) {
    assert_eq!(status, Some(403), "{what}: {body}");
    let v: serde_json::Value = serde_json::from_str(body.trim())
        .unwrap_or_else(|e| panic!("{what}: one JSON line expected ({e}): {body:?}"));
    assert_eq!(v["refused"], "another-user", "{what}: {body}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("serves only the user who started it"),
        "{what}: {body}"
    );
}

#[test]
fn another_user_over_tcp_never_reaches_central() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let Some(curl_bin) = require_tool("curl", &[PathBuf::from("/usr/bin/curl")]) else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let before = reached(&home);
    for method in ["GET", "DELETE"] {
        let out = other
            .command(&curl_bin)
            .args(["-sS", "-w", "\n%{http_code}", "-X", method])
            .arg(format!("{}/configuration/v2/groups", proxy.url))
            .output()
            .unwrap();
        let stdout = text(&out.stdout);
        let (body, code) = stdout.rsplit_once('\n').unwrap();
        assert_refused_as_another_user(
            &format!("curl -X {method} as {}", other.name()),
            code.parse().ok(),
            body,
        );
        let raw_request = format!(
            "{method} /configuration/v2/groups HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            proxy.addr()
        );
        let reply = other
            .raw_http(&proxy.target, raw_request.as_bytes())
            .unwrap();
        assert_refused_as_another_user(
            &format!("raw {method} as {}", other.name()),
            reply.status,
            &reply.body,
        );
    }
    // A request with a body: refused before any of it is read.
    let post = format!(
        "POST /configuration/v2/groups HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{{\"a\":1}}",
        proxy.addr()
    );
    let reply = other.raw_http(&proxy.target, post.as_bytes()).unwrap();
    assert_refused_as_another_user("raw POST", reply.status, &reply.body);
    assert_eq!(
        reached(&home),
        before,
        "no request of the other user reached the simulator"
    );
    // The owner is served meanwhile.
    let (code, body) = curl(&format!("{}/configuration/v2/groups", proxy.url), &[]);
    assert_eq!(code, 200, "{body}");
    assert_eq!(reached(&home), before + 1);
    let out = proxy.stop();
    let log = text(&out.stderr);
    assert_eq!(
        log.matches("(another-user: ").count(),
        5,
        "one -v line per refused connection: {log}"
    );
    assert!(
        log.contains(&format!("the connection came from uid {}", other.uid)),
        "{log}"
    );
    assert!(
        !log.contains("DELETE"),
        "a refused connection's request is never read: {log}"
    );
    figures(&format!(
        "another user (uid {}) over TCP: curl GET and DELETE, raw GET, DELETE and POST: 5 x 403, 0 reached the simulator; the owner's request 200",
        other.uid
    ));
}

#[test]
fn another_user_is_kept_out_of_the_unix_socket_by_its_mode_then_by_peer_credentials() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 0);
    let base = reachable_tempdir();
    let dir = base.path().join("run");
    std::fs::create_dir(&dir).unwrap();
    chmod(&dir, 0o755);
    let sock = dir.join("proxy.sock");
    let proxy = Proxy::start_unix(&home, &sock, &[]);
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the socket is born 0600");
    let before = reached(&home);
    let target = Target::Unix(sock.clone());
    let get = raw_http::get("/configuration/v2/groups", "localhost");
    let delete =
        b"DELETE /configuration/v2/groups HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

    // 1. The file mode: its connect is refused by the kernel.
    for req in [&get[..], &delete[..]] {
        let theirs = other.raw_http(&target, req).unwrap();
        assert!(!theirs.connected, "{theirs:?}");
        assert_eq!(theirs.errno, Some(13), "EACCES: {theirs:?}");
    }

    // 2. Loosen the socket and its directory: now it connects, and the
    //    peer credentials refuse it.
    chmod(&sock, 0o777);
    chmod(&dir, 0o777);
    for req in [&get[..], &delete[..]] {
        let theirs = other.raw_http(&target, req).unwrap();
        assert!(theirs.connected, "{theirs:?}");
        assert_refused_as_another_user("over the loosened socket", theirs.status, &theirs.body);
    }
    assert_eq!(reached(&home), before, "nothing reached the simulator");

    // The owner, with curl's --unix-socket, is served.
    let (code, body) = curl(
        "http://localhost/configuration/v2/groups",
        &["--unix-socket", sock.to_str().unwrap()],
    );
    assert_eq!(code, 200, "{body}");
    let (code, answer) = raw(&proxy.target, &get_raw(&proxy, "/monitoring/v1/aps"));
    assert_eq!(code, 200, "{answer}");
    assert_eq!(reached(&home), before + 2);
    let out = proxy.stop();
    assert!(out.status.success());
    assert!(!sock.exists(), "the socket file is removed on exit");
    assert_eq!(text(&out.stderr).matches("(another-user: ").count(), 2);
    figures(&format!(
        "another user (uid {}) on the Unix socket: 2 x EACCES at mode 0600, then 2 x 403 by SO_PEERCRED after chmod 777; 0 reached the simulator; the owner's curl --unix-socket 200",
        other.uid
    ));
}

#[test]
fn the_socket_directory_must_be_private_and_a_live_socket_is_never_taken_over() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let base = reachable_tempdir();
    let open = base.path().join("open");
    std::fs::create_dir(&open).unwrap();
    chmod(&open, 0o777);
    let sock = open.join("proxy.sock");
    let out = refused_start(&home, &["proxy", "--unix-socket", sock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("chmod go-w {}", open.display())),
        "{err}"
    );
    assert!(!sock.exists(), "nothing was created");

    let private = base.path().join("private");
    std::fs::create_dir(&private).unwrap();
    chmod(&private, 0o700);
    let sock = private.join("proxy.sock");
    let proxy = Proxy::start_unix(&home, &sock, &[]);
    let out = refused_start(&home, &["proxy", "--unix-socket", sock.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!("another proxy serves {}", sock.display())),
        "{}",
        text(&out.stderr)
    );
    // The refused start left the live proxy and its socket alone.
    let (code, _) = raw(&proxy.target, &get_raw(&proxy, "/monitoring/v1/aps"));
    assert_eq!(code, 200, "the first proxy still serves its socket");
    // A proxy killed without cleaning up leaves a stale socket: replaced.
    let mut proxy = proxy;
    let mut child = proxy.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(sock.exists(), "SIGKILL left the file");
    let proxy = Proxy::start_unix(&home, &sock, &[]);
    let (code, _) = raw(&proxy.target, &get_raw(&proxy, "/monitoring/v1/aps"));
    assert_eq!(code, 200);
    drop(proxy);
}
