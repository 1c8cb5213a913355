//! Small std-only codecs: base64 (standard and URL-safe), percent-decoding,
//! `application/x-www-form-urlencoded` / query-string parsing and cookies.

/// Decodes base64 in either the standard (`+/`) or the URL-safe (`-_`)
/// alphabet. Padding is optional; surrounding whitespace is ignored.
/// Returns `None` for any other character or an impossible length.
pub fn base64_decode(input: &str) -> Option<Vec<u8>> {
    let trimmed = input.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(trimmed.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in trimmed.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    // A single leftover sextet cannot encode a byte.
    if trimmed.len() % 4 == 1 {
        return None;
    }
    Some(out)
}

/// Encodes bytes as unpadded base64url (the JWT alphabet).
pub fn base64url_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
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
