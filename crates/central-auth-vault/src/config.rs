//! The `[stores.NAME]` table of a Vault / OpenBao KV v2 store, validated.
//!
//! Nothing here touches the network or resolves the Vault token: the cached-token
//! path parses the config on every call and must stay cheap.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use central_auth_core::duration;
use central_auth_core::error::Error;
use central_auth_core::secret::SecretString;

mod token_source;

pub use token_source::{read_jwt, SecretIdSource, TokenSource, DEFAULT_JWT_FILE};

/// Default KV v2 mount.
pub const DEFAULT_MOUNT: &str = "secret";
/// Default path under the mount; records live at `<mount>/data/<path>/<profile>`.
pub const DEFAULT_PATH: &str = "central-auth";
/// Default lease time-to-live: how long a crashed holder blocks the fleet.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(30);
/// The longest lease: the largest `lock_ttl` a config may set, and the most a
/// peer's lease record is trusted with.
pub const MAX_LEASE_TTL: Duration = Duration::from_secs(600);
/// Default age after which the local cache is checked against Vault again.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// The environment variables tried for the address, in order.
pub const ADDRESS_ENVS: [&str; 2] = ["VAULT_ADDR", "BAO_ADDR"];

/// The table as written in the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVaultConfig {
    kind: Option<String>,
    address: Option<String>,
    mount: Option<String>,
    path: Option<String>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    token_cmd: Option<String>,
    namespace: Option<String>,
    ca_file: Option<PathBuf>,
    lock_ttl: Option<String>,
    cache_ttl: Option<String>,
    rescue: Option<bool>,
    auth: Option<String>,
    auth_mount: Option<String>,
    role_id: Option<String>,
    secret_id_env: Option<String>,
    secret_id_file: Option<PathBuf>,
    role: Option<String>,
    jwt_file: Option<PathBuf>,
}

/// One validated `[stores.NAME]` table of kind `vault`.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    /// The table's name.
    pub name: String,
    /// `address`, if written; else taken from `$VAULT_ADDR`/`$BAO_ADDR` when used.
    pub address: Option<String>,
    /// The KV v2 mount.
    pub mount: String,
    /// The path under the mount.
    pub path: String,
    /// Where the token comes from.
    pub token: TokenSource,
    /// Vault Enterprise namespace (`X-Vault-Namespace`).
    pub namespace: Option<String>,
    /// Extra CA certificates (PEM) to trust for Vault.
    pub ca_file: Option<PathBuf>,
    /// Lease time-to-live.
    pub lock_ttl: Duration,
    /// Local cache freshness.
    pub cache_ttl: Duration,
    /// Keep a rotated pair the store would not take in a local rescue record
    /// (`rescue`, default true).
    pub rescue: bool,
}

impl VaultConfig {
    /// Validates one table; errors are one line naming the key.
    pub fn resolve(name: &str, raw: RawVaultConfig) -> Result<VaultConfig, String> {
        let ok_name = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
        if !ok_name {
            return Err("store names use 1 to 64 letters, digits, '_' or '-'".into());
        }
        match raw.kind.as_deref() {
            Some("vault") | Some("openbao") => {}
            Some(other) => {
                return Err(format!(
                    "kind {other:?} is not supported; use kind = \"vault\" (HashiCorp Vault or OpenBao, KV version 2)"
                ))
            }
            None => return Err("kind is missing; write kind = \"vault\"".into()),
        }
        let method = raw.auth.as_deref().unwrap_or("token");
        let approle_keys =
            raw.role_id.is_some() || raw.secret_id_env.is_some() || raw.secret_id_file.is_some();
        if approle_keys && method != "approle" {
            return Err("role_id, secret_id_env and secret_id_file need auth = \"approle\"".into());
        }
        if (raw.role.is_some() || raw.jwt_file.is_some()) && method != "kubernetes" {
            return Err("role and jwt_file need auth = \"kubernetes\"".into());
        }
        if raw.auth_mount.is_some() && !matches!(method, "approle" | "kubernetes") {
            return Err("auth_mount needs auth = \"approle\" or auth = \"kubernetes\"".into());
        }
        let login = match method {
            "token" => None,
            "approle" => {
                let role_id = raw
                    .role_id
                    .filter(|r| !r.trim().is_empty())
                    .ok_or("auth = \"approle\" needs role_id")?;
                let secret_id = match (raw.secret_id_env, raw.secret_id_file) {
                    (Some(e), None) if !e.trim().is_empty() => SecretIdSource::Env(e),
                    (None, Some(f)) => SecretIdSource::File(f),
                    _ => {
                        return Err(
                            "auth = \"approle\" needs exactly one of secret_id_env and secret_id_file"
                                .into(),
                        )
                    }
                };
                let mount = segment_path(raw.auth_mount.as_deref().unwrap_or("approle"), "auth_mount")?;
                Some(TokenSource::AppRole {
                    mount,
                    role_id,
                    secret_id,
                })
            }
            "kubernetes" => {
                let role = raw
                    .role
                    .filter(|r| !r.trim().is_empty())
                    .ok_or("auth = \"kubernetes\" needs role (the Vault role bound to the service account)")?;
                let jwt_file = raw
                    .jwt_file
                    .filter(|f| !f.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_JWT_FILE));
                let mount =
                    segment_path(raw.auth_mount.as_deref().unwrap_or("kubernetes"), "auth_mount")?;
                Some(TokenSource::Kubernetes {
                    mount,
                    role,
                    jwt_file,
                })
            }
            other => {
                return Err(format!(
                    "auth = {other:?} is not supported; use auth = \"approle\" or \"kubernetes\", or give a token with token_env, token_file or token_cmd (e.g. from Vault Agent)"
                ))
            }
        };
        let address = match raw.address {
            Some(a) => Some(central_auth_core::net::normalize_url(&a, "address")?),
            None => None,
        };
        let mount = segment_path(raw.mount.as_deref().unwrap_or(DEFAULT_MOUNT), "mount")?;
        let path = segment_path(raw.path.as_deref().unwrap_or(DEFAULT_PATH), "path")?;
        let token = match (login, raw.token_env, raw.token_file, raw.token_cmd) {
            (Some(login), None, None, None) => login,
            (Some(_), ..) => {
                return Err(format!(
                    "with auth = {method:?} do not set token_env, token_file or token_cmd"
                ))
            }
            (None, None, None, None) => TokenSource::Default,
            (None, Some(e), None, None) if !e.trim().is_empty() => TokenSource::Env(e),
            (None, None, Some(f), None) => TokenSource::File(f),
            (None, None, None, Some(c)) if !c.trim().is_empty() => TokenSource::Command(c),
            (None, Some(_), None, None) | (None, None, None, Some(_)) => {
                return Err("token_env or token_cmd must not be empty".into())
            }
            _ => return Err("set only one of token_env, token_file and token_cmd".into()),
        };
        let lock_ttl = match raw.lock_ttl {
            Some(t) => duration::parse(&t).map_err(|e| format!("lock_ttl: {e}"))?,
            None => DEFAULT_LOCK_TTL,
        };
        let budget = central_auth_core::store::OPERATION_BUDGET;
        if lock_ttl < budget {
            return Err(format!(
                "lock_ttl {} is shorter than one refresh may take ({}: secret commands and every request to Central); set lock_ttl = \"{}\" or more",
                duration::format(lock_ttl),
                duration::format(budget),
                duration::format(budget)
            ));
        }
        if lock_ttl > MAX_LEASE_TTL {
            return Err(format!(
                "lock_ttl {} is longer than {}: a crashed machine would block the fleet that long; set a shorter lock_ttl",
                duration::format(lock_ttl),
                duration::format(MAX_LEASE_TTL)
            ));
        }
        let cache_ttl = match raw.cache_ttl {
            Some(t) => duration::parse(&t).map_err(|e| format!("cache_ttl: {e}"))?,
            None => DEFAULT_CACHE_TTL,
        };
        Ok(VaultConfig {
            name: name.to_owned(),
            address,
            mount,
            path,
            token,
            namespace: raw.namespace.filter(|n| !n.trim().is_empty()),
            ca_file: raw.ca_file,
            lock_ttl,
            cache_ttl,
            rescue: raw.rescue.unwrap_or(true),
        })
    }

    /// The Vault address: `address`, else `$VAULT_ADDR`, else `$BAO_ADDR`.
    pub fn address(&self) -> Result<String, Error> {
        if let Some(a) = &self.address {
            return Ok(a.clone());
        }
        for var in ADDRESS_ENVS {
            if let Ok(v) = std::env::var(var) {
                if !v.trim().is_empty() {
                    return central_auth_core::net::normalize_url(&v, var).map_err(Error::config);
                }
            }
        }
        Err(Error::config(format!(
            "store {:?} has no address: set address in [stores.{}] or export VAULT_ADDR",
            self.name, self.name
        )))
    }

    /// Resolves the Vault token ([`TokenSource::resolve`]).
    pub fn token(&self) -> Result<SecretString, Error> {
        self.token.resolve(&self.name, &self.policy_path())
    }

    /// The API path (after `/v1/`) of a profile's record.
    pub fn data_path(&self, key: &str) -> String {
        format!("{}/data/{}/{}", self.mount, self.path, key)
    }

    /// The policy path (as written in an HCL policy) that covers every record.
    pub fn policy_path(&self) -> String {
        format!("{}/data/{}/*", self.mount, self.path)
    }
}

/// A `/`-separated path of safe segments, without leading or trailing `/`.
fn segment_path(text: &str, key: &str) -> Result<String, String> {
    let t = text.trim().trim_matches('/');
    let ok = !t.is_empty()
        && t.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        });
    if ok {
        Ok(t.to_owned())
    } else {
        Err(format!(
            "{key} {text:?} must be '/'-separated names of letters, digits, '.', '_' or '-'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawVaultConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_and_paths() {
        let c = VaultConfig::resolve("team", raw("kind = \"vault\"")).unwrap();
        assert_eq!(c.mount, "secret");
        assert_eq!(c.data_path("prod"), "secret/data/central-auth/prod");
        assert_eq!(c.policy_path(), "secret/data/central-auth/*");
        assert_eq!(c.lock_ttl, DEFAULT_LOCK_TTL);
        assert_eq!(c.token, TokenSource::Default);
    }

    #[test]
    fn bad_tables_name_the_fix() {
        let e = VaultConfig::resolve("t", raw("kind = \"etcd\"")).unwrap_err();
        assert!(e.contains("kind = \"vault\""), "{e}");
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\npath = \"../x\"")).unwrap_err();
        assert!(e.contains("path"), "{e}");
        let e = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\ntoken_env = \"A\"\ntoken_cmd = \"b\""),
        )
        .unwrap_err();
        assert!(e.contains("only one of"), "{e}");
        let e = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\naddress = \"http://vault.example.com\""),
        )
        .unwrap_err();
        assert!(e.contains("plain http"), "{e}");
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\nauth = \"ldap\"")).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\nlock_ttl = \"10s\"")).unwrap_err();
        assert!(
            e.contains("lock_ttl 10s is shorter") && e.contains("25s"),
            "{e}"
        );
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\nlock_ttl = \"1h\"")).unwrap_err();
        assert!(e.contains("longer than"), "{e}");
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\nauth = \"approle\"")).unwrap_err();
        assert!(e.contains("role_id"), "{e}");
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\nrole_id = \"r\"")).unwrap_err();
        assert!(e.contains("need auth"), "{e}");
        let ok = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\nauth = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"S\""),
        )
        .unwrap();
        assert!(matches!(ok.token, TokenSource::AppRole { ref mount, .. } if mount == "approle"));
    }

    #[test]
    fn kubernetes_auth_keys() {
        let e =
            VaultConfig::resolve("t", raw("kind = \"vault\"\nauth = \"kubernetes\"")).unwrap_err();
        assert!(e.contains("needs role"), "{e}");
        let e = VaultConfig::resolve("t", raw("kind = \"vault\"\nrole = \"r\"")).unwrap_err();
        assert!(e.contains("need auth = \"kubernetes\""), "{e}");
        let e = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\nauth = \"kubernetes\"\nrole = \"r\"\nrole_id = \"x\""),
        )
        .unwrap_err();
        assert!(e.contains("need auth = \"approle\""), "{e}");
        let e = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\nauth = \"kubernetes\"\nrole = \"r\"\ntoken_env = \"T\""),
        )
        .unwrap_err();
        assert!(e.contains("do not set token_env"), "{e}");
        let e =
            VaultConfig::resolve("t", raw("kind = \"vault\"\nauth_mount = \"k8s\"")).unwrap_err();
        assert!(e.contains("auth_mount needs"), "{e}");
        let ok = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\nauth = \"kubernetes\"\nrole = \"ci\""),
        )
        .unwrap();
        assert_eq!(
            ok.token,
            TokenSource::Kubernetes {
                mount: "kubernetes".into(),
                role: "ci".into(),
                jwt_file: PathBuf::from(DEFAULT_JWT_FILE),
            }
        );
        assert_eq!(ok.token.method(), "kubernetes");
        let ok = VaultConfig::resolve(
            "t",
            raw("kind = \"vault\"\nauth = \"kubernetes\"\nrole = \"ci\"\nauth_mount = \"/k8s/prod/\"\njwt_file = \"/tmp/jwt\""),
        )
        .unwrap();
        assert_eq!(
            ok.token.describe(),
            "kubernetes login at auth/k8s/prod/login (role ci, jwt_file /tmp/jwt)"
        );
    }
}
