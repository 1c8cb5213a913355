//! Names what httparse refused: its error kinds mapped onto the crate's
//! [`Malformed`] reasons and statuses, looking at the complete lines only.

use crate::error::{Malformed, RequestError};
use crate::fields::{self, FieldLineError};
use crate::limits::Limits;

/// Names what httparse refused in `region` (complete lines only).
pub(crate) fn tokenizer_error(e: httparse::Error, region: &[u8], limits: &Limits) -> RequestError {
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
