//! Name resolution for the HTTP agents: an IP literal is used as written, and a
//! host name is looked up once and kept for [`NAME_TTL`].
//!
//! ureq's default resolver starts a thread for every request that has a
//! timeout (so a lookup can be abandoned), even when the host is an IP literal
//! or the connection comes from its pool. For the token calls that is one
//! thread per process; for `central-auth proxy`, a long-lived process
//! forwarding every request to the same gateway, it was a thread and a DNS
//! query per request (about a quarter of the proxy's added latency with
//! keep-alive). Here a literal costs nothing, and a name is resolved at most
//! once per [`NAME_TTL`] per host, through ureq's own resolver and within the
//! request's timeout; a failed lookup is not kept.

use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long the addresses of a host name are reused (browsers keep them about
/// a minute; a gateway moved by DNS is followed within this time).
pub const NAME_TTL: Duration = Duration::from_secs(30);

/// Host names resolved recently, at most this many.
const KEPT: usize = 8;

/// The resolver of every agent the core builds.
#[derive(Debug, Default)]
pub struct CachingResolver {
    inner: DefaultResolver,
    names: Mutex<Vec<(String, Instant, ResolvedSocketAddrs)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(addr) = literal(uri) {
            let mut out = self.empty();
            out.push(addr);
            return Ok(out);
        }
        let key = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            // Not a full URL: ureq's resolver says what is wrong with it.
            _ => return self.inner.resolve(uri, config, timeout),
        };
        let now = Instant::now();
        {
            let names = self
                .names
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((_, _, addrs)) = names
                .iter()
                .find(|(k, at, _)| *k == key && now.duration_since(*at) < NAME_TTL)
            {
                return Ok(addrs.clone());
            }
        }
        let addrs = self
            .inner
            .resolve(uri, config, timeout)
            .map_err(name_not_resolved)?;
        let mut names = self
            .names
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        names.retain(|(k, at, _)| *k != key && now.duration_since(*at) < NAME_TTL);
        if names.len() >= KEPT {
            names.remove(0);
        }
        names.push((key, now, addrs.clone()));
        Ok(addrs)
    }
}

/// ureq's resolver passes the system's lookup failure on as a bare I/O error
/// (kind "uncategorized"); it is a name that did not resolve, so it is named
/// as one: `host not found (DNS)`.
fn name_not_resolved(e: ureq::Error) -> ureq::Error {
    match e {
        ureq::Error::Io(_) => ureq::Error::HostNotFound,
        other => other,
    }
}

/// The address of a URI whose host is an IP literal (`127.0.0.1`, `[::1]`),
/// with its port or the scheme's default.
fn literal(uri: &Uri) -> Option<SocketAddr> {
    let authority = uri.authority()?;
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: IpAddr = host.parse().ok()?;
    let port = match authority.port_u16() {
        Some(port) => port,
        None => match uri.scheme_str()? {
            s if s.eq_ignore_ascii_case("http") => 80,
            s if s.eq_ignore_ascii_case("https") => 443,
            _ => return None,
        },
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_failure_is_named_host_not_found() {
        // What ureq's resolver returns when the system lookup fails.
        let lookup = std::io::Error::other("failed to lookup address information");
        assert!(matches!(
            name_not_resolved(ureq::Error::Io(lookup)),
            ureq::Error::HostNotFound
        ));
        let e = crate::http::transport_error(&ureq::Error::HostNotFound, "x.example");
        assert_eq!(e.message, "host not found (DNS)");
        assert!(matches!(
            name_not_resolved(ureq::Error::ConnectionFailed),
            ureq::Error::ConnectionFailed
        ));
    }

    fn resolve(r: &CachingResolver, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = url.parse().unwrap();
        let config = Config::default();
        r.resolve(&uri, &config, NextTimeout::default())
            .map(|a| a.iter().copied().collect())
    }

    #[test]
    fn literals_are_used_as_written() {
        let r = CachingResolver::default();
        assert_eq!(
            resolve(&r, "http://127.0.0.1:8800/x").unwrap(),
            vec!["127.0.0.1:8800".parse().unwrap()]
        );
        assert_eq!(
            resolve(&r, "https://[::1]/x").unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
        assert_eq!(
            resolve(&r, "http://10.1.2.3").unwrap(),
            vec!["10.1.2.3:80".parse().unwrap()]
        );
        assert!(r.names.lock().unwrap().is_empty(), "literals are not kept");
    }

    #[test]
    fn names_are_kept_for_a_while() {
        let r = CachingResolver::default();
        let first = resolve(&r, "http://localhost:9/").unwrap();
        assert!(!first.is_empty());
        assert_eq!(r.names.lock().unwrap().len(), 1);
        // A second lookup is served from the cache: poison the entry's
        // addresses and see them come back.
        let marker: SocketAddr = "192.0.2.1:9".parse().unwrap();
        {
            let mut names = r.names.lock().unwrap();
            let mut addrs = r.empty();
            addrs.push(marker);
            names[0].2 = addrs;
        }
        assert_eq!(resolve(&r, "http://localhost:9/").unwrap(), vec![marker]);
        // Another port is another entry.
        assert_ne!(resolve(&r, "http://localhost:10/").unwrap(), vec![marker]);
        // An expired entry is looked up again.
        {
            let mut names = r.names.lock().unwrap();
            for entry in names.iter_mut() {
                entry.1 -= NAME_TTL;
            }
        }
        assert_ne!(resolve(&r, "http://localhost:9/").unwrap(), vec![marker]);
    }
}
