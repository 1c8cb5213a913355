//! The request-target (RFC 9112 §3.2) in its four forms, and the
//! `host[:port]` check shared with the `Host` header. The crate only parses:
//! which hosts a server accepts is the server's decision.

use crate::error::Malformed;

/// The request-target, RFC 9112 §3.2.
#[derive(Clone, PartialEq, Eq)]
pub enum Target {
    /// origin-form (§3.2.1): `/path?query`, exactly as sent.
    Origin(String),
    /// absolute-form (§3.2.2): `scheme://authority/path?query`.
    Absolute {
        /// The scheme, lower-cased (schemes are case-insensitive, RFC 3986 §3.1).
        scheme: String,
        /// `host[:port]` as sent (never with user information).
        authority: String,
        /// The path and query as sent; `/` when the path is empty
        /// (`http://h?q` gives `/?q`).
        path_and_query: String,
    },
    /// authority-form (§3.2.3), CONNECT only: `host:port`.
    Authority(String),
    /// asterisk-form (§3.2.4), OPTIONS only.
    Asterisk,
}

impl Target {
    /// The path and query a server routes on: the origin-form as sent, the
    /// absolute-form's path and query, `*`, or the CONNECT authority.
    pub fn path_and_query(&self) -> &str {
        match self {
            Target::Origin(p) => p,
            Target::Absolute { path_and_query, .. } => path_and_query,
            Target::Authority(a) => a,
            Target::Asterisk => "*",
        }
    }
}

/// Debug output leaves out the query, which may carry a credential.
impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn redacted(p: &str) -> String {
            match p.split_once('?') {
                Some((path, query)) => format!("{path}?<{} bytes>", query.len()),
                None => p.to_owned(),
            }
        }
        match self {
            Target::Origin(p) => f.debug_tuple("Origin").field(&redacted(p)).finish(),
            Target::Absolute {
                scheme,
                authority,
                path_and_query,
            } => f
                .debug_struct("Absolute")
                .field("scheme", scheme)
                .field("authority", authority)
                .field("path_and_query", &redacted(path_and_query))
                .finish(),
            Target::Authority(a) => f.debug_tuple("Authority").field(a).finish(),
            Target::Asterisk => f.write_str("Asterisk"),
        }
    }
}

/// Parses the request-target of a request with this method.
pub(crate) fn parse_target(method: &str, raw: &str) -> Result<Target, Malformed> {
    // RFC 9112 §3.2 and RFC 3986 §2: a target is visible US-ASCII only
    // (httparse also lets UTF-8 through).
    if !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Malformed::TargetCharacter);
    }
    // RFC 9112 §3.2: the fragment is not part of a request-target.
    if raw.contains('#') {
        return Err(Malformed::TargetFragment);
    }
    // §3.2.4: asterisk-form is only for a server-wide OPTIONS.
    if raw == "*" {
        return if method == "OPTIONS" {
            Ok(Target::Asterisk)
        } else {
            Err(Malformed::AsteriskNotOptions)
        };
    }
    // §3.2.3: CONNECT takes authority-form, and only it.
    if method == "CONNECT" {
        if raw.starts_with('/') || raw.contains("://") {
            return Err(Malformed::AuthorityForm);
        }
        check_authority(raw, true)?;
        return match split_port(raw) {
            Some((_, Some(port))) if !port.is_empty() => Ok(Target::Authority(raw.to_owned())),
            _ => Err(Malformed::Authority),
        };
    }
    // §3.2.1: origin-form starts with "/".
    if raw.starts_with('/') {
        return Ok(Target::Origin(raw.to_owned()));
    }
    // §3.2.2: absolute-form; only hierarchical `scheme://authority` URIs.
    if let Some((scheme, rest)) = raw.split_once("://") {
        if !is_scheme(scheme) {
            return Err(Malformed::TargetForm);
        }
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
        check_authority(authority, true)?;
        let path_and_query = if tail.starts_with('/') {
            tail.to_owned()
        } else {
            format!("/{tail}")
        };
        return Ok(Target::Absolute {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_owned(),
            path_and_query,
        });
    }
    if check_authority(raw, true).is_ok() && split_port(raw).is_some_and(|(_, p)| p.is_some()) {
        return Err(Malformed::AuthorityForm);
    }
    Err(Malformed::TargetForm)
}

/// RFC 3986 §3.1: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Splits `host[:port]` (the host may be an `[IP-literal]`); `None` when
/// something other than `:port` follows a bracketed host.
fn split_port(s: &str) -> Option<(&str, Option<&str>)> {
    let host_end = if s.starts_with('[') {
        s.find(']').map_or(s.len(), |i| i + 1)
    } else {
        s.find(':').unwrap_or(s.len())
    };
    let (host, rest) = s.split_at(host_end);
    if rest.is_empty() {
        return Some((host, None));
    }
    rest.strip_prefix(':').map(|port| (host, Some(port)))
}

/// Checks `uri-host [ ":" port ]` (RFC 3986 §3.2.2, §3.2.3), as used by the
/// `Host` header (RFC 9110 §7.2) and the target's authority. User information
/// is refused (RFC 9110 §4.2.4). `need_host`: the host may not be empty.
pub(crate) fn check_authority(s: &str, need_host: bool) -> Result<(), Malformed> {
    let (host, port) = split_port(s).ok_or(Malformed::Authority)?;
    let host_ok = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').is_some_and(is_ip_literal)
    } else {
        // reg-name: unreserved / pct-encoded / sub-delims (hex digits of a
        // `%XX` are unreserved characters themselves).
        host.bytes().enumerate().all(|(i, b)| {
            is_unreserved(b)
                || is_sub_delim(b)
                || (b == b'%' && is_pct_encoded(&host.as_bytes()[i..]))
        })
    };
    let port_ok = port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !host_ok || !port_ok || (need_host && host.is_empty()) {
        return Err(Malformed::Authority);
    }
    Ok(())
}

/// `[` ... `]` contents: an IPv6 address or an IPvFuture (RFC 3986 §3.2.2),
/// checked for their character set.
fn is_ip_literal(inner: &str) -> bool {
    if let Some(future) = inner.strip_prefix(['v', 'V']) {
        return future.contains('.')
            && future
                .bytes()
                .all(|b| is_unreserved(b) || is_sub_delim(b) || b == b':');
    }
    !inner.is_empty()
        && inner.contains(':')
        && inner
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// `%` followed by two hex digits.
fn is_pct_encoded(from_percent: &[u8]) -> bool {
    from_percent.len() >= 3
        && from_percent[1].is_ascii_hexdigit()
        && from_percent[2].is_ascii_hexdigit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(method: &str, raw: &str) -> Result<Target, Malformed> {
        parse_target(method, raw)
    }

    // RFC 9112 §3.2.1: origin-form, kept exactly as sent.
    #[test]
    fn origin_form_is_kept_as_sent() {
        assert_eq!(
            t("GET", "/a/b?c=%20d&e"),
            Ok(Target::Origin("/a/b?c=%20d&e".into()))
        );
    }

    // RFC 9112 §3.2.2: absolute-form split into scheme, authority, path.
    #[test]
    fn absolute_form_is_split() {
        assert_eq!(
            t("GET", "HTTP://127.0.0.1:8080/p?q=1"),
            Ok(Target::Absolute {
                scheme: "http".into(),
                authority: "127.0.0.1:8080".into(),
                path_and_query: "/p?q=1".into()
            })
        );
        assert_eq!(
            t("GET", "http://[::1]"),
            Ok(Target::Absolute {
                scheme: "http".into(),
                authority: "[::1]".into(),
                path_and_query: "/".into()
            })
        );
        assert_eq!(
            t("GET", "http://h?q").map(|t| t.path_and_query().to_owned()),
            Ok("/?q".into())
        );
    }

    // RFC 9110 §4.2.1 and §4.2.4: no empty host, no user information.
    #[test]
    fn absolute_form_needs_a_plain_host() {
        assert_eq!(t("GET", "http:///p"), Err(Malformed::Authority));
        assert_eq!(t("GET", "http://user@h/p"), Err(Malformed::Authority));
        assert_eq!(t("GET", "http://h:80x/p"), Err(Malformed::Authority));
        assert_eq!(t("GET", "1http://h/p"), Err(Malformed::TargetForm));
        assert_eq!(t("GET", "mailto:a@b"), Err(Malformed::TargetForm));
    }

    // RFC 9112 §3.2.3: authority-form is for CONNECT only, and CONNECT takes only it.
    #[test]
    fn authority_form_only_for_connect() {
        assert_eq!(
            t("CONNECT", "example.com:443"),
            Ok(Target::Authority("example.com:443".into()))
        );
        assert_eq!(t("GET", "example.com:443"), Err(Malformed::AuthorityForm));
        assert_eq!(t("CONNECT", "/x"), Err(Malformed::AuthorityForm));
        assert_eq!(t("CONNECT", "example.com"), Err(Malformed::Authority));
        assert_eq!(t("CONNECT", "example.com:"), Err(Malformed::Authority));
        assert_eq!(t("GET", "example.com"), Err(Malformed::TargetForm));
    }

    // RFC 9112 §3.2.4: `*` for OPTIONS only.
    #[test]
    fn asterisk_only_for_options() {
        assert_eq!(t("OPTIONS", "*"), Ok(Target::Asterisk));
        assert_eq!(t("GET", "*"), Err(Malformed::AsteriskNotOptions));
    }

    // RFC 9112 §3.2: no fragment, visible ASCII only.
    #[test]
    fn fragment_and_invisible_characters_are_refused() {
        assert_eq!(t("GET", "/a#b"), Err(Malformed::TargetFragment));
        assert_eq!(t("GET", "/caf\u{e9}"), Err(Malformed::TargetCharacter));
        assert_eq!(t("GET", "/a\u{7f}"), Err(Malformed::TargetCharacter));
    }

    // RFC 9110 §7.2 with RFC 3986 §3.2.2: what a Host value may be.
    #[test]
    fn authority_syntax() {
        for ok in [
            "",
            "localhost",
            "localhost:",
            "127.0.0.1:8080",
            "[::1]",
            "[::1]:80",
            "[v1.x]",
            "a%2Fb",
            "xn--bcher-kva.example",
        ] {
            assert_eq!(check_authority(ok, false), Ok(()), "{ok}");
        }
        for bad in [
            "a b", "a@b", "[::1", "[::1]x", "[]", "[zz::1]", "h:8o", "a%2", "a%zz", "a/b", "::1",
            "h:1:2",
        ] {
            assert_eq!(
                check_authority(bad, false),
                Err(Malformed::Authority),
                "{bad}"
            );
        }
        assert_eq!(check_authority("", true), Err(Malformed::Authority));
    }
}
