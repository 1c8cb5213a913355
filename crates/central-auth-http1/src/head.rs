//! The request head: an incremental, strict parse of the request line and the
//! header section into a [`RequestHead`].
//!
//! A byte scan that goes left to right finds the end of the head, the first
//! bare LF, or the size cap, whichever comes first. httparse tokenises the
//! complete lines seen so far (so its errors come before any later bare LF),
//! and the RFC 9112 rules are checked once the head is complete. Every
//! decision depends only on bytes before the point where it is made, so the
//! answer for a buffer never changes when more bytes arrive, whatever the
//! read sizes.

use crate::error::{Malformed, RequestError};
use crate::fields::{self, FieldLineError};
use crate::target::{check_authority, parse_target, Target};
use crate::{Limits, Parsed};

/// The HTTP version of a request (RFC 9112 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `HTTP/1.0`.
    Http10,
    /// `HTTP/1.1`.
    Http11,
}

impl Version {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// How the body that follows the head is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No `Content-Length` nor `Transfer-Encoding`: no body.
    None,
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl Framing {
    /// Whether body bytes follow the head.
    pub fn has_body(&self) -> bool {
        matches!(self, Framing::Chunked) || matches!(self, Framing::Length(n) if *n > 0)
    }
}

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

/// Parses the head at the start of `buf`.
///
/// `Partial` means more bytes are needed; `Complete(head, n)` means the head
/// is `buf[..n]` and the body (or the next request) starts at `n`. Once the
/// answer is not `Partial` it stays the same for any longer buffer with the
/// same prefix. A buffer already `max_head_bytes` long without a complete
/// head is refused (431), so a caller never holds more than that (plus one
/// read) for a head.
///
/// Each call looks at the whole buffer again: a caller that calls once per
/// arriving read should keep a [`HeadParser`], which looks at each byte once.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Parsed<RequestHead>, RequestError> {
    HeadParser::new(*limits).parse(buf)
}

/// [`parse_head`] for a buffer that grows between calls: it remembers how far
/// it has looked, so a head trickled in one byte per read costs time linear
/// in its size (plus one httparse pass per completed line), not quadratic.
///
/// Give every call the same buffer, grown at the end; use a new parser (or
/// [`HeadParser::reset`]) for the next request. A shorter buffer, or one that
/// starts differently, makes it start over; other changes to bytes it has
/// already looked at go unnoticed.
#[derive(Debug, Clone)]
pub struct HeadParser {
    limits: Limits,
    /// Offset of the request line: 2 after the one ignored empty line.
    start: usize,
    /// Bytes already scanned without a stop (no LF among
    /// `buf[line_start..scanned]`).
    scanned: usize,
    /// Start of the line being scanned.
    line_start: usize,
    /// End of the complete lines httparse last answered `Partial` for.
    tokenized: usize,
    /// A copy of the first bytes seen, to notice a different buffer.
    first: [u8; 2],
}

impl HeadParser {
    /// A parser for one request head.
    pub fn new(limits: Limits) -> HeadParser {
        HeadParser {
            limits,
            start: 0,
            scanned: 0,
            line_start: 0,
            tokenized: 0,
            first: [0; 2],
        }
    }

    /// Forgets the bytes seen, for the next request.
    pub fn reset(&mut self) {
        *self = HeadParser::new(self.limits);
    }

    /// Parses `buf` (the previous call's buffer with bytes added at the end).
    pub fn parse(&mut self, buf: &[u8]) -> Result<Parsed<RequestHead>, RequestError> {
        let limits = self.limits;
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before
        // the request line. Exactly one is ignored; a second is refused.
        let start = if buf.starts_with(b"\r\n") { 2 } else { 0 };
        let first = [
            buf.first().copied().unwrap_or(0),
            buf.get(1).copied().unwrap_or(0),
        ];
        if buf.len() < 2 || buf.len() < self.scanned || start != self.start || first != self.first {
            self.reset();
            self.start = start;
            self.scanned = start;
            self.line_start = start;
            self.tokenized = start;
            self.first = first;
        }
        let scan = scan(
            buf,
            start,
            &mut self.line_start,
            &mut self.scanned,
            limits.max_head_bytes,
        )?;
        let region_end = match scan {
            Scan::Complete(end) => end,
            Scan::BareLf | Scan::TooLarge | Scan::More => self.line_start,
        };
        // httparse already read these lines and asked for more.
        if scan == Scan::More && region_end == self.tokenized {
            return Ok(Parsed::Partial);
        }
        let region = &buf[start..region_end];
        // Never more slots than a capped head can hold lines ("a:" CRLF is 4 bytes).
        let slots = limits.max_headers.min(limits.max_head_bytes / 4 + 1);
        let mut headers = vec![httparse::EMPTY_HEADER; slots];
        let mut request = httparse::Request::new(&mut headers);
        let parsed = request
            .parse(region)
            .map_err(|e| tokenizer_error(e, region, &limits))?;
        let consumed = match (parsed, scan) {
            (httparse::Status::Complete(n), Scan::Complete(end)) if start + n == end => end,
            // httparse finds the same end on CRLF-only lines; anything else is
            // a shape the scan and the tokenizer read differently: refuse it.
            (httparse::Status::Complete(_), _) | (httparse::Status::Partial, Scan::Complete(_)) => {
                return Err(Malformed::RequestLine.into())
            }
            // RFC 9112 §2.2: a bare LF is refused, never treated as a line end.
            (httparse::Status::Partial, Scan::BareLf) => return Err(Malformed::BareLf.into()),
            (httparse::Status::Partial, Scan::TooLarge) => {
                return Err(RequestError::HeadTooLarge {
                    limit: limits.max_head_bytes,
                })
            }
            (httparse::Status::Partial, Scan::More) => {
                self.tokenized = region_end;
                return Ok(Parsed::Partial);
            }
        };
        let head = build_head(&request, &limits)?;
        Ok(Parsed::Complete(head, consumed))
    }
}

/// Where the left-to-right scan of the head stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// The empty line that ends the head ends at this offset.
    Complete(usize),
    /// A LF without CR.
    BareLf,
    /// `max_head_bytes` bytes without the end of the head.
    TooLarge,
    /// Need more bytes.
    More,
}

/// Scans `buf` from `*scanned` up to `cap` bytes, lines starting at `start`.
/// Leaves `*line_start` at the end of the last complete (CRLF-terminated)
/// line before the stop, and `*scanned` where the next call goes on.
fn scan(
    buf: &[u8],
    start: usize,
    line_start: &mut usize,
    scanned: &mut usize,
    cap: usize,
) -> Result<Scan, Malformed> {
    let limit = buf.len().min(cap);
    while let Some(offset) = buf
        .get(*scanned..limit)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let lf = *scanned + offset;
        if lf == 0 || buf[lf - 1] != b'\r' {
            return Ok(Scan::BareLf);
        }
        if lf == *line_start + 1 {
            if *line_start == start {
                return Err(Malformed::LeadingEmptyLines);
            }
            return Ok(Scan::Complete(lf + 1));
        }
        *line_start = lf + 1;
        *scanned = lf + 1;
    }
    *scanned = (*scanned).max(limit);
    if buf.len() >= cap {
        Ok(Scan::TooLarge)
    } else {
        Ok(Scan::More)
    }
}

/// Names what httparse refused in `region` (complete lines only).
fn tokenizer_error(e: httparse::Error, region: &[u8], limits: &Limits) -> RequestError {
    match e {
        httparse::Error::TooManyHeaders => RequestError::TooManyHeaders {
            limit: limits.max_headers,
        },
        httparse::Error::Version => {
            // RFC 9112 §2.3: a well-formed version we do not speak is 505;
            // anything else in its place is a malformed request line.
            let line = region.split(|&b| b == b'\r').next().unwrap_or_default();
            let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
            match parts.as_slice() {
                [_, _, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]]
                    if major.is_ascii_digit() && minor.is_ascii_digit() =>
                {
                    RequestError::UnsupportedVersion
                }
                _ => Malformed::RequestLine.into(),
            }
        }
        httparse::Error::HeaderName => header_name_error(region).into(),
        httparse::Error::HeaderValue => Malformed::HeaderValue.into(),
        httparse::Error::NewLine => newline_error(region).into(),
        httparse::Error::Token | httparse::Error::Status => Malformed::RequestLine.into(),
    }
}

/// httparse says `NewLine` when something other than CRLF ends the request
/// line (`HTTP/1.1 x`) and for a CR without LF at the start of a line (in
/// a value it says `HeaderValue`). Only the first line tells which.
fn newline_error(region: &[u8]) -> Malformed {
    let first_end = region
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(region.len());
    let first = &region[..first_end];
    let mut no_headers = [];
    let in_first_line = httparse::Request::new(&mut no_headers)
        .parse(region.get(..first_end + 2).unwrap_or(region))
        .is_err();
    if in_first_line && !first.contains(&b'\r') {
        Malformed::RequestLine
    } else {
        Malformed::BareCr
    }
}

/// httparse refuses a line starting with whitespace and a name followed by
/// whitespace alike; the first offending header line says which it was.
fn header_name_error(region: &[u8]) -> Malformed {
    let lines = region.split(|&b| b == b'\n').skip(1);
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match fields::check_field_line(line) {
            // RFC 9112 §5.2: obsolete line folding is refused in requests.
            Err(FieldLineError::ObsFold) => return Malformed::ObsFold,
            // RFC 9112 §5.1: no whitespace between name and colon.
            Err(FieldLineError::Name) => return Malformed::HeaderName,
            Err(FieldLineError::Value) | Ok(()) => {}
        }
    }
    Malformed::HeaderName
}

/// Applies the rules that need the whole head.
fn build_head(
    request: &httparse::Request<'_, '_>,
    limits: &Limits,
) -> Result<RequestHead, RequestError> {
    let (Some(method), Some(path), Some(minor)) = (request.method, request.path, request.version)
    else {
        return Err(Malformed::RequestLine.into());
    };
    let version = match minor {
        0 => Version::Http10,
        1 => Version::Http11,
        _ => return Err(RequestError::UnsupportedVersion),
    };
    // RFC 9112 §3: the method is a token (httparse checks it too).
    if !fields::is_token(method.as_bytes()) {
        return Err(Malformed::RequestLine.into());
    }
    let target = parse_target(method, path)?;
    let mut headers = Vec::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        // RFC 9110 §5.5: CR, LF and NUL never belong in a value (httparse
        // refuses them and every other control but HTAB already).
        if !h.value.iter().all(|&b| fields::is_field_value_byte(b)) {
            return Err(Malformed::HeaderValue.into());
        }
        let value = std::str::from_utf8(h.value).map_err(|_| Malformed::HeaderValueUtf8)?;
        headers.push((h.name.to_owned(), fields::trim_ows(value).to_owned()));
    }
    let named = |name: &str| -> Vec<&str> {
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1 (at most one in 1.0), with a
    // valid value; otherwise 400.
    match (named("host").as_slice(), version) {
        ([], Version::Http11) => return Err(Malformed::MissingHost.into()),
        ([], Version::Http10) => {}
        ([host], _) => check_authority(host, false)?,
        _ => return Err(Malformed::DuplicateHost.into()),
    }
    let framing = fields::framing(
        version,
        &named("content-length"),
        &named("transfer-encoding"),
        limits,
    )?;
    Ok(RequestHead {
        method: method.to_owned(),
        target,
        version,
        headers,
        framing,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    fn parse(raw: &[u8]) -> Result<Parsed<RequestHead>, RequestError> {
        parse_head(raw, &limits())
    }

    fn head(raw: &[u8]) -> RequestHead {
        match parse(raw) {
            Ok(Parsed::Complete(h, n)) => {
                assert_eq!(n, raw.len(), "whole buffer is the head");
                h
            }
            other => panic!("not complete: {other:?}"),
        }
    }

    fn refused(raw: &[u8]) -> RequestError {
        match parse(raw) {
            Err(e) => e,
            other => panic!("accepted: {other:?}"),
        }
    }

    fn bad(m: Malformed) -> RequestError {
        RequestError::Malformed(m)
    }

    #[test]
    fn parses_a_request_and_stops_at_the_body() {
        let raw = b"POST /oauth2/token?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Length: 3\r\nX-Two:  a b \t\r\n\r\nabcGET";
        let Ok(Parsed::Complete(h, n)) = parse(raw) else {
            panic!("not complete")
        };
        assert_eq!(&raw[n..], b"abcGET");
        assert_eq!(h.method, "POST");
        assert_eq!(h.target, Target::Origin("/oauth2/token?a=1".into()));
        assert_eq!(h.version, Version::Http11);
        assert_eq!(h.framing, Framing::Length(3));
        assert_eq!(h.header("x-two"), Some("a b"));
        assert_eq!(h.host(), Some("127.0.0.1:8080"));
        assert_eq!(h.headers[0].0, "Host", "names kept as sent");
        assert!(h.keep_alive());
        assert!(!h.expects_continue());
    }

    #[test]
    fn every_prefix_is_partial() {
        let raw = b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        for end in 0..raw.len() {
            assert_eq!(parse(&raw[..end]), Ok(Parsed::Partial), "prefix {end}");
        }
        assert!(matches!(parse(raw), Ok(Parsed::Complete(_, n)) if n == raw.len()));
    }

    #[test]
    fn debug_shows_no_header_value_nor_query() {
        let h = head(b"GET /p?access_token=SECRET1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET2\r\n\r\n");
        let debug = format!("{h:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
        assert!(debug.contains("Authorization"), "{debug}");
    }

    // RFC 9112 §2.2: CRLF only; a bare LF anywhere in the head is refused,
    // also before the head is complete.
    #[test]
    fn bare_lf_is_refused() {
        assert_eq!(
            refused(b"GET / HTTP/1.1\nHost: x\r\n\r\n"),
            bad(Malformed::BareLf)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\n\r\n"),
            bad(Malformed::BareLf)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\n\n"),
            bad(Malformed::BareLf)
        );
        assert_eq!(
            refused(b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::BareLf)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nA: b\nB"),
            bad(Malformed::BareLf)
        );
    }

    // RFC 9112 §2.2: a CR only as part of CRLF.
    #[test]
    fn bare_cr_is_refused() {
        let e = refused(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n");
        assert_eq!(e.status(), Some(400));
        assert_eq!(
            refused(b"\rGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::BareCr)
        );
    }

    // RFC 9112 §2.2: one empty line before the request line is ignored, a
    // second one is refused.
    #[test]
    fn one_leading_empty_line_is_tolerated() {
        let h = head(b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(h.method, "GET");
        assert_eq!(
            refused(b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::LeadingEmptyLines)
        );
    }

    // RFC 9112 §5.2: obsolete line folding is refused.
    #[test]
    fn obs_fold_is_refused() {
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"),
            bad(Malformed::ObsFold)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\tc\r\n\r\n"),
            bad(Malformed::ObsFold)
        );
        // Detected as soon as the folded line is complete.
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\n c\r\n"),
            bad(Malformed::ObsFold)
        );
    }

    // RFC 9112 §5.1 and RFC 9110 §5.1: names are tokens, no space before the colon.
    #[test]
    fn header_names_are_tokens() {
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
            bad(Malformed::HeaderName)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n"),
            bad(Malformed::HeaderName)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHo(st: x\r\n\r\n"),
            bad(Malformed::HeaderName)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\n: x\r\n\r\n"),
            bad(Malformed::HeaderName)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nnocolon\r\n\r\n"),
            bad(Malformed::HeaderName)
        );
    }

    // RFC 9110 §5.5: values are UTF-8 here, with no CR, LF, NUL or other controls.
    #[test]
    fn header_values_are_clean_utf8() {
        let h = head("GET / HTTP/1.1\r\nHost: x\r\nX: caf\u{e9}\r\n\r\n".as_bytes());
        assert_eq!(h.header("x"), Some("caf\u{e9}"));
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: \xff\xfe\r\n\r\n"),
            bad(Malformed::HeaderValueUtf8)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"),
            bad(Malformed::HeaderValue)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n"),
            bad(Malformed::HeaderValue)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fb\r\n\r\n"),
            bad(Malformed::HeaderValue)
        );
    }

    // RFC 9112 §3: METHOD SP target SP version, single spaces, method a token.
    #[test]
    fn request_line_shape() {
        for raw in [
            &b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"GET /  HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
            b" GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
            b"GET /\r\nHost: x\r\n\r\n",
            b"GET / http/1.1\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1.10\r\nHost: x\r\n\r\n",
        ] {
            assert_eq!(
                refused(raw),
                bad(Malformed::RequestLine),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    // RFC 9112 §2.3 and RFC 9110 §15.6.6: other versions get 505.
    #[test]
    fn other_versions_get_505() {
        for raw in [
            &b"GET / HTTP/2.0\r\n\r\n"[..],
            b"GET / HTTP/1.2\r\nHost: x\r\n\r\n",
            b"GET / HTTP/0.9\r\n\r\n",
        ] {
            let e = refused(raw);
            assert_eq!(e, RequestError::UnsupportedVersion);
            assert_eq!(e.status(), Some(505));
        }
        let h = head(b"GET / HTTP/1.0\r\n\r\n");
        assert_eq!(h.version, Version::Http10);
    }

    // RFC 9112 §3.2: the target forms (details in target.rs).
    #[test]
    fn target_rules_apply_to_the_head() {
        assert_eq!(
            refused(b"GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::TargetFragment)
        );
        assert_eq!(
            refused(b"GET a/b HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::TargetForm)
        );
        assert_eq!(
            refused(b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::AsteriskNotOptions)
        );
        assert_eq!(
            refused(b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::TargetCharacter)
        );
        assert_eq!(
            refused(b"GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n"),
            bad(Malformed::RequestLine)
        );
        let h = head(b"GET http://evil.example/p HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assert_eq!(
            h.target,
            Target::Absolute {
                scheme: "http".into(),
                authority: "evil.example".into(),
                path_and_query: "/p".into()
            }
        );
        let h = head(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
        assert_eq!(h.target, Target::Authority("h:443".into()));
        let h = head(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(h.target, Target::Asterisk);
    }

    // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0,
    // with a valid value.
    #[test]
    fn host_rules() {
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\n\r\n"),
            bad(Malformed::MissingHost)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
            bad(Malformed::DuplicateHost)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
            bad(Malformed::DuplicateHost)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
            bad(Malformed::Authority)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"),
            bad(Malformed::Authority)
        );
        assert_eq!(
            refused(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"),
            bad(Malformed::Authority)
        );
        assert_eq!(head(b"GET / HTTP/1.0\r\n\r\n").host(), None);
        assert_eq!(head(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").host(), Some(""));
        assert_eq!(
            head(b"GET / HTTP/1.1\r\nHOST: [::1]:9\r\n\r\n").host(),
            Some("[::1]:9")
        );
    }

    // RFC 9112 §6.3 and RFC 9110 §8.6: one Content-Length of plain digits.
    #[test]
    fn content_length_rules() {
        let cl = |v: &str| {
            parse(format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {v}\r\n\r\n").as_bytes())
        };
        assert!(matches!(cl("0"), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Length(0)));
        assert!(
            matches!(cl(" 12 "), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Length(12))
        );
        for v in [
            "5, 5",
            "+5",
            "-1",
            "0x10",
            "5a",
            "",
            "184467440737095516160",
        ] {
            assert_eq!(cl(v), Err(bad(Malformed::InvalidContentLength)), "{v}");
        }
        assert_eq!(
            refused(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"
            ),
            bad(Malformed::DuplicateContentLength)
        );
        assert_eq!(
            refused(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n"
            ),
            bad(Malformed::DuplicateContentLength)
        );
        let big = cl(&(Limits::default().max_body_bytes + 1).to_string());
        assert_eq!(
            big,
            Err(RequestError::BodyTooLarge {
                limit: Limits::default().max_body_bytes
            })
        );
        assert_eq!(big.map(|_| ()).unwrap_err().status(), Some(413));
    }

    // RFC 9112 §6.1 and §6.3: Transfer-Encoding rules.
    #[test]
    fn transfer_encoding_rules() {
        let te = |v: &str| {
            parse(
                format!("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {v}\r\n\r\n").as_bytes(),
            )
        };
        assert!(
            matches!(te("chunked"), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Chunked)
        );
        assert!(
            matches!(te("ChunKed"), Ok(Parsed::Complete(h, _)) if h.framing == Framing::Chunked)
        );
        for v in [
            "gzip, chunked",
            "chunked, chunked",
            "chunked;x=1",
            "identity, chunked",
        ] {
            let e = te(v).map(|_| ()).unwrap_err();
            assert_eq!(e, RequestError::UnsupportedTransferEncoding, "{v}");
            assert_eq!(e.status(), Some(501));
        }
        for v in ["gzip", "chunked, gzip", "", "identity"] {
            assert_eq!(te(v), Err(bad(Malformed::ChunkedNotFinal)), "{v}");
        }
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
            RequestError::UnsupportedTransferEncoding
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            bad(Malformed::TransferEncodingWithContentLength)
        );
        assert_eq!(
            refused(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            bad(Malformed::TransferEncodingWithContentLength)
        );
        assert_eq!(
            refused(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            bad(Malformed::TransferEncodingInHttp10)
        );
    }

    // Head size and header count caps: 431, also on a partial buffer.
    #[test]
    fn head_caps() {
        let small = Limits {
            max_head_bytes: 64,
            max_headers: 2,
            max_body_bytes: 10,
        };
        let too_big = RequestError::HeadTooLarge { limit: 64 };
        let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
        raw.resize(63, b'a');
        assert_eq!(parse_head(&raw, &small), Ok(Parsed::Partial));
        raw.push(b'a');
        assert_eq!(parse_head(&raw, &small), Err(too_big));
        assert_eq!(too_big.status(), Some(431));
        // Exactly at the cap is fine.
        let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX: ".to_vec();
        raw.resize(60, b'a');
        raw.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(
            parse_head(&raw, &small),
            Ok(Parsed::Complete(_, 64))
        ));
        // A third header line, complete or not yet.
        let many = b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n";
        assert_eq!(
            parse_head(many, &small),
            Err(RequestError::TooManyHeaders { limit: 2 })
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\n\r\n", &small)
                .map(|p| matches!(p, Parsed::Complete(..))),
            Ok(true)
        );
        assert_eq!(
            RequestError::TooManyHeaders { limit: 2 }.status(),
            Some(431)
        );
    }

    #[test]
    fn keep_alive_and_continue() {
        let ka = |raw: &[u8]| head(raw).keep_alive();
        assert!(ka(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n"
        ));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nConnection: x, close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"
        ));
        assert!(head(
            b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"
        )
        .expects_continue());
        assert!(
            !head(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
                .expects_continue()
        );
    }

    #[test]
    fn headers_named_in_order() {
        let h = head(b"GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nb: 2\r\na: 3\r\n\r\n");
        assert_eq!(h.headers_named("A").collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(h.header("B"), Some("2"));
        assert_eq!(h.header("c"), None);
    }

    /// Whatever the head, every prefix answers `Partial` or the same as the
    /// whole buffer (the fuzz target checks this on arbitrary bytes).
    #[test]
    fn prefixes_never_disagree_with_the_whole() {
        let samples: &[&[u8]] = &[
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody",
            b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"\r\n\r\nGET / HTTP/1.1\r\n",
            b"GET / HTTP/2.0\r\nA: b\nx",
            b"GET / HTTP/1.1 \r\nA: b\r\n\rx\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: b\r\n\rx\r\n\r\n",
            b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD\n",
            b"GET / HTTP/1.1\r\nHost : x\r\n c\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\n c\r\nX : y\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ];
        let small = Limits {
            max_head_bytes: 64,
            max_headers: 2,
            max_body_bytes: 10,
        };
        for limits in [Limits::default(), small] {
            for raw in samples {
                let whole = parse_head(raw, &limits);
                let mut parser = HeadParser::new(limits);
                for end in 0..raw.len() {
                    let part = parse_head(&raw[..end], &limits);
                    assert!(
                        part == Ok(Parsed::Partial) || part == whole,
                        "{:?} at {end}: {part:?} vs {whole:?}",
                        String::from_utf8_lossy(raw)
                    );
                    // The stateful parser, one byte more each call, agrees.
                    assert_eq!(parser.parse(&raw[..end]), part, "parser at {end}");
                }
                assert_eq!(parser.parse(raw), whole);
            }
        }
    }

    #[test]
    fn head_parser_starts_over_on_another_buffer() {
        let mut parser = HeadParser::new(limits());
        assert_eq!(parser.parse(b"GET / HTTP/1.1\r\nHo"), Ok(Parsed::Partial));
        let other = b"PUT /x HTTP/1.1\r\nHost: y\r\n\r\n";
        assert_eq!(parser.parse(other), parse(other));
        parser.reset();
        assert_eq!(parser.parse(b"GET / HTTP/1.1\r\n"), Ok(Parsed::Partial));
        assert_eq!(parser.parse(b"G"), Ok(Parsed::Partial));
        // A shorter buffer, and a longer one that starts differently, are
        // read from their first byte.
        let partial = b"GET / HTTP/1.1\r\nHost: x\r\nA: bbbbbbb";
        assert_eq!(parser.parse(partial), Ok(Parsed::Partial));
        assert_eq!(parser.parse(b"GE\n"), Err(bad(Malformed::BareLf)));
        assert_eq!(parser.parse(partial), Ok(Parsed::Partial));
        let other = b"G\nT / HTTP/1.1\r\nHost: x\r\nA: bbbbbbbbbbbbbb";
        assert_eq!(parser.parse(other), Err(bad(Malformed::BareLf)));
    }

    #[test]
    fn messages_are_one_line_and_echo_nothing() {
        let e = refused(b"GET / HTTP/1.1\r\nHost: x\r\nX-Secret: hunter2\x01\r\n\r\n");
        assert!(!e.message().contains("hunter2"));
        assert!(!e.message().contains('\n'));
    }
}
