//! The message-body length rules of RFC 9112 §6 that turn `Content-Length`
//! and `Transfer-Encoding` into one [`Framing`].

use crate::error::{Malformed, RequestError};
use crate::fields::{list_items, trim_ows};
use crate::limits::Limits;
use crate::version::Version;

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

/// Decides the body length from the header fields (RFC 9112 §6.1, §6.3).
pub(crate) fn framing<'a>(
    version: Version,
    content_lengths: &[&'a str],
    transfer_encodings: &[&'a str],
    limits: &Limits,
) -> Result<Framing, RequestError> {
    if !transfer_encodings.is_empty() {
        // §6.1: Content-Length with Transfer-Encoding is a smuggling shape; refuse
        // it rather than let one of them win (§6.3 item 3 allows rejecting).
        if !content_lengths.is_empty() {
            return Err(Malformed::TransferEncodingWithContentLength.into());
        }
        // §6.1: Transfer-Encoding in HTTP/1.0 means the framing is faulty.
        if version == Version::Http10 {
            return Err(Malformed::TransferEncodingInHttp10.into());
        }
        let codings: Vec<&str> = list_items(transfer_encodings.iter().copied()).collect();
        // §6.3 item 4: a final coding other than chunked leaves the length
        // unknown: 400.
        let final_is_chunked = codings.last().is_some_and(|c| {
            let name = c.split(';').next().unwrap_or_default();
            trim_ows(name).eq_ignore_ascii_case("chunked")
        });
        if !final_is_chunked {
            return Err(Malformed::ChunkedNotFinal.into());
        }
        // §6.1: other codings (and parameters, and repeats) are not
        // implemented: 501. Exactly one field line saying `chunked`.
        if transfer_encodings.len() != 1
            || codings.len() != 1
            || !codings[0].eq_ignore_ascii_case("chunked")
        {
            return Err(RequestError::UnsupportedTransferEncoding);
        }
        return Ok(Framing::Chunked);
    }
    match content_lengths {
        [] => Ok(Framing::None),
        [value] => {
            let n = parse_content_length(value)?;
            if n > limits.max_body_bytes {
                return Err(RequestError::BodyTooLarge {
                    limit: limits.max_body_bytes,
                });
            }
            Ok(Framing::Length(n))
        }
        // §6.3 item 5 lets a recipient accept repeated identical values; a
        // credential proxy refuses every repeat so no two parsers can disagree.
        _ => Err(Malformed::DuplicateContentLength.into()),
    }
}

/// RFC 9110 §8.6: `Content-Length = 1*DIGIT`; no sign, no list, no overflow.
fn parse_content_length(value: &str) -> Result<usize, Malformed> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::InvalidContentLength);
    }
    value.bytes().try_fold(0usize, |n, d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(d - b'0')))
            .ok_or(Malformed::InvalidContentLength)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length("0"), Ok(0));
        assert_eq!(parse_content_length("007"), Ok(7));
        for bad in [
            "",
            "+5",
            "-5",
            "5, 5",
            "5 5",
            "0x5",
            "5.0",
            "99999999999999999999999",
        ] {
            assert_eq!(
                parse_content_length(bad),
                Err(Malformed::InvalidContentLength),
                "{bad}"
            );
        }
    }
}
