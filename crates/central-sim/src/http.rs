//! HTTP/1.1 message parsing and serialisation, std only.
//!
//! Supports what the simulator's clients send: a request line, headers,
//! `Content-Length` or `Transfer-Encoding: chunked` bodies,
//! `Expect: 100-continue`, and keep-alive (HTTP/1.1 default) versus
//! `Connection: close` (HTTP/1.0 default). Responses always carry
//! `Content-Length`.

use std::io::{self, BufRead, Read, Write};

use crate::encoding::parse_form;

/// Longest accepted request line or header line.
const MAX_LINE: u64 = 16 * 1024;
/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 100;
/// Largest accepted request body.
const MAX_BODY: usize = 1024 * 1024;

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
    /// The request was malformed; answer 400 and close.
    #[error("bad request: {0}")]
    Bad(&'static str),
}

fn read_line<R: BufRead>(r: &mut R) -> Result<Option<String>, ReadError> {
    let mut buf = Vec::new();
    let n = r.by_ref().take(MAX_LINE).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(ReadError::Bad("line too long or truncated"));
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| ReadError::Bad("non UTF-8 header"))
}

/// Reads one request. `w` receives `100 Continue` when the client expects it.
pub fn read_request<R: BufRead, W: Write>(r: &mut R, w: &mut W) -> Result<Request, ReadError> {
    // Skip stray empty lines between pipelined requests (RFC 7230 §3.5).
    let line = loop {
        match read_line(r)? {
            None => return Err(ReadError::Eof),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad("malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad("unsupported HTTP version"));
    }
    // Absolute-form targets ("http://host/path") are reduced to the path.
    let target = match target.find("://") {
        Some(i) => {
            let rest = &target[i + 3..];
            rest.find('/').map_or("/", |j| &rest[j..])
        }
        None => target,
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.to_string(), String::new()),
    };
    let mut headers = Vec::new();
    loop {
        let Some(l) = read_line(r)? else {
            return Err(ReadError::Bad("eof in headers"));
        };
        if l.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ReadError::Bad("too many headers"));
        }
        let Some((k, v)) = l.split_once(':') else {
            return Err(ReadError::Bad("malformed header"));
        };
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut req = Request {
        method: method.to_string(),
        path,
        query,
        version: version.to_string(),
        headers,
        body: Vec::new(),
    };
    if req
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        w.flush()?;
    }
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        req.body = read_chunked(r)?;
    } else if let Some(len) = req.header("content-length") {
        let len: usize = len
            .trim()
            .parse()
            .map_err(|_| ReadError::Bad("bad content-length"))?;
        if len > MAX_BODY {
            return Err(ReadError::Bad("body too large"));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        req.body = body;
    }
    Ok(req)
}

fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let Some(line) = read_line(r)? else {
            return Err(ReadError::Bad("eof in chunked body"));
        };
        let size_hex = line.split(';').next().unwrap_or_default().trim();
        let size =
            usize::from_str_radix(size_hex, 16).map_err(|_| ReadError::Bad("bad chunk size"))?;
        if size == 0 {
            // Trailers, then the final empty line.
            loop {
                match read_line(r)? {
                    Some(l) if !l.is_empty() => continue,
                    _ => return Ok(body),
                }
            }
        }
        if body.len() + size > MAX_BODY {
            return Err(ReadError::Bad("body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        let _ = read_line(r)?; // CRLF after the chunk data
    }
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
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
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
        let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let mut r = Cursor::new(&raw[..]);
        let mut sink = Vec::new();
        let a = read_request(&mut r, &mut sink).expect("request");
        assert_eq!(a.body, b"abcde");
        assert!(sink.starts_with(b"HTTP/1.1 100 Continue"));
    }

    #[test]
    fn rejects_garbage() {
        let mut sink = Vec::new();
        let mut r = Cursor::new(&b"NONSENSE\r\n\r\n"[..]);
        assert!(matches!(
            read_request(&mut r, &mut sink),
            Err(ReadError::Bad(_))
        ));
    }
}
