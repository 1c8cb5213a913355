//! Reading one HTTP/1.1 request from a client, on any `impl BufRead`, with caps
//! on the head and body so a client cannot make the proxy hold unbounded memory.

use std::io::{BufRead, Read};

/// Largest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most headers in one request.
pub const MAX_HEADERS: usize = 100;
/// Largest request body.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The request line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Method, as sent (upper case expected).
    pub method: String,
    /// Origin-form target (`/path?query`); an absolute `http://host/...` target
    /// is reduced to its path.
    pub target: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client waits for `100 Continue` before sending its body.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

/// Why a request could not be read; each maps to the status answered.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The client closed the connection before sending anything.
    Closed,
    /// Malformed request (400).
    Bad(&'static str),
    /// Head larger than [`MAX_HEAD_BYTES`] or too many headers (431).
    HeadTooLarge,
    /// Body larger than [`MAX_BODY_BYTES`] (413).
    BodyTooLarge,
    /// Chunked upload: the proxy needs a `Content-Length` (411).
    LengthRequired,
    /// Not HTTP/1.0 or HTTP/1.1 (505).
    Version,
    /// Read failed or timed out.
    Io(std::io::ErrorKind),
}

impl ParseError {
    /// The status answered for this error, if any (none for a closed or broken
    /// connection).
    pub fn status(&self) -> Option<u16> {
        match self {
            ParseError::Closed | ParseError::Io(_) => None,
            ParseError::Bad(_) => Some(400),
            ParseError::HeadTooLarge => Some(431),
            ParseError::BodyTooLarge => Some(413),
            ParseError::LengthRequired => Some(411),
            ParseError::Version => Some(505),
        }
    }

    /// One line for the client and the log.
    pub fn message(&self) -> String {
        match self {
            ParseError::Closed => "connection closed".to_owned(),
            ParseError::Bad(why) => format!("bad request: {why}"),
            ParseError::HeadTooLarge => {
                format!("request head larger than {MAX_HEAD_BYTES} bytes or more than {MAX_HEADERS} headers")
            }
            ParseError::BodyTooLarge => format!("request body larger than {MAX_BODY_BYTES} bytes"),
            ParseError::LengthRequired => {
                "chunked request bodies are not supported; send Content-Length".to_owned()
            }
            ParseError::Version => "only HTTP/1.0 and HTTP/1.1 are supported".to_owned(),
            ParseError::Io(kind) => format!("read failed: {kind}"),
        }
    }
}

/// Reads the request line and headers.
pub fn read_head(r: &mut impl BufRead) -> Result<Head, ParseError> {
    let mut used = 0usize;
    let mut line = next_line(r, &mut used)?;
    // RFC 9112 §2.2: ignore empty lines before the request line.
    while line.is_empty() {
        line = next_line(r, &mut used)?;
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::Bad(
            "request line is not `METHOD TARGET HTTP/1.1`",
        ));
    };
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(ParseError::Version);
    }
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(ParseError::Bad("invalid method"));
    }
    let target = origin_form(target)?;
    let mut headers = Vec::new();
    loop {
        let line = next_line(r, &mut used)?;
        if line.is_empty() {
            break;
        }
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::HeadTooLarge);
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ParseError::Bad("header line without `:`"));
        };
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(ParseError::Bad("invalid header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let head = Head {
        method: method.to_owned(),
        target,
        headers,
    };
    if head
        .header("transfer-encoding")
        .is_some_and(|v| !v.eq_ignore_ascii_case("identity"))
    {
        return Err(ParseError::LengthRequired);
    }
    Ok(head)
}

/// Reads the body announced by `Content-Length` (none without it).
pub fn read_body(r: &mut impl Read, head: &Head) -> Result<Vec<u8>, ParseError> {
    let Some(len) = head.header("content-length") else {
        return Ok(Vec::new());
    };
    let len: usize = len
        .trim()
        .parse()
        .map_err(|_| ParseError::Bad("invalid Content-Length"))?;
    if len > MAX_BODY_BYTES {
        return Err(ParseError::BodyTooLarge);
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)
        .map_err(|e| ParseError::Io(e.kind()))?;
    Ok(body)
}

fn origin_form(target: &str) -> Result<String, ParseError> {
    if target.starts_with('/') {
        return Ok(target.to_owned());
    }
    // Absolute form, as sent to an HTTP proxy: keep the path and query only.
    if let Some(rest) = target.strip_prefix("http://") {
        return Ok(match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        });
    }
    Err(ParseError::Bad(
        "target must be a path like /monitoring/v1/aps",
    ))
}

/// One line without its CRLF (or LF), counting against the head cap.
fn next_line(r: &mut impl BufRead, used: &mut usize) -> Result<String, ParseError> {
    let mut buf = Vec::new();
    let limit = (MAX_HEAD_BYTES - *used) as u64 + 1;
    let n = r
        .take(limit)
        .read_until(b'\n', &mut buf)
        .map_err(|e| ParseError::Io(e.kind()))?;
    if n == 0 {
        return Err(if *used == 0 {
            ParseError::Closed
        } else {
            ParseError::Bad("connection closed inside the request head")
        });
    }
    *used += n;
    if *used > MAX_HEAD_BYTES {
        return Err(ParseError::HeadTooLarge);
    }
    if buf.last() != Some(&b'\n') {
        return Err(ParseError::Bad("connection closed inside the request head"));
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf).map_err(|_| ParseError::Bad("request head is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8]) -> Result<(Head, Vec<u8>), ParseError> {
        let mut r = raw;
        let head = read_head(&mut r)?;
        let body = read_body(&mut r, &head)?;
        Ok((head, body))
    }

    #[test]
    fn reads_head_and_body() {
        let (h, b) = parse(
            b"POST /configuration/v2/groups?limit=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nAuthorization: Bearer old\r\n\r\nabcdEXTRA",
        )
        .unwrap();
        assert_eq!(h.method, "POST");
        assert_eq!(h.target, "/configuration/v2/groups?limit=2");
        assert_eq!(h.header("authorization"), Some("Bearer old"));
        assert_eq!(b, b"abcd");
    }

    #[test]
    fn absolute_form_becomes_a_path() {
        let (h, _) = parse(b"GET http://127.0.0.1:1/a/b?x=1 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(h.target, "/a/b?x=1");
    }

    #[test]
    fn rejects_bad_input_with_the_right_status() {
        assert_eq!(parse(b"").unwrap_err(), ParseError::Closed);
        assert_eq!(
            parse(b"GET / HTTP/2\r\n\r\n").unwrap_err().status(),
            Some(505)
        );
        assert_eq!(parse(b"GET /\r\n\r\n").unwrap_err().status(), Some(400));
        assert_eq!(
            parse(b"GET x HTTP/1.1\r\n\r\n").unwrap_err().status(),
            Some(400)
        );
        assert_eq!(
            parse(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap_err()
                .status(),
            Some(411)
        );
        let big = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY_BYTES + 1
        );
        assert_eq!(parse(big.as_bytes()).unwrap_err().status(), Some(413));
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES));
        assert_eq!(parse(&long).unwrap_err().status(), Some(431));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("H{i}: v\r\n")).collect();
        let req = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse(req.as_bytes()).unwrap_err().status(), Some(431));
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .unwrap_err()
                .status(),
            Some(400)
        );
    }
}
