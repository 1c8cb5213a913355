//! Which profile answers for git's `protocol` and `host`.
//!
//! With `--profile` that profile answers. Otherwise a profile matches when one of
//! its `git_hosts` entries, or the host of its `base_url`, equals git's host. An
//! entry without a port also matches the protocol's default port (443 for https,
//! 80 for http); hosts compare case-insensitively. `git_hosts` matches win over
//! `base_url` matches; two profiles matching at the same level is an error rather
//! than a guess.
//!
//! Tokens are only handed out for `https`, or `http` to a loopback host, so a
//! token never travels in clear text over the network.

use central_auth_core::config::is_loopback;
use central_auth_core::{Config, Error, Profile};

use crate::protocol::Request;

/// The outcome of selecting a profile for a request.
#[derive(Debug)]
pub enum Selection<'a> {
    /// This profile answers.
    Profile(&'a Profile),
    /// Not ours: print nothing, so git asks the next helper.
    NoMatch(String),
}

/// Picks the profile for `request`: `explicit` (from `--profile`), else by host.
pub fn select<'a>(
    config: &'a Config,
    explicit: Option<&str>,
    request: &Request,
) -> Result<Selection<'a>, Error> {
    let host = request.host.as_deref().unwrap_or("");
    if let Some(protocol) = request.protocol.as_deref() {
        let allowed = protocol.eq_ignore_ascii_case("https")
            || (protocol.eq_ignore_ascii_case("http") && is_loopback(host));
        if !allowed {
            return Ok(Selection::NoMatch(format!(
                "not answering for {protocol}://{host}: tokens are only sent over https (or http to loopback)"
            )));
        }
    }
    if let Some(name) = explicit {
        let name = central_auth_core::ProfileName::new(name)?;
        return Ok(Selection::Profile(config.get(&name)?));
    }
    if host.is_empty() {
        return Ok(Selection::NoMatch(
            "git sent no host and no --profile was given".to_owned(),
        ));
    }
    let protocol = request.protocol.as_deref().unwrap_or("https");
    let by_git_hosts: Vec<&Profile> = config
        .profiles
        .values()
        .filter(|p| p.git_hosts.iter().any(|h| host_matches(h, host, protocol)))
        .collect();
    let by_base: Vec<&Profile> = config
        .profiles
        .values()
        .filter(|p| host_matches(p.base_host(), host, protocol))
        .collect();
    for level in [by_git_hosts, by_base] {
        match level.as_slice() {
            [] => continue,
            [one] => return Ok(Selection::Profile(one)),
            several => {
                let names: Vec<&str> = several.iter().map(|p| p.name.as_str()).collect();
                return Err(Error::config(format!(
                    "several profiles match git host {host:?} ({}); make their git_hosts distinct or pass --profile in credential.helper",
                    names.join(", ")
                )));
            }
        }
    }
    Ok(Selection::NoMatch(format!(
        "no profile has git host {host:?} in git_hosts or base_url"
    )))
}

/// Whether a configured `host` or `host:port` entry matches git's `host[:port]`.
pub fn host_matches(entry: &str, git_host: &str, protocol: &str) -> bool {
    let (entry_host, entry_port) = split_port(entry);
    let (git_h, git_port) = split_port(git_host);
    if entry_host.is_empty() || !entry_host.eq_ignore_ascii_case(git_h) {
        return false;
    }
    let default = if protocol.eq_ignore_ascii_case("http") {
        "80"
    } else {
        "443"
    };
    entry_port.unwrap_or(default) == git_port.unwrap_or(default)
}

/// Splits `host:port` (also `[v6]:port`); the port only if it is all digits.
fn split_port(s: &str) -> (&str, Option<&str>) {
    if let Some((h, p)) = s.rsplit_once(':') {
        let bracketed_or_plain = !h.contains(':') || h.ends_with(']');
        if bracketed_or_plain && !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            return (h, Some(p));
        }
    }
    (s, None)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config() -> Config {
        Config::parse(
            r#"
[profiles.prod]
base_url = "https://apigw-prod2.central.arubanetworks.com"
client_id = "c"
client_secret_env = "X"
git_hosts = ["git.example.com", "Mirror.Example.com:8443"]

[profiles.lab]
base_url = "http://127.0.0.1:18090"
client_id = "c"
client_secret_env = "X"
"#,
            Path::new("/cfg.toml"),
        )
        .expect("test config parses")
    }

    fn request(protocol: &str, host: &str) -> Request {
        Request {
            protocol: Some(protocol.into()),
            host: Some(host.into()),
            ..Request::default()
        }
    }

    fn chosen(explicit: Option<&str>, protocol: &str, host: &str) -> Option<String> {
        let cfg = config();
        match select(&cfg, explicit, &request(protocol, host)).unwrap() {
            Selection::Profile(p) => Some(p.name.as_str().to_owned()),
            Selection::NoMatch(_) => None,
        }
    }

    #[test]
    fn matches_git_hosts_and_base_url() {
        assert_eq!(
            chosen(None, "https", "git.example.com").as_deref(),
            Some("prod")
        );
        assert_eq!(
            chosen(None, "https", "GIT.example.com:443").as_deref(),
            Some("prod")
        );
        assert_eq!(
            chosen(None, "https", "mirror.example.com:8443").as_deref(),
            Some("prod")
        );
        assert_eq!(chosen(None, "https", "mirror.example.com"), None);
        assert_eq!(
            chosen(None, "https", "apigw-prod2.central.arubanetworks.com").as_deref(),
            Some("prod")
        );
        assert_eq!(
            chosen(None, "http", "127.0.0.1:18090").as_deref(),
            Some("lab")
        );
        assert_eq!(chosen(None, "http", "127.0.0.1:18091"), None);
        assert_eq!(chosen(None, "https", "github.com"), None);
    }

    #[test]
    fn explicit_profile_wins_and_unknown_is_an_error() {
        assert_eq!(
            chosen(Some("lab"), "https", "github.com").as_deref(),
            Some("lab")
        );
        let cfg = config();
        let e = select(&cfg, Some("nope"), &request("https", "x")).unwrap_err();
        assert!(e.to_string().contains("known: lab, prod"), "{e}");
    }

    #[test]
    fn no_clear_text_tokens() {
        assert_eq!(chosen(None, "http", "git.example.com"), None);
        assert_eq!(chosen(Some("prod"), "http", "git.example.com"), None);
        assert_eq!(chosen(None, "smtp", "git.example.com"), None);
        assert_eq!(
            chosen(Some("prod"), "http", "localhost:8080").as_deref(),
            Some("prod")
        );
    }

    #[test]
    fn missing_host_needs_profile() {
        let cfg = config();
        let r = Request::default();
        assert!(matches!(
            select(&cfg, None, &r).unwrap(),
            Selection::NoMatch(_)
        ));
        assert!(matches!(
            select(&cfg, Some("prod"), &r).unwrap(),
            Selection::Profile(_)
        ));
    }

    #[test]
    fn ambiguous_hosts_are_an_error() {
        let cfg = Config::parse(
            r#"
[profiles.a]
base_url = "https://a.example"
client_id = "c"
client_secret_env = "X"
git_hosts = ["git.example.com"]
[profiles.b]
base_url = "https://b.example"
client_id = "c"
client_secret_env = "X"
git_hosts = ["git.example.com"]
"#,
            Path::new("/cfg.toml"),
        )
        .unwrap();
        let e = select(&cfg, None, &request("https", "git.example.com")).unwrap_err();
        assert!(e.to_string().contains("(a, b)"), "{e}");
    }

    #[test]
    fn ports_and_ipv6() {
        assert!(host_matches("h", "h:80", "http"));
        assert!(!host_matches("h", "h:80", "https"));
        assert!(host_matches("[::1]:8080", "[::1]:8080", "http"));
        assert!(host_matches("[::1]", "[::1]", "http"));
        assert!(!host_matches("", "", "https"));
    }
}
