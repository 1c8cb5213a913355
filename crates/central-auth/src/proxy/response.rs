//! Encoding one HTTP/1.1 response for a client. Bodies are framed by
//! `Content-Length` (none for 1xx, 204 and 304, which have no body); the
//! `Connection` header says whether the connection stays open: nothing for
//! an HTTP/1.1 keep-alive, `keep-alive` for HTTP/1.0, `close` otherwise.

/// A response for the client.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers (framing headers are added by [`encode`]).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON `{"message": ...}` answer made by the proxy itself, marked with
    /// `X-Central-Auth-Proxy` so it is never mistaken for Central's.
    pub fn message(status: u16, message: &str) -> Reply {
        Reply::json(status, &serde_json::json!({ "message": message }))
    }

    /// A JSON answer made by the proxy itself.
    pub fn json(status: u16, value: &serde_json::Value) -> Reply {
        Reply {
            status,
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("X-Central-Auth-Proxy".to_owned(), "1".to_owned()),
            ],
            body: value.to_string().into_bytes(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// What the `Connection` header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persist {
    /// The connection closes after this response.
    Close,
    /// HTTP/1.1 keep-alive (the default: no header).
    KeepAlive11,
    /// HTTP/1.0 keep-alive (`Connection: keep-alive`).
    KeepAlive10,
}

/// The response bytes; with `head_only` (a HEAD request) without the body.
pub fn encode(reply: &Reply, head_only: bool, persist: Persist) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + reply.body.len());
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status)).as_bytes(),
    );
    // A HEAD answer may carry the upstream's length of the body it omits
    // (RFC 9110 §8.6); any other length header is the proxy's own.
    let mut length_given = false;
    for (k, v) in &reply.headers {
        if k.contains(['\r', '\n', ':']) || v.contains(['\r', '\n']) {
            continue;
        }
        if k.eq_ignore_ascii_case("content-length") {
            if !head_only || length_given {
                continue;
            }
            length_given = true;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    let bodiless = reply.status < 200 || reply.status == 204 || reply.status == 304;
    if !bodiless && !length_given {
        out.extend_from_slice(format!("Content-Length: {}\r\n", reply.body.len()).as_bytes());
    }
    match persist {
        Persist::Close => out.extend_from_slice(b"Connection: close\r\n"),
        Persist::KeepAlive10 => out.extend_from_slice(b"Connection: keep-alive\r\n"),
        Persist::KeepAlive11 => {}
    }
    out.extend_from_slice(b"\r\n");
    if !head_only && !bodiless {
        out.extend_from_slice(&reply.body);
    }
    out
}

/// The reason phrase of common statuses.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_by_length_and_says_whether_the_connection_stays() {
        let r = Reply::message(429, "busy").with_header("Retry-After", "1");
        let text = String::from_utf8(encode(&r, false, Persist::Close)).unwrap();
        assert!(text.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
        assert!(text.contains("Retry-After: 1\r\n"));
        assert!(
            text.ends_with("Content-Length: 18\r\nConnection: close\r\n\r\n{\"message\":\"busy\"}")
        );
        let kept = String::from_utf8(encode(&r, false, Persist::KeepAlive11)).unwrap();
        assert!(!kept.contains("Connection:"), "{kept}");
        let old = String::from_utf8(encode(&r, true, Persist::KeepAlive10)).unwrap();
        assert!(old.ends_with("Content-Length: 18\r\nConnection: keep-alive\r\n\r\n"));
        let none = Reply {
            status: 204,
            headers: vec![("Bad\r\nName".into(), "x".into())],
            body: b"ignored".to_vec(),
        };
        let text = String::from_utf8(encode(&none, false, Persist::KeepAlive11)).unwrap();
        assert_eq!(text, "HTTP/1.1 204 No Content\r\n\r\n");
    }

    #[test]
    fn a_head_answer_keeps_the_upstream_length_and_nothing_else_does() {
        let upstream = Reply {
            status: 200,
            headers: vec![("content-length".into(), "2792".into())],
            body: Vec::new(),
        };
        let head = String::from_utf8(encode(&upstream, true, Persist::KeepAlive11)).unwrap();
        assert_eq!(head, "HTTP/1.1 200 OK\r\ncontent-length: 2792\r\n\r\n");
        let get = String::from_utf8(encode(&upstream, false, Persist::KeepAlive11)).unwrap();
        assert_eq!(get, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }
}
