//! Small codecs: base64 (standard and URL-safe, on the `base64` crate),
//! percent-decoding, `application/x-www-form-urlencoded` / query-string
//! parsing and cookies.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// Standard alphabet, padding optional, non-zero trailing bits accepted: the
/// lenient reading [`base64_decode`] gives.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64 in either the standard (`+/`) or the URL-safe (`-_`)
/// alphabet. Padding is optional; surrounding whitespace is ignored.
/// Returns `None` for any other character or an impossible length.
pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let standard: String = input
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(standard).ok()
}

/// Encodes bytes as unpadded base64url (the JWT alphabet).
pub fn base64url_encode(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(input)
}

/// Percent-decodes a query or form component; `+` becomes a space.
/// Invalid escapes are kept literally; invalid UTF-8 is replaced lossily.
pub fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses `a=1&b=2` (a query string or a form body) into ordered pairs.
/// Empty segments are skipped; a key without `=` gets an empty value.
/// Duplicates are kept in order (`limit=5&limit=5` yields two pairs).
pub fn parse_form(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|seg| match seg.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(seg), String::new()),
        })
        .collect()
}

/// Parses a `Cookie` header (`a=1; b=2`) into ordered pairs.
pub fn parse_cookies(header: &str) -> Vec<(String, String)> {
    header
        .split(';')
        .filter_map(|part| {
            let part = part.trim();
            let (k, v) = part.split_once('=')?;
            Some((k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_variants() {
        assert_eq!(
            base64_decode("c2ltLWNsaWVudDpzaW0tc2VjcmV0").as_deref(),
            Some(&b"sim-client:sim-secret"[..])
        );
        assert_eq!(base64_decode("YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode("YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(base64_decode("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(base64_decode("").as_deref(), Some(&b""[..]));
        assert_eq!(
            base64_decode("-_8").as_deref(),
            base64_decode("+/8").as_deref()
        );
        assert_eq!(base64_decode("a$b="), None);
        assert_eq!(base64_decode("Y"), None);
        for s in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xff, 0xfe, 0x00],
        ] {
            assert_eq!(base64_decode(&base64url_encode(s)).as_deref(), Some(s));
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_encode(b"fo"), "Zm8");
    }

    #[test]
    fn form_and_query_parsing() {
        let p = parse_form("client_id=a%20b&x=1+2&&flag&limit=5&limit=5&bad=%zz&end=%4");
        assert_eq!(
            p,
            vec![
                ("client_id".into(), "a b".into()),
                ("x".into(), "1 2".into()),
                ("flag".into(), String::new()),
                ("limit".into(), "5".into()),
                ("limit".into(), "5".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into()),
            ]
        );
        assert_eq!(percent_decode("%E2%9C%93"), "\u{2713}");
        assert!(parse_form("").is_empty());
    }

    #[test]
    fn cookie_parsing() {
        let c = parse_cookies("csrftoken=abc; session=xyz;other=\"q\"");
        assert_eq!(c[1], ("session".into(), "xyz".into()));
        assert_eq!(c[2], ("other".into(), "q".into()));
    }
}
