//! Exact bytes to an HTTP server, through `tests/fixtures/raw_http.py` (standard
//! library only, so it runs as the owner or as [`crate::other_user::OtherUser`],
//! who cannot reach the venvs). Malformed and ambiguous requests (two
//! `Content-Length`s, bare LF, obsolete folding) go out exactly as written; the
//! answer comes back as a [`Reply`].

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::{on_path, require_tool, text, workspace};

/// The fixture script.
pub fn script() -> PathBuf {
    workspace().join("tests/fixtures/raw_http.py")
}

/// Where to send the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A TCP address (`127.0.0.1:PORT`, `[::1]:PORT`).
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

impl Target {
    /// The fixture's arguments for this target.
    pub fn args(&self) -> Vec<String> {
        match self {
            Target::Tcp(addr) => vec!["--tcp".into(), addr.to_string()],
            Target::Unix(path) => vec!["--unix".into(), path.display().to_string()],
        }
    }
}

/// What the client saw.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The connection was established.
    pub connected: bool,
    /// The status code, `None` when no status line arrived (refused, reset,
    /// timed out, or closed before answering).
    pub status: Option<u16>,
    /// The whole status line as received.
    pub status_line: Option<String>,
    /// Response headers in order.
    pub headers: Vec<(String, String)>,
    /// The body (lossy UTF-8).
    pub body: String,
    /// The client's error (`PermissionError: [Errno 13] ...`), if any.
    pub error: Option<String>,
    /// The OS errno of that error (13 = EACCES, 111 = ECONNREFUSED).
    pub errno: Option<i32>,
    /// Sending failed part-way (the server closed early); the answer, if
    /// any, was still read.
    pub send_error: Option<String>,
    /// From connecting to the end of the answer, in milliseconds.
    pub elapsed_ms: f64,
}

impl Reply {
    /// Parses the fixture's JSON line.
    pub fn from_json(v: &serde_json::Value) -> Reply {
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        Reply {
            connected: v["connected"].as_bool().unwrap_or(false),
            status: v["status"].as_u64().map(|n| n as u16),
            status_line: s("status_line"),
            headers: v["headers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|h| {
                            (
                                h[0].as_str().unwrap_or_default().to_owned(),
                                h[1].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            body: s("body").unwrap_or_default(),
            error: s("error"),
            errno: v["errno"].as_i64().map(|n| n as i32),
            send_error: s("send_error"),
            elapsed_ms: v["elapsed_ms"].as_f64().unwrap_or(0.0),
        }
    }

    /// A response header, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Runs `python` (a command that is a python3 interpreter, possibly set up to
/// run as another user) on `script` with `raw` on stdin; panics with the
/// fixture's stderr when it does not print its JSON line.
pub fn run_with(
    mut python: Command,
    script: &Path,
    target: &Target,
    raw: &[u8],
    timeout: Duration,
) -> Reply {
    let mut child = python
        .arg(script)
        .args(target.args())
        .arg("--timeout")
        .arg(format!("{:.3}", timeout.as_secs_f64()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start python3 for raw_http.py: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(raw).expect("raw_http.py reads its stdin");
    drop(stdin);
    let out = child.wait_with_output().expect("raw_http.py runs");
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or_else(|| {
            panic!(
                "raw_http.py printed no JSON ({}): stdout {stdout:?} stderr {:?}",
                out.status,
                text(&out.stderr)
            )
        });
    Reply::from_json(&serde_json::from_str(line).expect("raw_http.py prints JSON"))
}

/// Sends `raw` as the owner (this process's user) with the machine's python3;
/// `None` (a visible skip, or a failure under CI) when python3 is missing.
pub fn send(target: &Target, raw: &[u8]) -> Option<Reply> {
    let python = require_tool("python3", &on_path("python3"))?;
    Some(run_with(
        Command::new(python),
        &script(),
        target,
        raw,
        Duration::from_secs(10),
    ))
}

/// A minimal, well-formed `GET` request head for `path` with `Host: host`.
pub fn get(path: &str, host: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: e2e-raw\r\nAccept: */*\r\nConnection: close\r\n\r\n")
        .into_bytes()
}
