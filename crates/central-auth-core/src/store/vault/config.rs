//! The `[stores.NAME]` table of a Vault / OpenBao KV v2 store, validated.
//!
//! Nothing here touches the network or resolves the Vault token: the cached-token
//! path parses the config on every call and must stay cheap.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::duration;
use crate::error::Error;
use crate::secret::SecretString;

/// Default KV v2 mount.
pub const DEFAULT_MOUNT: &str = "secret";
/// Default path under the mount; records live at `<mount>/data/<path>/<profile>`.
pub const DEFAULT_PATH: &str = "central-auth";
/// Default lease time-to-live: how long a crashed holder blocks the fleet.
pub const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(30);
/// Default age after which the local cache is checked against Vault again.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(30);
/// The environment variables tried for the address, in order.
pub const ADDRESS_ENVS: [&str; 2] = ["VAULT_ADDR", "BAO_ADDR"];
/// The environment variables tried for the token, in order (then `~/.vault-token`).
pub const TOKEN_ENVS: [&str; 2] = ["VAULT_TOKEN", "BAO_TOKEN"];

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
    auth: Option<String>,
    auth_mount: Option<String>,
    role_id: Option<String>,
    secret_id_env: Option<String>,
    secret_id_file: Option<PathBuf>,
}

/// Where the Vault token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `$VAULT_TOKEN`, then `$BAO_TOKEN`, then `~/.vault-token`.
    Default,
    /// This environment variable.
    Env(String),
    /// This file (first line, trimmed), e.g. written by Vault Agent.
    File(PathBuf),
    /// The stdout of this shell command, trimmed.
    Command(String),
    /// An AppRole login (`auth/<mount>/login`) on every call that contacts Vault.
    AppRole {
        /// The auth mount (default `approle`).
        mount: String,
        /// The role id (not a secret by itself).
        role_id: String,
        /// Where the secret id comes from.
        secret_id: SecretIdSource,
    },
}

/// Where an AppRole secret id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretIdSource {
    /// This environment variable.
    Env(String),
    /// This file (first line, trimmed).
    File(PathBuf),
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
        let approle_keys = raw.role_id.is_some()
            || raw.secret_id_env.is_some()
            || raw.secret_id_file.is_some()
            || raw.auth_mount.is_some();
        if approle_keys && raw.auth.as_deref() != Some("approle") {
            return Err(
                "role_id, secret_id_env, secret_id_file and auth_mount need auth = \"approle\""
                    .into(),
            );
        }
        let approle = match raw.auth.as_deref() {
            None | Some("token") => None,
            Some("approle") => {
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
            Some(other) => {
                return Err(format!(
                    "auth = {other:?} is not supported; use auth = \"approle\" or give a token with token_env, token_file or token_cmd (e.g. from Vault Agent)"
                ))
            }
        };
        let address = match raw.address {
            Some(a) => Some(crate::config::normalize_url(&a, "address")?),
            None => None,
        };
        let mount = segment_path(raw.mount.as_deref().unwrap_or(DEFAULT_MOUNT), "mount")?;
        let path = segment_path(raw.path.as_deref().unwrap_or(DEFAULT_PATH), "path")?;
        let token = match (raw.token_env, raw.token_file, raw.token_cmd) {
            (None, None, None) if approle.is_some() => approle.expect("checked"),
            _ if approle.is_some() => {
                return Err(
                    "with auth = \"approle\" do not set token_env, token_file or token_cmd".into(),
                )
            }
            (None, None, None) => TokenSource::Default,
            (Some(e), None, None) if !e.trim().is_empty() => TokenSource::Env(e),
            (None, Some(f), None) => TokenSource::File(f),
            (None, None, Some(c)) if !c.trim().is_empty() => TokenSource::Command(c),
            (Some(_), None, None) | (None, None, Some(_)) => {
                return Err("token_env or token_cmd must not be empty".into())
            }
            _ => return Err("set only one of token_env, token_file and token_cmd".into()),
        };
        let lock_ttl = match raw.lock_ttl {
            Some(t) => duration::parse(&t).map_err(|e| format!("lock_ttl: {e}"))?,
            None => DEFAULT_LOCK_TTL,
        };
        if lock_ttl < Duration::from_secs(2) {
            return Err("lock_ttl must be at least 2s (Vault's clock has 1 s steps)".into());
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
                    return crate::config::normalize_url(&v, var).map_err(Error::config);
                }
            }
        }
        Err(Error::config(format!(
            "store {:?} has no address: set address in [stores.{}] or export VAULT_ADDR",
            self.name, self.name
        )))
    }

    /// The API path (after `/v1/`) of a profile's record.
    pub fn data_path(&self, key: &str) -> String {
        format!("{}/data/{}/{}", self.mount, self.path, key)
    }

    /// The policy path (as written in an HCL policy) that covers every record.
    pub fn policy_path(&self) -> String {
        format!("{}/data/{}/*", self.mount, self.path)
    }

    /// Resolves the Vault token. Runs `token_cmd` if configured. For AppRole,
    /// see [`VaultConfig::secret_id`] and the client's login.
    pub fn token(&self) -> Result<SecretString, Error> {
        let fix = format!(
            "see docs/fleet.md; store {:?} needs a Vault token with the policy for {}",
            self.name,
            self.policy_path()
        );
        match &self.token {
            TokenSource::Default => {
                for var in TOKEN_ENVS {
                    if let Ok(v) = std::env::var(var) {
                        if !v.trim().is_empty() {
                            return Ok(SecretString::from(v.trim().to_owned()));
                        }
                    }
                }
                let file = dirs::home_dir().map(|h| h.join(".vault-token"));
                if let Some(file) = file.filter(|f| f.is_file()) {
                    return read_token_file(&file);
                }
                Err(Error::store(format!(
                    "no Vault token: export VAULT_TOKEN (or BAO_TOKEN), run `vault login`, or set token_env/token_file/token_cmd; {fix}"
                )))
            }
            TokenSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
                _ => Err(Error::store(format!(
                    "no Vault token: environment variable {var} is not set or empty; {fix}"
                ))),
            },
            TokenSource::File(path) => read_token_file(path),
            TokenSource::AppRole { .. } => Err(Error::store(
                "BUG: an AppRole token comes from a login, not from the config".to_owned(),
            )),
            TokenSource::Command(cmd) => crate::secret_source::SecretSource::Command(cmd.clone())
                .resolve(
                    "Vault token",
                    crate::secret_source::DEFAULT_CMD_TIMEOUT,
                    &|_| {},
                )
                .map_err(|e| Error::store(e.to_string())),
        }
    }
}

impl SecretIdSource {
    /// Resolves the AppRole secret id.
    pub fn resolve(&self) -> Result<SecretString, Error> {
        match self {
            SecretIdSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
                _ => Err(Error::store(format!(
                    "no AppRole secret id: environment variable {var} is not set or empty; export it or fix secret_id_env"
                ))),
            },
            SecretIdSource::File(path) => read_token_file(path),
        }
    }
}

fn read_token_file(path: &Path) -> Result<SecretString, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::store(format!(
            "cannot read the Vault token file {}: {e}; run `vault login` or fix token_file",
            path.display()
        ))
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::store(format!(
            "the Vault token file {} is empty; run `vault login` or fix token_file",
            path.display()
        )));
    }
    Ok(SecretString::from(token.to_owned()))
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
        let e =
            VaultConfig::resolve("t", raw("kind = \"vault\"\nauth = \"kubernetes\"")).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
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
}
