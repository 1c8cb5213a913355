//! A minimal KV version 2 client for HashiCorp Vault and OpenBao.
//!
//! Two operations: read the latest version of a key, and write a key with
//! check-and-set (`options.cas`). It speaks over the workspace's ureq transport
//! (connect and overall timeouts, no redirects, verified TLS with the store's
//! `ca_file`), sends `X-Vault-Token` as a secret header and `X-Vault-Namespace`
//! when configured. Bodies are secret types: records hold refresh tokens.
//! Failures are mapped by what the caller does next: unreachable or sealed
//! Vault is [`Error::Unavailable`] (exit 5), a denied or expired token is
//! [`Error::Store`] naming the policy path (exit 6).
//!
//! The Vault token is resolved on the first request that needs one, so
//! `sys/health` works without it. With `auth = "approle"` or `"kubernetes"` it
//! comes from a login (`POST auth/<mount>/login`); the client logs in again
//! when the login token's lease is about to end, and once more when Vault
//! denies a request with a token from an earlier login (expired or revoked).
//!
//! Every request carries the storage index of the client's latest write, so
//! any cluster node answers with the client's own writes or forwards to the
//! active node (`consistency`). Each request gets [`REQUEST_TIMEOUT`]: a
//! paused or dying node costs a caller that long per attempt, not the
//! transport's default of 20 s.

use std::cell::RefCell;
use std::time::Instant;

use time::OffsetDateTime;

use central_auth_core::error::Error;
use central_auth_core::http::{Method, Request, Response, Transport, UreqTransport};
use central_auth_core::secret::{ExposeSecret, SecretString};

use crate::config::VaultConfig;

mod consistency;
mod login;

/// Time allowed for one request to Vault (KV reads and writes are small; a
/// node that does not answer within it is treated as unreachable).
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The Vault token in use and, for a login token, when to log in again.
struct HeldToken {
    value: SecretString,
    /// `None`: not from a login, or a login token without a lease end.
    renew_after: Option<Instant>,
}

/// The latest version of one KV v2 key.
#[derive(Debug)]
pub struct Entry {
    /// The key's data; `None` when absent or soft-deleted.
    pub data: Option<serde_json::Value>,
    /// The key's current version; 0 when it was never written.
    pub version: u64,
    /// When the version was written, by Vault's clock.
    pub created: Option<OffsetDateTime>,
    /// Vault's clock when it answered (`Date` header).
    pub server_now: Option<OffsetDateTime>,
}

/// The outcome of a check-and-set write.
#[derive(Debug, PartialEq, Eq)]
pub enum Cas {
    /// Written; the new version.
    Written(u64),
    /// Somebody else wrote first; nothing was written.
    Mismatch,
}

/// A KV v2 client for one store.
pub struct Client {
    address: String,
    config: VaultConfig,
    token: RefCell<Option<HeldToken>>,
    transport: Box<dyn Transport>,
    consistency: consistency::Consistency,
}

impl Client {
    /// Connects nothing yet: resolves the address and builds the agent. The
    /// token is resolved (or the login made) by the first request needing it.
    pub fn new(config: &VaultConfig) -> Result<Client, Error> {
        let address = config.address()?;
        let transport = UreqTransport::new(config.ca_file.as_deref())?;
        Ok(Client {
            address,
            config: config.clone(),
            token: RefCell::new(None),
            transport: Box::new(transport),
            consistency: consistency::Consistency::default(),
        })
    }

    /// Sends an authenticated request; with a login token from an earlier
    /// login that Vault denies (it expired or was revoked), logs in again and
    /// sends it once more.
    fn send_authed(
        &self,
        method: Method,
        api: &str,
        body: Option<&SecretString>,
    ) -> Result<Response, Error> {
        let (token, fresh) = self.token()?;
        let mut response = self.send(self.request(method, api, token, body), api)?;
        if matches!(response.status, 401 | 403) && self.config.token.is_login() && !fresh {
            *self.token.borrow_mut() = None;
            let (token, _) = self.token()?;
            response = self.send(self.request(method, api, token, body), api)?;
        }
        self.consistency.observe(&response, method == Method::Post);
        Ok(response)
    }

    /// The Vault address, for messages.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Reads the latest version of `key` (a path under the store's `path`).
    pub fn read(&self, key: &str) -> Result<Entry, Error> {
        let api = self.config.data_path(key);
        let response = self.send_authed(Method::Get, &api, None)?;
        let server_now = response.header("date").and_then(|d| {
            time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc2822).ok()
        });
        match response.status {
            200 | 404 => {}
            _ => return Err(self.failure(&response, &api, "read")),
        }
        let body: serde_json::Value =
            serde_json::from_str(response.body.expose_secret()).unwrap_or(serde_json::Value::Null);
        let outer = &body["data"];
        let meta = &outer["metadata"];
        let version = meta["version"].as_u64().unwrap_or(0);
        let created = meta["created_time"].as_str().and_then(|t| {
            OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        });
        if response.status == 404
            && version == 0
            && body
                .get("errors")
                .is_some_and(|e| e.as_array().is_some_and(|a| !a.is_empty()))
        {
            // A 404 with an error text means the mount or path is wrong, not "absent".
            return Err(self.failure(&response, &api, "read"));
        }
        let data = match &outer["data"] {
            serde_json::Value::Null => None,
            d => Some(d.clone()),
        };
        Ok(Entry {
            data,
            version,
            created,
            server_now,
        })
    }

    /// Writes `data` (a JSON object, secret) to `key` only if its current version
    /// is `cas` (0: only if it never existed).
    pub fn write(&self, key: &str, data: &SecretString, cas: u64) -> Result<Cas, Error> {
        let api = self.config.data_path(key);
        let body = format!(
            "{{\"options\":{{\"cas\":{cas}}},\"data\":{}}}",
            data.expose_secret()
        );
        let response = self.send_authed(Method::Post, &api, Some(&SecretString::from(body)))?;
        match response.status {
            200 | 204 => {
                let body: serde_json::Value = serde_json::from_str(response.body.expose_secret())
                    .unwrap_or(serde_json::Value::Null);
                Ok(Cas::Written(
                    body["data"]["version"].as_u64().unwrap_or(cas + 1),
                ))
            }
            400 if vault_errors(&response).contains("check-and-set") => Ok(Cas::Mismatch),
            _ => Err(self.failure(&response, &api, "write")),
        }
    }

    /// Proves the policy allows writing `key` without writing it: a
    /// check-and-set write over a version the key cannot have. Vault checks
    /// the policy first (403) and then the version (400, nothing written).
    pub fn probe_write(&self, key: &str) -> Result<(), Error> {
        let current = self.read(key)?.version;
        let body = SecretString::from("{\"probe\":true}".to_owned());
        match self.write(key, &body, current + 1_000_000)? {
            Cas::Mismatch => Ok(()),
            Cas::Written(v) => Err(Error::store(format!(
                "BUG: the write probe of {} was stored as version {v}",
                self.config.data_path(key)
            ))),
        }
    }

    /// Checks the token works, for `doctor`: `auth/token/lookup-self` gives
    /// its remaining TTL in seconds (`Some(0)`: it does not expire). A token
    /// without the `default` policy may not look itself up, and Vault answers
    /// a revoked token with the same 403; then a read of `key` (which the
    /// store's policy must allow) decides, and the TTL is unknown (`None`).
    pub fn check_token(&self, key: &str) -> Result<Option<u64>, Error> {
        let api = "auth/token/lookup-self";
        let response = self.send_authed(Method::Get, api, None)?;
        match response.status {
            200 => {
                let body: serde_json::Value = serde_json::from_str(response.body.expose_secret())
                    .unwrap_or(serde_json::Value::Null);
                Ok(Some(body["data"]["ttl"].as_u64().unwrap_or(0)))
            }
            403 if !vault_errors(&response).contains("invalid token") => {
                self.read(key)?;
                Ok(None)
            }
            _ => Err(self.failure(&response, api, "look up the token")),
        }
    }

    /// `sys/health` (unauthenticated): the server's version when it is
    /// initialized and unsealed.
    pub fn health(&self) -> Result<String, Error> {
        let api = "sys/health";
        let response = self.send(
            Request::new(Method::Get, format!("{}/v1/{api}", self.address)),
            api,
        )?;
        let body: serde_json::Value =
            serde_json::from_str(response.body.expose_secret()).unwrap_or(serde_json::Value::Null);
        match response.status {
            200 | 429 | 472 | 473 => Ok(body["version"].as_str().unwrap_or("unknown").to_owned()),
            503 => Err(Error::store_unavailable(format!(
                "Vault at {} is sealed; unseal it (`vault operator unseal`)",
                self.address
            ))),
            501 => Err(Error::store_unavailable(format!(
                "Vault at {} is not initialized",
                self.address
            ))),
            _ => Err(self.failure(&response, api, "check health")),
        }
    }

    fn request(
        &self,
        method: Method,
        api: &str,
        token: SecretString,
        body: Option<&SecretString>,
    ) -> Request {
        let mut r = Request::new(method, format!("{}/v1/{api}", self.address))
            .secret_header("X-Vault-Token", token);
        if let Some(ns) = &self.config.namespace {
            r = r.header("X-Vault-Namespace", ns.as_str());
        }
        if let Some(body) = body {
            r = r.json_body(central_auth_core::secret::duplicate(body));
        }
        self.consistency.apply(r)
    }

    /// Sends `request`; a standby's `307` to the active node is followed once.
    fn send(&self, mut request: Request, api: &str) -> Result<Response, Error> {
        let response = self.send_once(&request, api, &self.address)?;
        match consistency::redirect_target(&response) {
            Some(target) => {
                let host = central_auth_core::net::host_of(&target).to_owned();
                request.url = target;
                self.send_once(&request, api, &host)
            }
            None => Ok(response),
        }
    }

    fn send_once(&self, request: &Request, api: &str, node: &str) -> Result<Response, Error> {
        self.transport.send(request, REQUEST_TIMEOUT).map_err(|e| {
            Error::store_unavailable(format!(
                "Vault at {node} is unreachable ({}) for {api}; retry when Vault answers",
                e.message
            ))
        })
    }

    fn failure(&self, response: &Response, api: &str, what: &str) -> Error {
        let errors = vault_errors(response);
        match response.status {
            401 | 403 if self.config.token.is_login() => Error::store(format!(
                "Vault at {} denied the token of the {} ({}) to {what} {api}: its policy lacks path \"{}\" with capabilities [\"create\", \"read\", \"update\"]; add the policy of fleet.md of the central-auth docs to the role's token_policies",
                self.address,
                self.config.token.describe(),
                if errors.is_empty() { "permission denied".to_owned() } else { errors },
                self.config.policy_path()
            )),
            401 | 403 => Error::store(format!(
                "Vault at {} denied the token ({}) to {what} {api}: the token expired or was revoked, or its policy lacks path \"{}\" with capabilities [\"create\", \"read\", \"update\"]; renew the token (`vault login`) or fix the policy (fleet.md of the central-auth docs)",
                self.address,
                if errors.is_empty() { "permission denied".to_owned() } else { errors },
                self.config.policy_path()
            )),
            307 => Error::store_unavailable(format!(
                "Vault at {} redirected {what} {api} to the active node ({}), which did not answer; the cluster is electing a leader or the active node is away, retry in a few seconds",
                self.address,
                response.header("location").map_or("no Location", |l| central_auth_core::net::host_of(l)),
            )),
            // A standby that has not seen a new KV v2 mount's upgrade yet.
            400 if errors.contains("to upgrade from non-versioned to versioned") => {
                Error::store_unavailable(format!(
                    "Vault at {} is still upgrading the KV mount {:?} ({errors}); retry in a few seconds",
                    self.address, self.config.mount
                ))
            }
            429 | 500..=599 => Error::store_unavailable(format!(
                "Vault at {} answered HTTP {} ({errors}) to {what} {api}; it is sealed, electing a leader or overloaded, retry in a few seconds",
                self.address, response.status
            )),
            404 => Error::store(format!(
                "Vault at {} has no KV version 2 mount at {:?} ({errors}); fix mount in [stores.{}] or enable it with `vault secrets enable -path={} kv-v2`",
                self.address, self.config.mount, self.config.name, self.config.mount
            )),
            s => Error::store(format!(
                "Vault at {} answered HTTP {s} ({errors}) to {what} {api}; check the store's mount and path (fleet.md of the central-auth docs)",
                self.address
            )),
        }
    }
}

/// Vault's `errors` array joined into one line, whitespace collapsed (they
/// never hold secrets).
fn vault_errors(response: &Response) -> String {
    let body: serde_json::Value =
        serde_json::from_str(response.body.expose_secret()).unwrap_or(serde_json::Value::Null);
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e.as_str())
                .map(|e| e.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests;
