//! The proxy's own rules for a request head, on top of the strict HTTP/1.1
//! reader (`central-auth-http1`), so that no web page can drive the proxy:
//!
//! - `Origin` (any value, also `null`) or `Sec-Fetch-Site` other than `none`:
//!   403 on every transport. Browsers add them to every cross-site request
//!   and scripts cannot remove them; curl, SDKs, pycentral and centralcli send
//!   neither (Vault Agent's `require_request_header` rests on the same fact).
//! - On TCP, `Host` must name loopback as a person would type it:
//!   `127.0.0.1`, `localhost` or `[::1]`, optionally with the proxy's port;
//!   else 421. A page whose name an attacker rebinds to 127.0.0.1 sends its
//!   own name (kubectl proxy's `--accept-hosts` rule). An HTTP/1.0 request
//!   without `Host` passes: no browser sends one. On the Unix socket the
//!   `Host` rule does not apply: no browser can connect to it, and clients put
//!   what they like there (curl `localhost`, requests-unixsocket the
//!   percent-encoded path).
//! - The target must be a path (origin-form), or an absolute `http://` URL
//!   naming the proxy itself: an allowed host with the proxy's port on TCP,
//!   an allowed host without a port on the Unix socket; anything else 400.
//! - A client `access_token` in the query: 400 (see `access_token`).

use central_auth_http1::{RequestHead, Target};

use super::refusal::Refusal;
use super::transport::Listening;
use central_auth_core::forward::access_token;

/// The host names the proxy answers to on TCP.
pub const ALLOWED_HOSTS: &[&str] = &["127.0.0.1", "localhost", "[::1]"];

/// Checks `head`; `Ok` with the path and query to forward.
pub fn check<'h>(head: &'h RequestHead, on: &Listening) -> Result<&'h str, Refusal> {
    if head.header("origin").is_some() {
        return Err(Refusal::new(
            403,
            "origin",
            "requests carrying an Origin header come from web pages and are refused",
        ));
    }
    if head
        .headers_named("sec-fetch-site")
        .any(|v| !v.eq_ignore_ascii_case("none"))
    {
        return Err(Refusal::new(
            403,
            "sec-fetch-site",
            "requests a browser marks with Sec-Fetch-Site other than none come from web pages and are refused",
        ));
    }
    if let Listening::Tcp { addr } = on {
        for host in head.headers_named("host") {
            if !is_self(host, addr.port(), PortRule::Optional) {
                return Err(Refusal::new(
                    421,
                    "host",
                    "the Host header must be 127.0.0.1, localhost or [::1] (with this proxy's port, if any)",
                ));
            }
        }
    }
    let path = match &head.target {
        Target::Origin(path) => path.as_str(),
        Target::Absolute {
            scheme,
            authority,
            path_and_query,
        } => {
            let port_rule = match on {
                Listening::Tcp { addr } => PortRule::Required(addr.port()),
                Listening::Unix { .. } => PortRule::None,
            };
            if scheme != "http" || !is_self(authority, 0, port_rule) {
                return Err(Refusal::new(
                    400,
                    "absolute-form",
                    "an absolute-form target must name this proxy (http://127.0.0.1:PORT/...); send a path instead",
                ));
            }
            path_and_query.as_str()
        }
        Target::Authority(_) | Target::Asterisk => {
            return Err(Refusal::new(
                400,
                "target",
                "the target must be a path like /monitoring/v1/aps",
            ))
        }
    };
    if let Some(found) = access_token::in_target(path) {
        return Err(access_token_refusal(found));
    }
    Ok(path)
}

/// The refusal for a client-supplied `access_token`.
pub fn access_token_refusal(found: access_token::Found) -> Refusal {
    Refusal::new(
        400,
        "access-token",
        format!(
            "{}: the proxy adds the token itself and never forwards a client's (Kong would prefer it to the proxy's); remove it",
            found.reason()
        ),
    )
}

#[derive(Debug, Clone, Copy)]
enum PortRule {
    /// No port, or this one.
    Optional,
    /// Exactly this port (an absolute URL without a port means 80).
    Required(u16),
    /// No port at all.
    None,
}

/// Whether `authority` (`host[:port]`) names this proxy.
fn is_self(authority: &str, port: u16, rule: PortRule) -> bool {
    let (host, given) = split_authority(authority);
    if !ALLOWED_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return false;
    }
    let given: Option<u16> = match given {
        None => None,
        Some(p) => match p.parse() {
            Ok(p) => Some(p),
            Err(_) => return false,
        },
    };
    match rule {
        PortRule::Optional => given.is_none_or(|g| g == port),
        PortRule::Required(ours) => given.unwrap_or(80) == ours,
        PortRule::None => given.is_none(),
    }
}

/// `host` and the port text, if any (`[::1]:8470` gives `[::1]`, `8470`).
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let (host, rest) = authority.split_at(end + 1);
                (host, rest.strip_prefix(':'))
            }
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_http1::{parse_head, Limits, Parsed};

    fn head(raw: &str) -> RequestHead {
        match parse_head(raw.as_bytes(), &Limits::default()).unwrap() {
            Parsed::Complete(h, _) => h,
            Parsed::Partial => panic!("partial: {raw:?}"),
        }
    }

    fn tcp() -> Listening {
        Listening::Tcp {
            addr: "127.0.0.1:8470".parse().unwrap(),
        }
    }

    fn unix() -> Listening {
        Listening::Unix {
            path: "/run/p.sock".into(),
        }
    }

    fn code(raw: &str, on: &Listening) -> Result<String, (u16, &'static str)> {
        let h = head(raw);
        check(&h, on)
            .map(str::to_owned)
            .map_err(|r| (r.status, r.code))
    }

    #[test]
    fn hosts_that_name_loopback_pass_and_others_get_421() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8470",
            "localhost",
            "LocalHost:8470",
            "[::1]",
            "[::1]:8470",
        ] {
            let raw = format!("GET /a?b=1 HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert_eq!(code(&raw, &tcp()), Ok("/a?b=1".into()), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8470",
            "127.0.0.1:8471",
            "localhost.:8470",
            "127.1",
            "0.0.0.0:8470",
            "[::ffff:127.0.0.1]:8470",
        ] {
            let raw = format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n");
            assert_eq!(code(&raw, &tcp()), Err((421, "host")), "{host}");
        }
        // HTTP/1.0 without Host: no browser sends that.
        assert_eq!(code("GET /a HTTP/1.0\r\n\r\n", &tcp()), Ok("/a".into()));
        // The Unix socket takes any Host.
        let raw = "GET /a HTTP/1.1\r\nHost: %2Frun%2Fp.sock\r\n\r\n";
        assert_eq!(code(raw, &unix()), Ok("/a".into()));
    }

    #[test]
    fn browsers_are_refused_on_every_transport() {
        for on in [tcp(), unix()] {
            let raw = "POST /a HTTP/1.1\r\nHost: localhost\r\nOrigin: http://evil.example\r\n\r\n";
            assert_eq!(code(raw, &on), Err((403, "origin")));
            let raw = "GET /a HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\n\r\n";
            assert_eq!(code(raw, &on), Err((403, "origin")));
            for site in ["cross-site", "same-site", "same-origin"] {
                let raw =
                    format!("GET /a HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: {site}\r\n\r\n");
                assert_eq!(code(&raw, &on), Err((403, "sec-fetch-site")), "{site}");
            }
            let raw = "GET /a HTTP/1.1\r\nHost: localhost\r\nSec-Fetch-Site: none\r\n\r\n";
            assert_eq!(code(raw, &on), Ok("/a".into()));
        }
    }

    #[test]
    fn absolute_form_must_name_the_proxy() {
        let ok = "GET http://127.0.0.1:8470/a?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8470\r\n\r\n";
        assert_eq!(code(ok, &tcp()), Ok("/a?x=1".into()));
        for target in [
            "http://evil.example/a",
            "http://127.0.0.1/a",
            "http://127.0.0.1:9/a",
            "https://127.0.0.1:8470/a",
        ] {
            let raw = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1:8470\r\n\r\n");
            assert_eq!(code(&raw, &tcp()), Err((400, "absolute-form")), "{target}");
        }
        let raw = "GET http://localhost/a HTTP/1.1\r\nHost: localhost\r\n\r\n";
        assert_eq!(code(raw, &unix()), Ok("/a".into()));
        let raw = "GET http://localhost:80/a HTTP/1.1\r\nHost: localhost\r\n\r\n";
        assert_eq!(code(raw, &unix()), Err((400, "absolute-form")));
        let raw = "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n";
        assert_eq!(code(raw, &tcp()), Err((400, "target")));
    }

    #[test]
    fn a_query_access_token_is_refused() {
        let raw = "GET /a?%61ccess_token=x HTTP/1.1\r\nHost: localhost\r\n\r\n";
        assert_eq!(code(raw, &tcp()), Err((400, "access-token")));
    }
}
