//! The only HTTP client: one ureq agent per broker, behind a small trait.
//!
//! Requests keep their secret parts (query values, headers, bodies) as secret types
//! until the transport puts them on the wire, so a request can always be shown in
//! redacted form. The agent has explicit connect and overall timeouts, follows no
//! redirects, sends a `central-auth/<version>` user agent, reads proxies from the
//! usual environment variables, and always verifies TLS. A proxy is never used for
//! a loopback destination, nor for a plain-http request that carries a secret
//! ([`may_use_proxy`]): such requests go direct. https through a proxy is a
//! `CONNECT` tunnel the proxy cannot read. Roots are the profile's
//! `ca_file` if set, else `SSL_CERT_FILE` if set, else the bundled Mozilla roots.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::agents::{AgentUse, Agents};
use crate::error::Error;
use crate::redact::REDACTED;
use crate::secret::{ExposeSecret, SecretString};

pub use crate::agents::CONNECT_TIMEOUT;
/// Time allowed for a whole request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest response body read.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// A query parameter or header value, plain or secret.
#[derive(Debug)]
pub enum Value {
    /// Safe to show.
    Plain(String),
    /// Shown as `REDACTED`.
    Secret(SecretString),
}

impl Value {
    fn expose(&self) -> &str {
        match self {
            Value::Plain(v) => v,
            Value::Secret(v) => v.expose_secret(),
        }
    }

    fn shown(&self) -> &str {
        match self {
            Value::Plain(v) => v,
            Value::Secret(_) => REDACTED,
        }
    }
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
}

impl Method {
    /// The method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A request whose secret parts stay secret until sent.
#[derive(Debug)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// URL without query string.
    pub url: String,
    /// Query parameters, in order.
    pub query: Vec<(String, Value)>,
    /// Extra headers.
    pub headers: Vec<(String, Value)>,
    /// Body and its content type.
    pub body: Option<(String, SecretString)>,
}

impl Request {
    /// A request without query, headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a plain query parameter.
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Request {
        self.query
            .push((key.to_owned(), Value::Plain(value.into())));
        self
    }

    /// Adds a secret query parameter.
    pub fn secret_query(mut self, key: &str, value: &SecretString) -> Request {
        self.query.push((
            key.to_owned(),
            Value::Secret(crate::secret::duplicate(value)),
        ));
        self
    }

    /// Adds a plain header.
    pub fn header(mut self, key: &str, value: impl Into<String>) -> Request {
        self.headers
            .push((key.to_owned(), Value::Plain(value.into())));
        self
    }

    /// Adds a secret header (e.g. `Authorization`, `Cookie`).
    pub fn secret_header(mut self, key: &str, value: SecretString) -> Request {
        self.headers.push((key.to_owned(), Value::Secret(value)));
        self
    }

    /// Sets a JSON body (treated as secret: it may hold a password).
    pub fn json_body(mut self, body: SecretString) -> Request {
        self.body = Some(("application/json".to_owned(), body));
        self
    }

    /// Sets a form body (treated as secret).
    pub fn form_body(mut self, body: SecretString) -> Request {
        self.body = Some(("application/x-www-form-urlencoded".to_owned(), body));
        self
    }

    /// The URL with every secret query value replaced by `REDACTED`.
    pub fn redacted_url(&self) -> String {
        self.url_with(Value::shown)
    }

    /// True when a query value, a header or the body is secret.
    pub fn carries_secret(&self) -> bool {
        self.body.is_some()
            || self
                .query
                .iter()
                .chain(&self.headers)
                .any(|(_, v)| matches!(v, Value::Secret(_)))
    }

    fn url_with(&self, show: impl Fn(&Value) -> &str) -> String {
        if self.query.is_empty() {
            return self.url.clone();
        }
        let q: Vec<String> = self
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(show(v))))
            .collect();
        format!("{}?{}", self.url, q.join("&"))
    }
}

/// A response; the body is secret because token responses carry tokens.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: SecretString,
}

impl Response {
    /// The first header with this (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// One line without secrets.
    pub message: String,
    /// Whether sending the same request again may work.
    pub retryable: bool,
    /// Whether the request may have reached the server before it failed (a
    /// timeout or reset after sending), so its effect is unknown. False when it
    /// certainly never left (DNS, connection refused, TLS handshake).
    pub maybe_sent: bool,
}

/// Sends requests. The real one is [`UreqTransport`]; tests may use closures.
pub trait Transport {
    /// Sends one request, giving up after `timeout`, and returns whatever status
    /// came back.
    fn send(&self, request: &Request, timeout: Duration) -> Result<Response, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(&Request) -> Result<Response, TransportError>,
{
    fn send(&self, request: &Request, _timeout: Duration) -> Result<Response, TransportError> {
        self(request)
    }
}

/// Whether `request` may go through a proxy from the environment: not to a
/// loopback host (the proxy would see a local service's traffic), and not over
/// plain http when it carries a secret (the proxy would read it).
pub fn may_use_proxy(request: &Request) -> bool {
    crate::agents::proxy_allowed(&request.url, request.carries_secret())
}

/// The ureq-backed transport.
pub struct UreqTransport {
    agents: Agents,
}

/// The token calls (and a remote store's).
pub(crate) const TOKEN_CALLS: AgentUse = AgentUse {
    timeout: REQUEST_TIMEOUT,
    user_agent: concat!("central-auth/", env!("CARGO_PKG_VERSION")),
};

impl UreqTransport {
    /// Builds the agents; `ca_file` adds trusted roots for corporate CAs.
    pub fn new(ca_file: Option<&Path>) -> Result<UreqTransport, Error> {
        Ok(UreqTransport {
            agents: Agents::new(ca_file, TOKEN_CALLS)?,
        })
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: &Request, timeout: Duration) -> Result<Response, TransportError> {
        let url = request.url_with(Value::expose);
        let timeout = Some(timeout.min(REQUEST_TIMEOUT));
        let agent = self.agents.pick(&request.url, request.carries_secret());
        let result = match request.method {
            Method::Get => {
                let mut b = agent.get(&url).config().timeout_global(timeout).build();
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.expose());
                }
                b.call()
            }
            Method::Post => {
                let mut b = agent.post(&url).config().timeout_global(timeout).build();
                for (k, v) in &request.headers {
                    b = b.header(k.as_str(), v.expose());
                }
                match &request.body {
                    Some((ctype, body)) => b
                        .header("Content-Type", ctype.as_str())
                        .send(body.expose_secret().as_bytes()),
                    None => b.send_empty(),
                }
            }
        };
        let host = crate::net::host_of(&request.url);
        let mut response = result.map_err(|e| transport_error(&e, host))?;
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
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY_BYTES)
            .read_to_string()
            .map_err(|e| transport_error(&e, host))?;
        Ok(Response {
            status,
            headers,
            body: SecretString::from(body),
        })
    }
}

/// Maps a ureq error to a message that cannot contain the URL or a secret. TLS
/// failures name the problem and the fix and are never retryable: the same
/// certificate fails the same way a second later.
pub(crate) fn transport_error(e: &ureq::Error, host: &str) -> TransportError {
    use ureq::Error as E;
    if let Some(message) = tls_failure(e, host) {
        // The handshake comes before the request: nothing was sent.
        return TransportError {
            message,
            retryable: false,
            maybe_sent: false,
        };
    }
    use ureq::Timeout as T;
    let (message, retryable, maybe_sent) = match e {
        E::Timeout(t @ (T::Resolve | T::Connect)) => (format!("timed out ({t})"), true, false),
        E::Timeout(t) => (format!("timed out ({t})"), true, true),
        E::HostNotFound => ("host not found (DNS)".to_owned(), true, false),
        E::ConnectionFailed => ("connection failed".to_owned(), true, false),
        E::Io(io) => (format!("I/O error: {}", io.kind()), true, true),
        E::Tls(msg) => (format!("TLS error: {msg}"), false, false),
        E::Rustls(err) => (format!("TLS error: {err}"), false, false),
        E::BodyExceedsLimit(n) => (format!("response body larger than {n} bytes"), false, true),
        E::Protocol(p) => (format!("HTTP protocol error: {p}"), true, true),
        E::BadUri(_) => ("invalid URL".to_owned(), false, false),
        E::InvalidProxyUrl => (
            "invalid proxy URL in the environment".to_owned(),
            false,
            false,
        ),
        E::ConnectProxyFailed(m) => (format!("proxy CONNECT failed: {m}"), true, false),
        other => (format!("request failed: {}", kind_name(other)), false, true),
    };
    TransportError {
        message,
        retryable,
        maybe_sent,
    }
}

/// The message for a failed TLS handshake, or `None` if `e` is not one. rustls
/// reports certificate problems inside an `InvalidData` I/O error.
fn tls_failure(e: &ureq::Error, host: &str) -> Option<String> {
    use ureq::Error as E;
    let text = match e {
        E::Tls(m) => (*m).to_owned(),
        E::Rustls(err) => err.to_string(),
        E::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
            let inner = io.get_ref()?.to_string();
            let l = inner.to_ascii_lowercase();
            if !(l.contains("certificate") || l.contains("alert") || l.contains("handshake")) {
                return None;
            }
            inner
        }
        _ => return None,
    };
    Some(tls_message(&text, host))
}

/// Names a TLS problem from rustls's description, and its fix.
pub fn tls_message(text: &str, host: &str) -> String {
    let t = text.to_ascii_lowercase().replace(['_', ' '], "");
    let roots = "set ca_file = \"/path/to/ca.pem\" in the profile (or SSL_CERT_FILE) to the CA that signs it";
    if t.contains("unknownissuer") || t.contains("unknownca") {
        format!("TLS: the certificate of {host} is signed by an unknown CA (certificate unknown); if a private CA or a TLS-inspecting proxy signs it, {roots}; not retried")
    } else if t.contains("notvalidforname") || t.contains("badidentity") {
        format!("TLS: the certificate of {host} is not valid for that name (name mismatch); check the host in base_url (or token_url) against the gateway's certificate; not retried")
    } else if t.contains("expired") {
        format!("TLS: the certificate of {host} has expired (or this machine's clock is wrong: check NTP); the server's certificate must be renewed; not retried")
    } else if t.contains("notvalidyet") {
        format!("TLS: the certificate of {host} is not valid yet; check this machine's clock (NTP); not retried")
    } else {
        format!("TLS: handshake with {host} failed ({text}); check ca_file / SSL_CERT_FILE and any TLS-inspecting proxy; not retried")
    }
}

fn kind_name(e: &ureq::Error) -> String {
    // The Debug form of the remaining variants names the variant first; keep only
    // that word so no payload (which might hold a URL) is shown.
    format!("{e:?}")
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("unknown")
        .to_owned()
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Times a closure, for verbose logs.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let v = f();
    (v, start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_url_hides_secret_values_only() {
        let r = Request::new(Method::Post, "https://gw.example/oauth2/token")
            .query("client_id", "cid")
            .secret_query("client_secret", &SecretString::from("S3CR3T".to_owned()))
            .query("grant_type", "refresh_token");
        assert_eq!(
            r.redacted_url(),
            "https://gw.example/oauth2/token?client_id=cid&client_secret=REDACTED&grant_type=refresh_token"
        );
        assert!(!format!("{r:?}").contains("S3CR3T"));
        assert!(r.url_with(Value::expose).contains("S3CR3T"));
    }

    #[test]
    fn proxies_never_see_loopback_or_plain_http_secrets() {
        let secret = || SecretString::from("s".to_owned());
        let get = |url: &str| Request::new(Method::Get, url);
        assert!(may_use_proxy(&get("https://gw.example/x")));
        assert!(may_use_proxy(
            &get("https://gw.example/x").secret_header("Authorization", secret())
        ));
        assert!(!may_use_proxy(&get("http://127.0.0.1:9/x")));
        assert!(!may_use_proxy(&get("https://localhost/x")));
        assert!(!may_use_proxy(&get("http://[::1]:8/x")));
        assert!(may_use_proxy(&get("http://gw.example/x")));
        assert!(!may_use_proxy(
            &get("http://gw.example/x").secret_header("Authorization", secret())
        ));
        assert!(!may_use_proxy(
            &Request::new(Method::Post, "http://gw.example/t").form_body(secret())
        ));
    }

    #[test]
    fn tls_problems_are_named_with_their_fix() {
        let m = tls_message("invalid peer certificate: UnknownIssuer", "gw:443");
        assert!(
            m.contains("unknown CA") && m.contains("ca_file") && m.contains("SSL_CERT_FILE"),
            "{m}"
        );
        let m = tls_message(
            "invalid peer certificate: certificate not valid for name \"x\"",
            "gw",
        );
        assert!(m.contains("name mismatch"), "{m}");
        let m = tls_message("invalid peer certificate: Expired", "gw");
        assert!(m.contains("expired"), "{m}");
    }

    #[test]
    fn encode_escapes_reserved() {
        assert_eq!(encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
