//! Forwarding one API request to a profile's gateway with the broker's bearer
//! token, for `central-auth proxy`.
//!
//! This keeps the invariant that only the core speaks HTTP to Central: the proxy
//! parses its clients' requests, and this module sends them on with the same TLS
//! roots, timeouts, proxy environment and no-redirect policy as every other call.
//! The client's own `Authorization` and hop-by-hop headers are never forwarded,
//! and a request carrying its own `access_token` (which Kong reads before the
//! header) cannot even be built: [`Outgoing::new`] refuses it
//! ([`access_token`]), so the only credential that reaches Central is the
//! broker's bearer token, and a 401 always answers that token.

pub mod access_token;

use std::path::Path;
use std::time::Duration;

use crate::error::Error;
use crate::http::{tls_config, transport_error, TransportError, CONNECT_TIMEOUT};
use crate::secret::{ExposeSecret, SecretString};

/// Time allowed for one forwarded request.
pub const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body passed back to a client.
pub const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;

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

    /// True for Kong's `401 invalid_token`: the bearer token is dead and a
    /// refreshed one may work.
    pub fn invalid_token(&self) -> bool {
        self.status == 401
            && (String::from_utf8_lossy(&self.body).contains("invalid_token")
                || self
                    .header("www-authenticate")
                    .is_some_and(|v| v.contains("invalid_token")))
    }
}

/// A ureq agent aimed at one profile's gateway.
pub struct Upstream {
    agent: ureq::Agent,
    base_url: String,
    host: String,
}

impl Upstream {
    /// Builds the agent for `base_url`; `ca_file` adds trusted roots.
    pub fn new(base_url: &str, ca_file: Option<&Path>) -> Result<Upstream, Error> {
        let tls = tls_config(ca_file)?;
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(FORWARD_TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("central-auth-proxy/", env!("CARGO_PKG_VERSION")))
            .proxy(ureq::Proxy::try_from_env())
            .tls_config(tls)
            .build();
        let host = base_url
            .split_once("://")
            .map_or(base_url, |(_, rest)| rest)
            .split(['/', '?'])
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Upstream {
            agent: crate::http::agent_with(config),
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
        let result = if req.body.is_empty() {
            builder.body(()).map_err(|_| bad_request()).and_then(|r| {
                self.agent
                    .run(r)
                    .map_err(|e| transport_error(&e, &self.host))
            })
        } else {
            builder
                .body(req.body)
                .map_err(|_| bad_request())
                .and_then(|r| {
                    self.agent
                        .run(r)
                        .map_err(|e| transport_error(&e, &self.host))
                })
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

    #[test]
    fn invalid_token_is_recognised_by_body_or_header() {
        let a = Answer {
            status: 401,
            headers: vec![],
            body: br#"{"error":"invalid_token"}"#.to_vec(),
        };
        assert!(a.invalid_token());
        let missing = Answer {
            status: 401,
            headers: vec![],
            body: br#"{"error":"invalid_request"}"#.to_vec(),
        };
        assert!(!missing.invalid_token());
    }
}
