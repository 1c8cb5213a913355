//! Field-level rules: tokens, field lines (for the error detail of a refused
//! head and for trailers) and comma-separated lists (RFC 9110 §5).

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
    fn list_items_skip_empty_elements() {
        let items: Vec<&str> = list_items(["a, ,b", " c\t"].into_iter()).collect();
        assert_eq!(items, ["a", "b", "c"]);
    }
}
