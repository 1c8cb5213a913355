//! Field-level rules: tokens, field lines (for the error detail of a refused
//! head and for trailers), comma-separated lists, and the message-body length
//! rules of RFC 9112 §6 that turn `Content-Length` and `Transfer-Encoding` into
//! one [`Framing`].

use crate::error::{Malformed, RequestError};
use crate::head::{Framing, Version};
use crate::Limits;

/// RFC 9110 §5.6.2: `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// RFC 9110 §5.5: a field value byte (VCHAR, obs-text, SP, HTAB).
pub(crate) fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (b >= 0x21 && b != 0x7f)
}

/// Checks one field line without its CRLF: `field-name ":" OWS field-value OWS`
/// (RFC 9112 §5). A line starting with whitespace is obsolete line folding
/// (§5.2); whitespace before the colon is refused (§5.1).
pub(crate) fn check_field_line(line: &[u8]) -> Result<(), FieldLineError> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err(FieldLineError::ObsFold);
    }
    let colon = line.iter().position(|&b| b == b':');
    let Some(colon) = colon.filter(|&c| is_token(&line[..c])) else {
        return Err(FieldLineError::Name);
    };
    if !line[colon + 1..].iter().all(|&b| is_field_value_byte(b)) {
        return Err(FieldLineError::Value);
    }
    Ok(())
}

/// What is wrong with a field line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldLineError {
    /// Starts with SP or HTAB.
    ObsFold,
    /// The name is not a token followed directly by `:`.
    Name,
    /// A control character in the value.
    Value,
}

/// Trims optional whitespace (SP, HTAB; RFC 9110 §5.6.3) from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// The non-empty elements of comma-separated list values (RFC 9110 §5.6.1),
/// across every line of the field, trimmed.
pub(crate) fn list_items<'a>(
    values: impl Iterator<Item = &'a str>,
) -> impl Iterator<Item = &'a str> {
    values
        .flat_map(|v| v.split(','))
        .map(trim_ows)
        .filter(|item| !item.is_empty())
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
    fn field_lines() {
        assert_eq!(check_field_line(b"A-b: c\td"), Ok(()));
        assert_eq!(check_field_line(b"A:"), Ok(()));
        assert_eq!(check_field_line(b" A: b"), Err(FieldLineError::ObsFold));
        assert_eq!(check_field_line(b"\tb"), Err(FieldLineError::ObsFold));
        assert_eq!(check_field_line(b"A : b"), Err(FieldLineError::Name));
        assert_eq!(check_field_line(b": b"), Err(FieldLineError::Name));
        assert_eq!(check_field_line(b"A b"), Err(FieldLineError::Name));
        assert_eq!(check_field_line(b"A: b\x00"), Err(FieldLineError::Value));
        assert_eq!(check_field_line(b"A: b\x7f"), Err(FieldLineError::Value));
    }

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

    #[test]
    fn list_items_skip_empty_elements() {
        let items: Vec<&str> = list_items(["a, ,b", " c\t"].into_iter()).collect();
        assert_eq!(items, ["a", "b", "c"]);
    }
}
