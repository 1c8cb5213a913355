//! The `central-sim` process that `cargo xtask demo` and `bench` drive: started
//! on a free loopback port with the demo account, killed on drop; a tiny
//! HTTP/1.1 client for its `/_sim/` endpoints; and the check of its counters
//! after a stampede (exactly one refresh).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::Res;

/// Account of the simulated Central used by demo and bench.
pub const SIM_CLIENT_ID: &str = "demo-client";
/// Client secret (handed to central-auth through `DEMO_CLIENT_SECRET`).
pub const SIM_CLIENT_SECRET: &str = "demo-client-secret";
/// Customer id.
pub const SIM_CUSTOMER_ID: &str = "demo-customer";
/// User name for `central-auth login`.
pub const SIM_USERNAME: &str = "demo@example.com";
/// Password (handed to central-auth through `DEMO_PASSWORD`).
pub const SIM_PASSWORD: &str = "demo-password";

/// A running `central-sim` process; killed and reaped on drop.
pub struct SimProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl SimProcess {
    /// Starts `<bin_dir>/central-sim` on a free loopback port with the demo account
    /// and generous rate limits, and reads its first stdout line for the URL.
    pub fn start(bin_dir: &Path, access_ttl_secs: u64) -> Res<SimProcess> {
        let exe = bin_dir.join("central-sim");
        let mut child = Command::new(&exe)
            .args(["--listen", "127.0.0.1:0", "--access-ttl"])
            .arg(access_ttl_secs.to_string())
            .args([
                "--client-id",
                SIM_CLIENT_ID,
                "--client-secret",
                SIM_CLIENT_SECRET,
            ])
            .args(["--customer-id", SIM_CUSTOMER_ID, "--username", SIM_USERNAME])
            .args(["--password", SIM_PASSWORD])
            .args([
                "--rate-limit-second",
                "100000",
                "--rate-limit-day",
                "100000000",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let mut line = String::new();
        let read = match child.stdout.take() {
            Some(out) => BufReader::new(out).read_line(&mut line),
            None => Ok(0),
        };
        let url = match read {
            Ok(n) if n > 0 => parse_listen_line(&line),
            _ => None,
        };
        let Some(url) = url else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "central-sim did not announce its address (first line {line:?})"
            ));
        };
        let addr = url.trim_start_matches("http://").to_owned();
        Ok(SimProcess { child, url, addr })
    }

    /// The simulator's counters (`GET /_sim/counters`).
    pub fn counters(&self) -> Res<serde_json::Value> {
        let (status, body) = http(&self.addr, "GET", "/_sim/counters")?;
        if status != 200 {
            return Err(format!("GET /_sim/counters answered {status}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("counters are not JSON: {e}"))
    }

    /// A Download-Token JSON for a fresh pair (`POST /_sim/download-token`).
    pub fn download_token(&self) -> Res<serde_json::Value> {
        let (status, body) = http(&self.addr, "POST", "/_sim/download-token")?;
        if status != 200 {
            return Err(format!("POST /_sim/download-token answered {status}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("download token is not JSON: {e}"))
    }
}

/// Checks the simulator's counters across a stampede on a live chain (`before` and
/// `after` from [`SimProcess::counters`]): exactly one token request, and it was
/// the one successful refresh; no rejected refresh (a caller that decided on a
/// stale read sends the rotated refresh token) and no login. `Err` names the
/// four deltas.
pub fn one_refresh(before: &serde_json::Value, after: &serde_json::Value) -> Res<()> {
    let delta = |key: &str| {
        let get = |v: &serde_json::Value| v[key].as_u64().unwrap_or(0);
        get(after).saturating_sub(get(before))
    };
    let seen = [
        delta("token_requests"),
        delta("refresh_rejected"),
        delta("login"),
        delta("refresh"),
    ];
    if seen == [1, 0, 0, 1] {
        Ok(())
    } else {
        Err(format!(
            "token requests {}, rejected refreshes {}, logins {}, successful refreshes {} (want 1, 0, 0, 1)",
            seen[0], seen[1], seen[2], seen[3]
        ))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Extracts the URL from `central-sim listening on http://127.0.0.1:PORT`.
pub fn parse_listen_line(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix("central-sim listening on ")?;
    let port = url.strip_prefix("http://127.0.0.1:")?;
    port.parse::<u16>().ok()?;
    Some(url.to_owned())
}

/// One HTTP/1.1 request without a body to `addr`; returns status and body.
pub fn http(addr: &str, method: &str, path: &str) -> Res<(u16, String)> {
    let io = |e: std::io::Error| format!("{method} http://{addr}{path}: {e}");
    let mut s = TcpStream::connect(addr).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(io)?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    parse_response(&raw).ok_or_else(|| format!("{method} {path}: malformed HTTP response"))
}

/// Splits a `Content-Length` HTTP/1.1 response into status and body.
pub fn parse_response(raw: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head
        .lines()
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_refresh_wants_all_four_counters() {
        let before = serde_json::json!({"token_requests": 3, "refresh": 2, "login": 1, "refresh_rejected": 0});
        let good = serde_json::json!({"token_requests": 4, "refresh": 3, "login": 1, "refresh_rejected": 0});
        assert!(one_refresh(&before, &good).is_ok());
        // A stale-read stampede: still one successful refresh, but rejected calls.
        let stale = serde_json::json!({"token_requests": 9, "refresh": 3, "login": 1, "refresh_rejected": 7});
        let e = one_refresh(&before, &stale).unwrap_err();
        assert!(e.contains("rejected refreshes 7"), "{e}");
        let relogin = serde_json::json!({"token_requests": 4, "refresh": 2, "login": 2, "refresh_rejected": 0});
        assert!(one_refresh(&before, &relogin).is_err());
    }

    #[test]
    fn listen_line_gives_url() {
        assert_eq!(
            parse_listen_line("central-sim listening on http://127.0.0.1:40123\n").as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(parse_listen_line("error: bad\n"), None);
        assert_eq!(
            parse_listen_line("central-sim listening on http://0.0.0.0:1"),
            None
        );
    }

    #[test]
    fn response_is_split() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"a\":1}\r\n";
        assert_eq!(parse_response(raw), Some((200, "{\"a\":1}\r\n".to_owned())));
        assert_eq!(parse_response(b"garbage"), None);
    }
}
