//! Forwarding one API request to a profile's gateway with the broker's bearer
//! token, for `central-auth proxy`.
//!
//! This keeps the invariant that only the core speaks HTTP to Central: the proxy
//! parses its clients' requests, and this module sends them on through the
//! agents every other call uses ([`crate::agents`]): the same TLS roots,
//! connect timeout, resolver, no-redirect policy and proxy rule (never a proxy
//! for a loopback gateway, nor for plain http, since the request carries the
//! bearer token).
//! The client's own `Authorization` and hop-by-hop headers are never forwarded,
//! and a request carrying its own `access_token` (which Kong reads before the
//! header) cannot even be built: [`Outgoing::new`] refuses it
//! ([`access_token`]), so the only credential that reaches Central is the
//! broker's bearer token, and a 401 always answers that token.

pub mod access_token;

use std::path::Path;
use std::time::Duration;

use crate::agents::{AgentUse, Agents};
use crate::error::Error;
use crate::http::{transport_error, TransportError};
use crate::secret::{ExposeSecret, SecretString};

/// Time allowed for one forwarded request.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body passed back to a client.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

/// The agents' use: a longer overall timeout and the proxy's user agent.
pub(crate) const FORWARDING: AgentUse = AgentUse {
    timeout: FORWARD_TIMEOUT,
    user_agent: concat!("central-auth-proxy/", env!("CARGO_PKG_VERSION")),
};

/// Methods the proxy forwards.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Request headers never forwarded: hop-by-hop ones, those the upstream
/// connection sets itself, and the client's credentials.
const DROPPED_REQUEST: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "accept-encoding",
    "expect",
];

/// Response headers not passed back (the proxy frames the body itself, and the
/// upstream body is already decompressed).
const DROPPED_RESPONSE: &[&str] = &[
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "trailer",
    "upgrade",
];

/// One request as the client sent it, checked to carry no `access_token` of
/// its own (only [`Outgoing::new`] makes one).
#[derive(Debug)]
pub struct Outgoing<'a> {
    method: &'a str,
    target: &'a str,
    headers: &'a [(String, String)],
    body: &'a [u8],
}

impl<'a> Outgoing<'a> {
    /// The request with this method (one of [`METHODS`]), path and query
    /// (starting with `/`), client headers (dropped ones are filtered when
    /// sent) and body; `Err` saying where, when it carries an `access_token`
    /// in its query or its body (read by its `Content-Type`).
    pub fn new(
        method: &'a str,
        target: &'a str,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> Result<Outgoing<'a>, access_token::Found> {
        if let Some(found) = access_token::in_target(target) {
            return Err(found);
        }
        let content_type = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.as_str());
        if let Some(found) = access_token::in_body(content_type, body) {
            return Err(found);
        }
        Ok(Outgoing {
            method,
            target,
            headers,
            body,
        })
    }

    /// The method.
    pub fn method(&self) -> &str {
        self.method
    }
}

/// The gateway's answer.
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: u16,
    /// Headers to pass back, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body (decompressed).
    pub body: Vec<u8>,
}

impl Answer {
    /// The first header with this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// True for Kong's `401 invalid_token`, or New Central / GreenLake's
    /// `401 HPE_GL_ERROR_UNAUTHORIZED`: the bearer token is dead and a
    /// refreshed one may work.
    pub fn invalid_token(&self) -> bool {
        let body = String::from_utf8_lossy(&self.body);
        self.status == 401
            && (body.contains("invalid_token")
                || body.contains("HPE_GL_ERROR_UNAUTHORIZED")
                || self
                    .header("www-authenticate")
                    .is_some_and(|v| v.contains("invalid_token")))
    }
}

/// The agents aimed at one profile's gateway.
pub struct Upstream {
    agents: Agents,
    base_url: String,
    host: String,
}

impl Upstream {
    /// Builds the agents for `base_url`; `ca_file` adds trusted roots.
    pub fn new(base_url: &str, ca_file: Option<&Path>) -> Result<Upstream, Error> {
        let host = base_url
            .split_once("://")
            .map_or(base_url, |(_, rest)| rest)
            .split(['/', '?'])
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Upstream {
            agents: Agents::new(ca_file, FORWARDING)?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            host,
        })
    }

    /// Sends `req` with `Authorization: Bearer <token>` and reads the answer.
    pub fn send(&self, req: &Outgoing<'_>, token: &SecretString) -> Result<Answer, TransportError> {
        let url = format!("{}{}", self.base_url, req.target);
        let mut builder = ureq::http::Request::builder()
            .method(req.method)
            .uri(url.as_str());
        for (k, v) in req.headers {
            if !DROPPED_REQUEST.contains(&k.to_ascii_lowercase().as_str()) {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        builder = builder.header("Authorization", format!("Bearer {}", token.expose_secret()));
        // The bearer token is a secret: the proxy rule of every other call.
        let agent = self.agents.pick(&url, true);
        let result = if req.body.is_empty() {
            builder
                .body(())
                .map_err(|_| bad_request())
                .and_then(|r| agent.run(r).map_err(|e| transport_error(&e, &self.host)))
        } else {
            builder
                .body(req.body)
                .map_err(|_| bad_request())
                .and_then(|r| agent.run(r).map_err(|e| transport_error(&e, &self.host)))
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_owned(),
                )
            })
            .filter(|(k, _)| {
                // A HEAD answer keeps the length a GET would have had
                // (RFC 9110 §8.6); the proxy frames every other body itself.
                !DROPPED_RESPONSE.contains(&k.as_str())
                    || (req.method == "HEAD" && k == "content-length")
            })
            .collect();
        let body = if req.method == "HEAD" {
            Vec::new()
        } else {
            response
                .body_mut()
                .with_config()
                .limit(MAX_RESPONSE_BYTES)
                .read_to_vec()
                .map_err(|e| transport_error(&e, &self.host))?
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn bad_request() -> TransportError {
    TransportError {
        message: "the request cannot be sent (invalid header or target)".to_owned(),
        retryable: false,
        maybe_sent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_carrying_its_own_access_token_cannot_be_built() {
        let json = [("Content-Type".to_owned(), "application/json".to_owned())];
        assert!(Outgoing::new("GET", "/a?limit=2", &[], b"").is_ok());
        assert_eq!(
            Outgoing::new("GET", "/a?ACCESS_TOKEN=x", &[], b"").unwrap_err(),
            access_token::Found::Query
        );
        assert_eq!(
            Outgoing::new("POST", "/a", &json, br#"{"x":{"access_token":1}}"#).unwrap_err(),
            access_token::Found::Json
        );
        assert_eq!(
            Outgoing::new("POST", "/a", &[], b"access_token=1").unwrap_err(),
            access_token::Found::Form
        );
    }

    /// Set in the child run of the test below.
    const CHILD: &str = "CENTRAL_AUTH_UNIT_PROXY_CHILD";

    /// Serves `n` requests on `listener` with `200 ok`, returning their heads.
    fn serve(listener: std::net::TcpListener, n: usize) -> std::thread::JoinHandle<Vec<String>> {
        use std::io::{Read, Write};
        std::thread::spawn(move || {
            let mut heads = Vec::new();
            for _ in 0..n {
                let (mut conn, _) = listener.accept().expect("accept");
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && conn.read(&mut byte).expect("read") == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                conn.read_exact(&mut body).expect("body");
                conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                    .expect("answer");
                heads.push(head);
            }
            heads
        })
    }

    /// With every proxy variable pointing at a listener, a forwarded request
    /// and a token call to a loopback gateway both go direct: each agent of
    /// the core applies `may_use_proxy`. Runs itself again in a child process,
    /// since agents read the proxy variables when built and tests share the
    /// environment.
    #[test]
    fn no_agent_sends_a_loopback_request_through_a_proxy() {
        if std::env::var_os(CHILD).is_some() {
            let gateway = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            let base = format!("http://{}", gateway.local_addr().expect("addr"));
            let served = serve(gateway, 2);
            let upstream = Upstream::new(&base, None).expect("upstream");
            let out = Outgoing::new("GET", "/configuration/v2/groups", &[], b"").expect("request");
            let answer = upstream
                .send(&out, &SecretString::from("unit-bearer".to_owned()))
                .expect("forwarded");
            assert_eq!(answer.status, 200);
            let transport = crate::http::UreqTransport::new(None).expect("transport");
            let call = crate::http::Request::new(
                crate::http::Method::Post,
                format!("{base}/oauth2/token"),
            )
            .form_body(SecretString::from("grant_type=refresh_token".to_owned()));
            let response = crate::http::Transport::send(&transport, &call, Duration::from_secs(10))
                .expect("token call");
            assert_eq!(response.status, 200);
            let heads = served.join().expect("gateway");
            assert!(
                heads[0].starts_with("GET /configuration/v2/groups "),
                "{heads:?}"
            );
            assert!(heads[1].starts_with("POST /oauth2/token "), "{heads:?}");
            return;
        }
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        proxy.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", proxy.local_addr().expect("addr"));
        let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
        command
            .args([
                "--exact",
                "forward::tests::no_agent_sends_a_loopback_request_through_a_proxy",
            ])
            .env(CHILD, "1")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .stdout(std::process::Stdio::null());
        for var in [
            "ALL_PROXY",
            "all_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
        ] {
            command.env(var, &url);
        }
        let mut child = command.spawn().expect("child test");
        let started = std::time::Instant::now();
        let status = loop {
            if let Ok((_, from)) = proxy.accept() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the proxy saw a connection from {from}");
            }
            if let Some(status) = child.try_wait().expect("child") {
                break status;
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the child test hangs");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        assert!(status.success(), "child test failed: {status}");
        assert!(proxy.accept().is_err(), "the proxy saw a connection");
    }

    #[test]
    fn invalid_token_is_recognised_by_body_or_header() {
        let a = Answer {
            status: 401,
            headers: vec![],
            body: br#"{"error":"invalid_token"}"#.to_vec(),
        };
        assert!(a.invalid_token());
        let glp = Answer {
            status: 401,
            headers: vec![],
            body: br#"{"httpStatusCode":401,"errorCode":"HPE_GL_ERROR_UNAUTHORIZED","message":"m","debugId":"d"}"#.to_vec(),
        };
        assert!(glp.invalid_token());
        let missing = Answer {
            status: 401,
            headers: vec![],
            body: br#"{"error":"invalid_request"}"#.to_vec(),
        };
        assert!(!missing.invalid_token());
    }
}
