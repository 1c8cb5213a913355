//! URL and host helpers shared by the config, the HTTP transport and store
//! backends: the one rule for which URLs a secret may travel to, the
//! `host[:port]` of a URL, and what counts as loopback.

/// Checks a URL is `https://`, or `http://` to a loopback host only, and strips a
/// trailing slash. Refusing here means no secret is ever sent in clear text.
/// The host must read the same to a person and to a resolver ([`check_authority`]).
pub fn normalize_url(url: &str, key: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if url.contains('\\') || url.chars().any(|c| c.is_control()) {
        return Err(format!(
            "{key} {:?} contains a backslash or a control character; write a plain URL such as https://apigw-prod2.central.arubanetworks.com",
            url.escape_debug().to_string()
        ));
    }
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        format!(
            "{key} {url:?} is not a URL; write e.g. https://apigw-prod2.central.arubanetworks.com"
        )
    })?;
    let host = host_of(url);
    if host.is_empty() || rest.contains(char::is_whitespace) || rest.contains('@') {
        return Err(format!(
            "{key} {url:?} is not a valid URL (no host, spaces, or user info)"
        ));
    }
    check_authority(host).map_err(|why| format!("{key} {url:?}: {why}"))?;
    match scheme {
        "https" => Ok(url.to_owned()),
        "http" if is_loopback(host) => Ok(url.to_owned()),
        "http" => Err(format!(
            "{key} {url:?} uses plain http to a non-loopback host; secrets would travel in clear text, use https://"
        )),
        _ => Err(format!("{key} {url:?}: only https:// URLs are supported")),
    }
}

/// Refuses a `host[:port]` that a resolver could read differently from a person:
/// anything after an IPv6 literal's `]` but a port, percent-encoding, characters
/// outside letters, digits, `-` and `.` (write international names in punycode),
/// empty labels or a trailing dot, and numeric hosts that are not a plain dotted
/// quad (`127.1`, `0x7f.0.0.1`, `2130706433` all mean 127.0.0.1 to `inet_aton`).
pub fn check_authority(authority: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or("the IPv6 address has no closing ']'")?;
        inside
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| "the text in [...] is not an IPv6 address")?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or("only :PORT may follow an IPv6 address's ']'")?,
            ),
        };
        (None, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(authority), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().map_or(true, |p| p == 0)
        {
            return Err("the port must be a number from 1 to 65535".to_owned());
        }
    }
    let Some(host) = host else {
        return Ok(());
    };
    if host.contains('%') {
        return Err("the host is percent-encoded; write it plainly".to_owned());
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err("the host may hold only letters, digits, '-' and '.' (international names in punycode, IPv6 in [...])".to_owned());
    }
    if host.ends_with('.') {
        return Err("the host ends with '.'; remove the trailing dot".to_owned());
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
    {
        return Err("the host has an empty, too long or '-'-edged label".to_owned());
    }
    let last = labels.last().copied().unwrap_or_default();
    let numeric =
        last.bytes().all(|b| b.is_ascii_digit()) || last.to_ascii_lowercase().starts_with("0x");
    if numeric && host.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(
            "the host looks numeric but is not a dotted-quad IPv4 address (a resolver would read it as one); write e.g. 127.0.0.1".to_owned(),
        );
    }
    Ok(())
}

/// The `host[:port]` part of a URL.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// True for `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port.
pub fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_http_is_allowed() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9/x",
            "http://127.1.2.3",
        ] {
            normalize_url(ok, "base_url").unwrap();
        }
        assert!(normalize_url("http://127.0.0.1.evil.com", "base_url").is_err());
        assert!(normalize_url("http://user@127.0.0.1", "base_url").is_err());
        assert!(normalize_url("ftp://x", "base_url").is_err());
    }

    #[test]
    fn hosts_a_resolver_reads_differently_are_refused() {
        for bad in [
            "http://[::1]evil.com",
            "http://[::1]:80evil",
            "https://[::1",
            "https://central.example\\@evil.example",
            "https://evil.example\\central.example",
            "https://c%65ntral.example",
            "https://central.example.",
            "https://central..example",
            "https://-central.example",
            "http://127.1",
            "http://0x7f.0.0.1",
            "http://2130706433",
            "http://127.0.0.1:0",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:8a",
            "https://centr\u{430}l.example",
            "https://central.example\u{1b}[2J",
        ] {
            let e = normalize_url(bad, "base_url").expect_err(bad);
            assert!(!e.contains('\u{1b}'), "{e}");
        }
        for good in [
            "https://apigw-prod2.central.arubanetworks.com",
            "https://apigw-prod2.central.arubanetworks.com:443/",
            "http://[::1]:8080",
            "https://[2001:db8::1]",
            "https://10.0.0.1:8443",
            "https://xn--centrl-3ve.example",
        ] {
            normalize_url(good, "base_url").expect(good);
        }
    }
}
