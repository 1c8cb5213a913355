//! The one builder of the core's ureq agents ([`Agents`]): the token calls
//! ([`crate::http::UreqTransport`], a remote store's client through it) and the
//! proxy's forwarded requests ([`crate::forward::Upstream`]) get the same TLS
//! roots, connect timeout, no-redirect policy and resolver, and one proxy rule:
//! never a proxy for a loopback host, nor for plain http carrying a secret
//! ([`proxy_allowed`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;

/// Time allowed to connect (DNS, TCP, TLS).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// [`crate::http::may_use_proxy`] for a request to `url` that does or does not carry a
/// secret (the proxy's forwarded requests always carry the bearer token).
pub fn proxy_allowed(url: &str, carries_secret: bool) -> bool {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    if crate::net::is_loopback(crate::net::host_of(url)) {
        return false;
    }
    !(scheme.eq_ignore_ascii_case("http") && carries_secret)
}

/// What an agent is for: the token calls, or the proxy's forwarded requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AgentUse {
    /// Time allowed for a whole request.
    pub(crate) timeout: Duration,
    /// The `User-Agent` header.
    pub(crate) user_agent: &'static str,
}

/// The two agents every HTTP request of the core goes through, one using the
/// proxy from the environment and one never using a proxy, with the same TLS
/// roots, connect timeout, no redirects and resolver. Every ureq agent of the
/// core is built here ([`Agents::new`]), and [`Agents::pick`] applies
/// [`proxy_allowed`]'s rule.
pub(crate) struct Agents {
    /// Uses the proxy from the environment, if any.
    proxied: ureq::Agent,
    /// Never uses a proxy.
    direct: ureq::Agent,
}

impl Agents {
    /// The agents for `purpose`; `ca_file` adds trusted roots for corporate CAs.
    pub(crate) fn new(ca_file: Option<&Path>, purpose: AgentUse) -> Result<Agents, Error> {
        Agents::with_proxy(ca_file, purpose, ureq::Proxy::try_from_env())
    }

    fn with_proxy(
        ca_file: Option<&Path>,
        purpose: AgentUse,
        proxy: Option<ureq::Proxy>,
    ) -> Result<Agents, Error> {
        let tls = tls_config(ca_file)?;
        let agent = |proxy: Option<ureq::Proxy>| -> ureq::Agent {
            let config = ureq::Agent::config_builder()
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .timeout_global(Some(purpose.timeout))
                .max_redirects(0)
                .http_status_as_error(false)
                .user_agent(purpose.user_agent)
                .proxy(proxy)
                .tls_config(tls.clone())
                .build();
            agent_with(config)
        };
        Ok(Agents {
            proxied: agent(proxy),
            direct: agent(None),
        })
    }

    /// The agent for a request to `url`: direct for a loopback host, or for
    /// plain http carrying a secret ([`proxy_allowed`]); else the proxied one.
    pub(crate) fn pick(&self, url: &str, carries_secret: bool) -> &ureq::Agent {
        if proxy_allowed(url, carries_secret) {
            &self.proxied
        } else {
            &self.direct
        }
    }
}

/// TLS with the bundled Mozilla roots, or those of `ca_file` (else
/// `SSL_CERT_FILE`) when given: for the token calls and the proxy's.
fn tls_config(ca_file: Option<&Path>) -> Result<ureq::tls::TlsConfig, Error> {
    let roots = match ca_file
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SSL_CERT_FILE").map(PathBuf::from))
    {
        Some(path) => load_roots(&path)?,
        None => ureq::tls::RootCerts::WebPki,
    };
    Ok(ureq::tls::TlsConfig::builder().root_certs(roots).build())
}

/// An agent with `config`, ureq's connectors, and the core's resolver (no
/// thread or DNS query per request: [`crate::resolver`]).
fn agent_with(config: ureq::config::Config) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        crate::resolver::CachingResolver::default(),
    )
}

pub(crate) fn load_roots(path: &Path) -> Result<ureq::tls::RootCerts, Error> {
    let pem = std::fs::read(path).map_err(|e| {
        Error::config(format!(
            "cannot read CA file {}: {e}; fix ca_file in the profile or SSL_CERT_FILE",
            path.display()
        ))
    })?;
    let certs: Vec<_> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(Error::config(format!(
            "CA file {} holds no PEM certificates; fix ca_file in the profile or SSL_CERT_FILE",
            path.display()
        )));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_follows_the_proxy_rule() {
        let proxy = ureq::Proxy::new("http://127.0.0.1:9").ok();
        for purpose in [
            AgentUse {
                timeout: Duration::from_secs(20),
                user_agent: "token-calls",
            },
            AgentUse {
                timeout: Duration::from_secs(30),
                user_agent: "forwarding",
            },
        ] {
            let agents = Agents::with_proxy(None, purpose, proxy.clone()).unwrap();
            let direct =
                |url: &str, secret: bool| std::ptr::eq(agents.pick(url, secret), &agents.direct);
            assert!(direct("http://127.0.0.1:8080/x", true));
            assert!(direct("https://localhost/x", false));
            assert!(direct("http://gw.example/x", true));
            assert!(!direct("https://gw.example/x", true));
            assert!(!direct("http://gw.example/x", false));
        }
    }
}
