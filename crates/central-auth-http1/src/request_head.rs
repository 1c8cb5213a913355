//! A request head that passed every rule ([`RequestHead`]), and what a server
//! reads from it: headers by name, keep-alive, `Expect: 100-continue`, `Host`.

use crate::fields;
use crate::framing::Framing;
use crate::target::Target;
use crate::version::Version;

/// A request line and header section that passed every rule.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, a token, as sent (methods are case-sensitive).
    pub method: String,
    /// The request-target.
    pub target: Target,
    /// The HTTP version.
    pub version: Version,
    /// Header fields in order: names as sent, values without surrounding
    /// whitespace (UTF-8, no control characters but HTAB).
    pub headers: Vec<(String, String)>,
    /// How the body is delimited.
    pub framing: Framing,
}

/// Debug output shows header names only: values may be credentials.
impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("version", &self.version)
            .field("header_names", &names)
            .field("framing", &self.framing)
            .finish()
    }
}

impl RequestHead {
    /// The first value of a header (name matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (name matched case-insensitively).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3):
    /// HTTP/1.1 unless a `Connection` header says `close`; HTTP/1.0 only when
    /// it says `keep-alive` (and not `close`).
    pub fn keep_alive(&self) -> bool {
        let mut close = false;
        let mut keep_alive = false;
        for option in fields::list_items(self.headers_named("connection")) {
            close |= option.eq_ignore_ascii_case("close");
            keep_alive |= option.eq_ignore_ascii_case("keep-alive");
        }
        match self.version {
            _ if close => false,
            Version::Http11 => true,
            Version::Http10 => keep_alive,
        }
    }

    /// Whether the client waits for `100 Continue` before sending its body
    /// (RFC 9110 §10.1.1; ignored in HTTP/1.0 requests, as that section says).
    pub fn expects_continue(&self) -> bool {
        self.version == Version::Http11
            && self
                .headers_named("expect")
                .any(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The `Host` header's value (checked as `host[:port]`, possibly empty).
    /// With an absolute-form target, RFC 9112 §3.2.2 says the target's
    /// authority wins: a server checks both.
    pub fn host(&self) -> Option<&str> {
        self.header("host")
    }
}
