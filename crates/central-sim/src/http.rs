//! HTTP/1.1 requests and responses of the simulator's server.
//!
//! Requests are read by `central-auth-http1`, the workspace's one strict
//! HTTP/1.1 reader (the same code as the loopback proxy's): a request line,
//! headers, `Content-Length` or `Transfer-Encoding: chunked` bodies,
//! `Expect: 100-continue`, and keep-alive (HTTP/1.1 default) versus
//! `Connection: close` (HTTP/1.0 default). A request it refuses is answered
//! with the status it names. Responses are written here and always carry
//! `Content-Length`.

use std::io::{self, BufRead, Write};

use central_auth_http1::{Limits, RequestError, Target};

use crate::encoding::parse_form;

/// What one request may make the simulator hold: a 64 KiB head (room for a
/// 16 KiB request line or header, as before, and many ordinary headers), 100
/// headers, 1 MiB of body.
pub const LIMITS: Limits = Limits {
    max_head_bytes: 64 * 1024,
    max_headers: 100,
    max_body_bytes: 1024 * 1024,
};

/// A parsed HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string (without `?`), possibly empty.
    pub query: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Headers with lower-cased names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// Decoded body.
    pub body: Vec<u8>,
}

impl Request {
    /// First value of a header (name is matched case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Decoded query-string pairs in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_form(&self.query)
    }

    /// First query parameter with this name.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Whether the client asked to keep the connection open afterwards.
    pub fn keep_alive(&self) -> bool {
        let conn = self
            .header("connection")
            .map(|v| v.to_ascii_lowercase())
            .unwrap_or_default();
        let tokens: Vec<&str> = conn.split(',').map(str::trim).collect();
        if tokens.contains(&"close") {
            return false;
        }
        if self.version == "HTTP/1.0" {
            return tokens.contains(&"keep-alive");
        }
        true
    }

    /// Media type of the body, lower-cased, without parameters.
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }
}

/// An HTTP response about to be written.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order (repeats allowed, e.g. two `Set-Cookie`).
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a JSON text body.
    pub fn json(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into().into_bytes(),
        }
    }

    /// A response whose body is `value` serialised as JSON.
    pub fn json_value<T: serde::Serialize>(status: u16, value: &T) -> Response {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
        Response {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header (builder style).
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Whether a header with this name is already set.
    pub fn has_header(&self, name: &str) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(name))
    }
}

/// What the server does with a processed request.
#[derive(Debug)]
pub enum Outcome {
    /// Write this response.
    Respond(Response),
    /// Close the TCP connection without writing anything.
    Drop,
}

/// Why no request could be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The peer closed the connection cleanly between requests.
    #[error("connection closed")]
    Eof,
    /// Socket error (including read time-outs).
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The reader refused the request; answer [`RequestError::status`] and
    /// close.
    #[error("{0}")]
    Refused(RequestError),
}

impl From<RequestError> for ReadError {
    fn from(e: RequestError) -> ReadError {
        match e {
            RequestError::Closed => ReadError::Eof,
            RequestError::Io(kind) => ReadError::Io(kind.into()),
            refused => ReadError::Refused(refused),
        }
    }
}

/// Reads one request. `w` receives `100 Continue` when the client expects it
/// and a body follows.
pub fn read_request<R: BufRead, W: Write>(r: &mut R, w: &mut W) -> Result<Request, ReadError> {
    let read = central_auth_http1::read_request(r, &LIMITS, || {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        w.flush()
    })?;
    let head = read.head;
    // An absolute-form target is routed on its path, as before; CONNECT and
    // `*` reach no route.
    let (path, query) = match head.target.path_and_query().split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (head.target.path_and_query().to_string(), String::new()),
    };
    let path = match head.target {
        Target::Authority(_) => String::new(),
        _ => path,
    };
    Ok(Request {
        method: head.method,
        path,
        query,
        version: head.version.as_str().to_string(),
        headers: head
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body: read.body,
    })
}

/// Standard reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Writes a response with `Content-Length` and a `Connection` header.
pub fn write_response<W: Write>(w: &mut W, resp: &Response, keep_alive: bool) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    head.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let mut out = head.into_bytes();
    out.extend_from_slice(&resp.body);
    w.write_all(&out)?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn parses_two_pipelined_requests() {
        let raw = b"POST /oauth2/token?a=1&a=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nAUTHORIZATION: Basic Zg==\r\n\r\nabc\r\nGET /x HTTP/1.0\r\n\r\n";
        let mut r = Cursor::new(&raw[..]);
        let mut sink = Vec::new();
        let a = read_request(&mut r, &mut sink).expect("first");
        assert_eq!(a.method, "POST");
        assert_eq!(a.path, "/oauth2/token");
        assert_eq!(a.query_param("a").as_deref(), Some("1"));
        assert_eq!(a.header("Authorization"), Some("Basic Zg=="));
        assert_eq!(a.body, b"abc");
        assert!(a.keep_alive());
        let b = read_request(&mut r, &mut sink).expect("second");
        assert_eq!(b.path, "/x");
        assert!(!b.keep_alive());
        assert!(matches!(
            read_request(&mut r, &mut sink),
            Err(ReadError::Eof)
        ));
    }

    #[test]
    fn parses_chunked_body_and_expect() {
        let raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let mut r = Cursor::new(&raw[..]);
        let mut sink = Vec::new();
        let a = read_request(&mut r, &mut sink).expect("request");
        assert_eq!(a.body, b"abcde");
        assert!(sink.starts_with(b"HTTP/1.1 100 Continue"));
    }

    #[test]
    fn absolute_form_is_routed_on_its_path() {
        let raw = b"GET http://127.0.0.1:9/api/x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n";
        let mut sink = Vec::new();
        let a = read_request(&mut Cursor::new(&raw[..]), &mut sink).expect("request");
        assert_eq!((a.path.as_str(), a.query.as_str()), ("/api/x", "y=1"));
        assert!(sink.is_empty(), "no 100 Continue without Expect");
    }

    #[test]
    fn refusals_carry_their_status() {
        let mut sink = Vec::new();
        for (raw, status) in [
            (&b"GET / HTTP/1.1\nHost: x\r\n\r\n"[..], 400),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab",
                400,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n",
                413,
            ),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                501,
            ),
            (b"GET / HTTP/2.0\r\n\r\n", 505),
        ] {
            let e = read_request(&mut Cursor::new(raw), &mut sink);
            match e {
                Err(ReadError::Refused(e)) => assert_eq!(e.status(), Some(status)),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn rejects_garbage() {
        let mut sink = Vec::new();
        let mut r = Cursor::new(&b"NONSENSE\r\n\r\n"[..]);
        assert!(matches!(
            read_request(&mut r, &mut sink),
            Err(ReadError::Refused(_))
        ));
    }
}
