//! `central-auth proxy --exec -- CMD`: the child sees the proxy's URL (and
//! no token), the proxy listens before the child starts and is gone when it
//! exits, the child's exit status passes through (also a non-zero one and a
//! signal's), SIGTERM to the proxy reaches the child, and `status` shows the
//! proxy while it serves.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use central_auth_e2e::*;

use super::figures;

/// What the child prints about its environment, then its curl's status.
const CHILD: &str = r#"echo "base=$CENTRAL_BASE_URL tf=$TF_VAR_central_base_url aruba=$ARUBA_CENTRAL_BASE_URL socket=${CENTRAL_AUTH_PROXY_SOCKET-unset} token=${CENTRAL_ACCESS_TOKEN-unset} secret=${E2E_CLIENT_SECRET-unset}"
if [ -n "$CENTRAL_AUTH_PROXY_SOCKET" ]; then
  curl -sS -o /dev/null -w "%{http_code}\n" --unix-socket "$CENTRAL_AUTH_PROXY_SOCKET" "$CENTRAL_BASE_URL/monitoring/v1/aps"
else
  curl -sS -o /dev/null -w "%{http_code}\n" "$CENTRAL_BASE_URL/monitoring/v1/aps"
fi
exit "$1""#;

fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} in {line:?}"))
}

#[test]
fn the_child_gets_the_url_and_its_exit_status_passes_through() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let before = home.sim.counters().requests;
    let out = home
        .cmd("central-auth")
        .args(["proxy", "--exec", "--", "sh", "-c", CHILD, "child", "3"])
        .env("CENTRAL_ACCESS_TOKEN", "an-outer-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "no `listening on` line mixed into the child's output: {stdout}"
    );
    let base = field(lines[0], "base");
    assert!(base.starts_with("http://127.0.0.1:"), "{stdout}");
    assert_ne!(base, "http://127.0.0.1:8470", "a fresh port");
    assert_eq!(field(lines[0], "tf"), base);
    assert_eq!(field(lines[0], "aruba"), base);
    assert_eq!(field(lines[0], "socket"), "unset");
    assert_eq!(field(lines[0], "token"), "unset", "no token for the child");
    assert_eq!(
        field(lines[0], "secret"),
        "unset",
        "no client secret either"
    );
    assert_eq!(
        lines[1], "200",
        "the proxy listened before the child started"
    );
    assert_eq!(home.sim.counters().requests, before + 1);
    // The proxy is gone with the child: nothing listens there any more.
    let addr = base.trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "{addr} still open"
    );
    // Exit 0 passes through too.
    let out = home
        .cmd("central-auth")
        .args(["proxy", "--exec", "--", "sh", "-c", CHILD, "child", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // A command that cannot run: 127, as shells say.
    let out = home
        .cmd("central-auth")
        .args(["proxy", "--exec", "--", "/nonexistent/program"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(text(&out.stderr).contains("cannot run /nonexistent/program"));
    // --exec without a command is a usage error.
    let out = home.cli(&["proxy", "--exec"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn on_the_unix_socket_the_child_gets_the_socket_path() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = dir.path().join("p.sock");
    let out = home
        .cmd("central-auth")
        .args([
            "proxy",
            "--unix-socket",
            sock.to_str().unwrap(),
            "--exec",
            "--",
        ])
        .args(["sh", "-c", CHILD, "child", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(field(lines[0], "socket"), sock.to_str().unwrap());
    assert_eq!(field(lines[0], "base"), "http://localhost");
    assert_eq!(lines[1], "200", "{stdout}");
    assert!(!sock.exists(), "the socket file is gone with the child");
}

#[test]
fn signals_reach_the_child_and_the_proxy_waits_for_it() {
    let home = TestHome::new();
    home.import_download("test", 0);
    // The child traps SIGTERM, still uses the proxy while it cleans up, then
    // exits 7; `status` shows the proxy meanwhile.
    let script = r#"trap 'curl -sS -o /dev/null -w "cleanup %{http_code}\n" "$CENTRAL_BASE_URL/monitoring/v1/aps"; exit 7' TERM
echo "ready $CENTRAL_BASE_URL"
while :; do sleep 0.1; done"#;
    let mut child = home
        .cmd("central-auth")
        .args(["proxy", "--exec", "--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("ready ").unwrap().to_owned();
    let status = home.cli(&["status", "--profile", "test", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["proxies"][0]["url"], url.as_str(), "{v}");
    assert_eq!(v["proxies"][0]["pid"], child.id(), "{v}");
    let text_status = text(&home.cli(&["status", "--profile", "test"]).stdout);
    assert!(
        text_status.contains(&format!("proxy          serving {url} (pid {}", child.id())),
        "{text_status}"
    );
    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(7), "the child's code");
    assert_eq!(
        rest.trim(),
        "cleanup 200",
        "the proxy served the child's cleanup"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&home.cli(&["status", "--profile", "test", "--json"]).stdout)
            .unwrap();
    assert_eq!(
        v["proxies"],
        serde_json::json!([]),
        "the record is gone: {v}"
    );

    // A child killed by a signal: 128 + N.
    let out = home
        .cmd("central-auth")
        .args(["proxy", "--exec", "--", "sh", "-c", "kill -KILL $$"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128 + 9));
    figures(&format!(
        "proxy --exec: SIGTERM passed to the child, its cleanup request answered 200, exit 7 passed through in {} ms; a SIGKILLed child gives 137",
        started.elapsed().as_millis()
    ));
}
