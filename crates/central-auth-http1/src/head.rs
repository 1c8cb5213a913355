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
use crate::head_rules::build_head;
use crate::limits::Limits;
use crate::parsed::Parsed;
use crate::request_head::RequestHead;
use crate::tokenizer::tokenizer_error;

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
