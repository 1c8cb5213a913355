//! Writing one HTTP/1.1 response to a client on any `impl Write`. Every response
//! is framed by `Content-Length` and closes the connection.

use std::io::Write;

/// A response for the client.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers (framing headers are added by [`write`]).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON `{"message": ...}` answer made by the proxy itself, marked with
    /// `X-Central-Auth-Proxy` so it is never mistaken for Central's.
    pub fn message(status: u16, message: &str) -> Reply {
        let body = serde_json::json!({ "message": message })
            .to_string()
            .into_bytes();
        Reply {
            status,
            headers: vec![
                ("Content-Type".to_owned(), "application/json".to_owned()),
                ("X-Central-Auth-Proxy".to_owned(), "1".to_owned()),
            ],
            body,
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Writes `reply`; with `head_only` (a HEAD request) the body is not sent.
pub fn write(w: &mut impl Write, reply: &Reply, head_only: bool) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(256 + reply.body.len());
    out.extend_from_slice(
        format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status)).as_bytes(),
    );
    for (k, v) in &reply.headers {
        if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
            continue;
        }
        out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            reply.body.len()
        )
        .as_bytes(),
    );
    if !head_only {
        out.extend_from_slice(&reply.body);
    }
    w.write_all(&out)?;
    w.flush()
}

/// The reason phrase of common statuses.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
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
    fn frames_with_content_length_and_close() {
        let mut out = Vec::new();
        let r = Reply::message(429, "busy").with_header("Retry-After", "1");
        write(&mut out, &r, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
        assert!(text.contains("Retry-After: 1\r\n"));
        assert!(text.contains("Connection: close\r\n\r\n{\"message\":\"busy\"}"));
        let mut head = Vec::new();
        write(&mut head, &r, true).unwrap();
        assert!(String::from_utf8(head).unwrap().ends_with("\r\n\r\n"));
    }
}
