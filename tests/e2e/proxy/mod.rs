//! `central-auth proxy`: curl through it with no credentials, recovery from a
//! token Central killed (one refresh, one retry), the 7 calls/s budget under 8
//! concurrent clients, clean SIGTERM, the quota in `status`, and a secret scan of
//! its `-v` output and every file it writes. The submodules show who can use it
//! (only its owner, on every transport), what it refuses (web pages, ambiguous
//! requests, a client's own `access_token`), that slow clients never starve the
//! owner, keep-alive, the real clients and `--exec`.

mod browser;
mod clients;
mod exec;
mod keepalive;
mod other_user;
mod smuggling;
mod starvation;
mod tokens;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::raw_http::Target;
use central_auth_e2e::*;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// A running proxy and where it listens.
struct Proxy {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` on TCP, `http://localhost` on a socket.
    url: String,
    /// Where to connect.
    target: Target,
    /// stderr is drained while the proxy runs, so `-v` lines never block it.
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Proxy {
    /// `central-auth -v proxy` on a free loopback port, plus `extra`.
    fn start(home: &TestHome, extra: &[&str]) -> Proxy {
        let mut args = vec![
            "-v",
            "proxy",
            "--profile",
            "test",
            "--listen",
            "127.0.0.1:0",
        ];
        args.extend_from_slice(extra);
        Proxy::spawn(home, &args)
    }

    /// `central-auth -v proxy` on the Unix socket `path`, plus `extra`.
    fn start_unix(home: &TestHome, path: &Path, extra: &[&str]) -> Proxy {
        let path = path.to_str().unwrap();
        let mut args = vec!["-v", "proxy", "--profile", "test", "--unix-socket", path];
        args.extend_from_slice(extra);
        Proxy::spawn(home, &args)
    }

    /// `central-auth ARGS` (a proxy), once it said where it listens.
    fn spawn(home: &TestHome, args: &[&str]) -> Proxy {
        let mut child = home
            .cmd("central-auth")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let place = first
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line {first:?}"))
            .to_owned();
        let (url, target) = match place.strip_prefix("unix:") {
            Some(path) => (
                "http://localhost".to_owned(),
                Target::Unix(PathBuf::from(path)),
            ),
            None => {
                assert!(place.starts_with("http://127.0.0.1:"), "{place}");
                let addr: SocketAddr = place.trim_start_matches("http://").parse().unwrap();
                (place.clone(), Target::Tcp(addr))
            }
        };
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = err.read_to_end(&mut buf);
            buf
        });
        Proxy {
            child: Some(child),
            url,
            target,
            stderr: Some(stderr),
        }
    }

    /// The TCP address (panics on a socket).
    fn addr(&self) -> SocketAddr {
        match &self.target {
            Target::Tcp(a) => *a,
            Target::Unix(p) => panic!("the proxy listens on {}", p.display()),
        }
    }

    /// SIGTERM, then the exit status and output.
    fn stop(mut self) -> Output {
        let child = self.child.take().unwrap();
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut out = child.wait_with_output().unwrap();
        out.stderr = self.stderr.take().unwrap().join().unwrap();
        out
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Sends `raw` on a new connection (as this test's user) and reads one
/// answer: the status (0 when none came) and the whole answer as text.
fn raw(target: &Target, raw: &[u8]) -> (u16, String) {
    let mut conn = central_auth_e2e::slow_clients::Conn::open(target);
    conn.write_all(raw).unwrap();
    Answers::new(conn).next()
}

/// The answers arriving on one connection, in order (pipelining keeps the
/// bytes of the next ones).
struct Answers<R> {
    conn: R,
    buf: Vec<u8>,
}

impl<R: Read + Write> Answers<R> {
    fn new(conn: R) -> Answers<R> {
        Answers {
            conn,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.conn.write_all(bytes).unwrap();
    }

    /// The next answer: head, then its `Content-Length` body (or all until
    /// EOF); `(0, "")` when the connection closed first.
    fn next(&mut self) -> (u16, String) {
        let mut chunk = [0u8; 8192];
        let started = Instant::now();
        let end = loop {
            if let Some(end) = self.complete() {
                break end;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no answer");
            match self.conn.read(&mut chunk) {
                Ok(0) | Err(_) => break self.buf.len(),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        };
        let answer: Vec<u8> = self.buf.drain(..end).collect();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    /// The length of the first answer in `buf`, when it is all there.
    fn complete(&self) -> Option<usize> {
        let end = self.buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
        let len = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(Some(0), |v| v.trim().parse::<usize>().ok())?;
        (self.buf.len() >= end + len).then_some(end + len)
    }
}

/// `GET path` with the proxy's own `Host`, closing the connection.
fn get_raw(proxy: &Proxy, path: &str) -> Vec<u8> {
    let host = match &proxy.target {
        Target::Tcp(a) => a.to_string(),
        Target::Unix(_) => "localhost".to_owned(),
    };
    raw_http::get(path, &host)
}

/// `central-auth ARGS` that must refuse to start: its output, or a failure
/// (after killing it) when it is still running after 20 s, i.e. serving.
fn refused_start(home: &TestHome, args: &[&str]) -> Output {
    let mut child = home
        .cmd("central-auth")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("central-auth {args:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Every request the simulator answered outside `/_sim/`.
fn reached(home: &TestHome) -> u64 {
    home.sim.counters().requests
}

fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let curl = require_tool("curl", &on_path("curl")).expect("curl");
    let out = Command::new(curl)
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}", "--max-time", "60"])
        .args(args)
        .arg(url)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let (body, code) = stdout.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_owned())
}

/// Secrets the proxy must never show: every token the simulator issued to this
/// home, the client secret and the password.
fn secrets(home: &TestHome, seen: &[String]) -> Vec<String> {
    let cfg = SimConfig::default();
    let mut s = vec![cfg.client_secret.clone(), cfg.password.clone()];
    s.extend(seen.iter().cloned());
    if let Ok(bytes) = std::fs::read(home.record_path("test")) {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for key in ["access_token", "refresh_token"] {
            if let Some(t) = v[key].as_str() {
                s.push(t.to_owned());
            }
        }
    }
    s.extend(home.sim.issued_login_secrets());
    s.retain(|x| x.len() >= 6);
    s
}

/// Scans the proxy's streams and every file in the home except the token record.
fn assert_clean(home: &TestHome, out: &Output, seen: &[String]) -> usize {
    let secrets = secrets(home, seen);
    let mut findings = Vec::new();
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        for s in &secrets {
            if text(bytes).contains(s.as_str()) {
                findings.push(format!("proxy {stream} shows a secret"));
            }
        }
    }
    let record = home.record_path("test");
    let mut files = 0;
    for (path, bytes) in tree(home.path()) {
        if path == record {
            continue;
        }
        files += 1;
        let content = String::from_utf8_lossy(&bytes);
        for s in &secrets {
            if content.contains(s.as_str()) {
                findings.push(format!("file {} holds a secret", path.display()));
            }
        }
    }
    assert!(findings.is_empty(), "{findings:?}");
    files
}

#[test]
fn curl_needs_no_credentials_and_a_killed_token_costs_one_refresh() {
    let home = TestHome::new();
    let download = home.import_download("test", 0);
    let old = download["access_token"].as_str().unwrap().to_owned();
    let proxy = Proxy::start(&home, &[]);

    // No credentials at all, then a bogus one: both replaced by the broker's token.
    let (code, body) = curl(&format!("{}/monitoring/v1/aps", proxy.url), &[]);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("ap-hq-lobby"), "{body}");
    // HEAD: the status and the body length Central gives, and no body (the
    // simulator answers HEAD like Kong's upstreams do for an unknown method).
    let length = |head: &str| {
        head.to_ascii_lowercase().lines().find_map(|l| {
            l.strip_prefix("content-length: ")
                .map(|v| v.trim().to_owned())
        })
    };
    let bearer = format!("Authorization: Bearer {}", home.token("test"));
    let (direct_code, direct) = curl(
        &format!("{}/monitoring/v1/aps", home.sim.url()),
        &["-I", "-H", &bearer],
    );
    let (code, head) = curl(&format!("{}/monitoring/v1/aps", proxy.url), &["-I"]);
    assert_eq!(code, direct_code, "{head}");
    assert!(length(&direct).is_some_and(|l| l != "0"), "{direct}");
    assert_eq!(length(&head), length(&direct), "{head}");
    let (code, _) = curl(
        &format!("{}/configuration/v2/groups", proxy.url),
        &["-H", "Authorization: Bearer not-a-token"],
    );
    assert_eq!(code, 200);
    // A client's own access_token would win over the header at Kong: refused.
    let (code, body) = curl(
        &format!("{}/configuration/v2/groups?access_token=stale", proxy.url),
        &[],
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains(r#""refused":"access-token""#), "{body}");
    // Methods and bodies reach Central (the simulator's APIs answer 405 to POST
    // after checking the token).
    let (code, body) = curl(
        &format!("{}/configuration/v2/groups", proxy.url),
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            "{\"a\":1}",
        ],
    );
    assert_eq!(
        (code, body.as_str()),
        (405, r#"{"message":"Method not allowed"}"#)
    );
    let (code, _) = curl(
        &format!("{}/configuration/v2/groups", proxy.url),
        &["-X", "POST"],
    );
    assert_eq!(code, 405);
    let before = home.sim.counters();
    assert_eq!(
        (
            before.refresh,
            before.login,
            before.api_ok,
            before.api_unauthorized
        ),
        (0, 0, 2, 0)
    );

    // Central kills the access token: one request, one 401, one refresh, one retry.
    home.sim.expire_access_tokens();
    let started = Instant::now();
    let (code, body) = curl(&format!("{}/auditlogs/v1/events", proxy.url), &[]);
    let recovery_ms = started.elapsed().as_millis();
    assert_eq!(code, 200, "{body}");
    let c = home.sim.counters();
    assert_eq!(
        (
            c.refresh,
            c.refresh_rejected,
            c.login,
            c.api_unauthorized,
            c.api_ok
        ),
        (1, 0, 0, 1, 3),
        "exactly one refresh, no rejected refresh, no login; the retry succeeded"
    );
    let new = home.token("test");
    assert_ne!(new, old);
    assert!(home.sim.access_token_valid(&new));

    // The proxy's answers carry Central's rate-limit headers.
    let curl_bin = require_tool("curl", &on_path("curl")).unwrap();
    let headers = Command::new(curl_bin)
        .args(["-sS", "-D", "-", "-o", "/dev/null"])
        .arg(format!("{}/monitoring/v1/aps", proxy.url))
        .output()
        .unwrap();
    let headers = text(&headers.stdout).to_ascii_lowercase();
    assert!(headers.contains("x-ratelimit-remaining-day:"), "{headers}");

    let out = proxy.stop();
    assert!(out.status.success(), "SIGTERM exit: {:?}", out.status);
    let log = text(&out.stderr);
    assert_eq!(log.matches("proxy: GET ").count(), 4, "{log}");
    assert_eq!(log.matches("proxy: POST ").count(), 2, "{log}");
    assert!(log.contains("retried with the refreshed token"), "{log}");
    assert!(
        log.contains(
            "refused a request -> 400 (access-token: an access_token parameter in the query"
        ),
        "{log}"
    );
    assert!(
        !log.contains("stale"),
        "the refused target is not logged: {log}"
    );

    // `status` shows the quota the proxy saw.
    let status = home.cli(&["status", "--profile", "test"]);
    let status_text = text(&status.stdout);
    assert!(status_text.contains("calls left today"), "{status_text}");
    let json = home.cli(&["status", "--profile", "test", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let remaining = v["api_quota"]["remaining_day"].as_u64().unwrap();
    assert!(remaining < v["api_quota"]["limit_day"].as_u64().unwrap());
    // RFC 3339, as docs/json.md promises for every timestamp.
    let seen_at = v["api_quota"]["seen_at"]
        .as_str()
        .expect("seen_at is a string");
    time::OffsetDateTime::parse(seen_at, &time::format_description::well_known::Rfc3339)
        .expect("seen_at is RFC 3339");

    let files = assert_clean(&home, &out, &[old, new]);
    figures(&format!(
        "proxy recovery: 1 refresh, 0 rejected, 0 logins, 1 retry; recovering request took {recovery_ms} ms; {files} files and the -v log scanned clean"
    ));
}

/// One raw HTTP/1.1 GET; the status, or 0 when the connection failed.
fn get(addr: &str, path: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn eight_clients_at_twenty_per_second_never_push_central_past_seven() {
    let sim = Sim::start(SimConfig {
        access_ttl: Duration::from_secs(7200),
        rate_limit_second: 7,
        rate_limit_day: 1_000_000,
        ..SimConfig::default()
    })
    .unwrap();
    let home = TestHome::with(sim, &[ProfileOpts::default()]);
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let addr = proxy.addr().to_string();
    let started = Instant::now();
    // Open loop: each client starts a request every 50 ms whether or not the
    // previous one has been answered (20 req/s each, 160 req/s offered).
    let codes: Vec<u16> = std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for i in 0..100u32 {
            let due = started + Duration::from_millis(50) * i;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            for _client in 0..8 {
                let addr = addr.as_str();
                handles.push(scope.spawn(move || get(addr, "/monitoring/v1/aps")));
            }
        }
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = started.elapsed().as_secs_f64();
    let ok = codes.iter().filter(|c| **c == 200).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    let failed: Vec<_> = codes.iter().filter(|c| **c >= 500 || **c == 0).collect();
    let c = home.sim.counters();
    let out = proxy.stop();
    assert!(out.status.success());
    assert!(failed.is_empty(), "5xx or broken connections: {failed:?}");
    assert_eq!(
        c.rate_limited, 0,
        "the simulator (7/s per wall-clock second) refused {} calls",
        c.rate_limited
    );
    assert_eq!(ok as u64, c.api_ok, "every 200 came from Central");
    assert_eq!(ok + limited, codes.len(), "only 200 or 429");
    assert!(ok >= 20, "the budget still lets calls through: {ok}");
    assert_clean(&home, &out, &[]);
    figures(&format!(
        "proxy rate budget: {} requests from 8 clients at 20 req/s each, done in {secs:.1} s; {ok} forwarded in bursts of at most 7 per 1.1 s, {limited} answered 429 by the proxy, 0 5xx; simulator refused 0 (limit 7/s)",
        codes.len(),
    ));
}

#[test]
fn refuses_a_non_loopback_listen_address() {
    let home = TestHome::new();
    let out = refused_start(
        &home,
        &["proxy", "--profile", "test", "--listen", "0.0.0.0:0"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a loopback address"), "{err}");
    // `localhost` is loopback: accepted, as 127.0.0.1 (no resolver asked).
    let proxy = Proxy::spawn(
        &home,
        &["proxy", "--profile", "test", "--listen", "localhost:0"],
    );
    assert!(proxy.url.starts_with("http://127.0.0.1:"), "{}", proxy.url);
    assert!(proxy.stop().status.success());
}

/// docs/proxy.md's opening example, run as written with the test's profile and a
/// free port: the proxy says where it listens, and curl with no credentials gets
/// Central's answer.
#[test]
fn the_example_of_docs_proxy_md_runs() {
    let page = std::fs::read_to_string(workspace().join("docs/proxy.md")).unwrap();
    let block = page
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/proxy.md opens with a sh block");
    let lines: Vec<&str> = block.lines().collect();
    let start: Vec<&str> = lines[0]
        .strip_suffix(" &")
        .expect("the proxy runs in the background")
        .split_whitespace()
        .collect();
    assert_eq!(start[..2], ["central-auth", "proxy"], "{block}");
    let doc_listen = start[start.iter().position(|a| *a == "--listen").unwrap() + 1];
    assert_eq!(lines[1], format!("# listening on http://{doc_listen}"));
    let curl_line: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(curl_line.len(), 2, "curl URL: {block}");
    let path = curl_line[1]
        .strip_prefix(&format!("http://{doc_listen}"))
        .expect("curl asks the proxy");

    let home = TestHome::new();
    home.import_download("test", 0);
    let before = home.sim.counters();
    let args: Vec<&str> = start[1..]
        .iter()
        .map(|a| match *a {
            "prod" => "test",
            a if a == doc_listen => "127.0.0.1:0",
            a => a,
        })
        .collect();
    let proxy = Proxy::spawn(&home, &args);
    let (code, body) = curl(&format!("{}{path}", proxy.url), &[]);
    drop(proxy);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("ap-hq-lobby"), "{body}");
    assert_eq!(home.sim.counters().token_requests, before.token_requests);
}
