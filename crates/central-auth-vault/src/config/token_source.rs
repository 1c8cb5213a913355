//! Where a Vault store's token comes from (`token_env`, `token_file`,
//! `token_cmd`, the defaults, or an AppRole or Kubernetes login) and how each
//! is read. A token is resolved only when a request needs it.

use std::path::{Path, PathBuf};

use central_auth_core::error::Error;
use central_auth_core::secret::SecretString;

/// The environment variables tried for the token, in order (then `~/.vault-token`).
pub const TOKEN_ENVS: [&str; 2] = ["VAULT_TOKEN", "BAO_TOKEN"];
/// Where Kubernetes mounts a pod's service account token (the default `jwt_file`).
pub const DEFAULT_JWT_FILE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
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
    /// A Kubernetes login (`auth/<mount>/login` with the service account JWT)
    /// on every call that contacts Vault.
    Kubernetes {
        /// The auth mount (default `kubernetes`).
        mount: String,
        /// The Vault role bound to the service account.
        role: String,
        /// The service account token file, read at each login (kubelet
        /// rotates projected tokens).
        jwt_file: PathBuf,
    },
}

impl TokenSource {
    /// The auth method's name as `status` shows it: `token`, `approle` or
    /// `kubernetes`.
    pub fn method(&self) -> &'static str {
        match self {
            TokenSource::AppRole { .. } => "approle",
            TokenSource::Kubernetes { .. } => "kubernetes",
            _ => "token",
        }
    }

    /// Where the token comes from, without any secret: `token_env VAR`,
    /// `approle login at auth/approle/login (role_id ...)`, ...
    pub fn describe(&self) -> String {
        match self {
            TokenSource::Default => "$VAULT_TOKEN, $BAO_TOKEN or ~/.vault-token".to_owned(),
            TokenSource::Env(var) => format!("token_env {var}"),
            TokenSource::File(f) => format!("token_file {}", f.display()),
            TokenSource::Command(_) => "token_cmd".to_owned(),
            TokenSource::AppRole { mount, role_id, .. } => {
                format!("approle login at auth/{mount}/login (role_id {role_id})")
            }
            TokenSource::Kubernetes {
                mount,
                role,
                jwt_file,
            } => format!(
                "kubernetes login at auth/{mount}/login (role {role}, jwt_file {})",
                jwt_file.display()
            ),
        }
    }

    /// True when the token comes from a login that can be repeated when the
    /// token expires.
    pub fn is_login(&self) -> bool {
        matches!(
            self,
            TokenSource::AppRole { .. } | TokenSource::Kubernetes { .. }
        )
    }
}

/// Where an AppRole secret id comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretIdSource {
    /// This environment variable.
    Env(String),
    /// This file (first line, trimmed).
    File(PathBuf),
}

impl TokenSource {
    /// Resolves the Vault token of the store `store` whose records are under
    /// `policy_path`. Runs `token_cmd` if configured. For AppRole, see
    /// `SecretIdSource::resolve` and the client's login.
    pub fn resolve(&self, store: &str, policy_path: &str) -> Result<SecretString, Error> {
        let fix = format!(
            "see fleet.md of the central-auth docs; store {store:?} needs a Vault token with the policy for {policy_path}"
        );
        match self {
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
            TokenSource::AppRole { .. } | TokenSource::Kubernetes { .. } => Err(Error::store(
                "BUG: a login token comes from the client's login, not from the config".to_owned(),
            )),
            TokenSource::Command(cmd) => {
                central_auth_core::secret_source::SecretSource::Command(cmd.clone())
                    .resolve(
                        "Vault token",
                        central_auth_core::secret_source::DEFAULT_CMD_TIMEOUT,
                        &|_| {},
                    )
                    .map_err(|e| Error::store(e.to_string()))
            }
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

/// Reads the Kubernetes service account token (`jwt_file`), trimmed.
pub fn read_jwt(path: &Path) -> Result<SecretString, Error> {
    let fix = "run in a pod with a mounted service account token or fix jwt_file (fleet.md of the central-auth docs)";
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::store(format!(
            "cannot read the Kubernetes service account token {}: {e}; {fix}",
            path.display()
        ))
    })?;
    let jwt = text.trim();
    if jwt.is_empty() {
        return Err(Error::store(format!(
            "the Kubernetes service account token {} is empty; {fix}",
            path.display()
        )));
    }
    Ok(SecretString::from(jwt.to_owned()))
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
