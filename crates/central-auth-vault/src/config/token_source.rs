//! Where a Vault store's token comes from (`token_env`, `token_file`,
//! `token_cmd`, the defaults, or an AppRole or Kubernetes login) and how each
//! is read. A token is resolved only when a request needs it.

use std::path::{Path, PathBuf};

use central_auth_core::error::Error;
use central_auth_core::fsutil::foreign::{self, Readers, Rule};
use central_auth_core::secret::{ExposeSecret, SecretString};

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
    /// `approle login at auth/approle/login (role_id ...)`, ... For the
    /// default, the one source a call would use now (`$VAULT_TOKEN`,
    /// `$BAO_TOKEN` or `~/.vault-token`), as `status` and `doctor` show it.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::Default => default_in_use(),
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

/// Which default source `resolve` would use now, in its order; the token
/// itself is never read.
fn default_in_use() -> String {
    for var in TOKEN_ENVS {
        if std::env::var(var).is_ok_and(|v| !v.trim().is_empty()) {
            return format!(
                "${var} (the default: $VAULT_TOKEN, then $BAO_TOKEN, then ~/.vault-token)"
            );
        }
    }
    match default_token_file() {
        Some(f) if std::fs::symlink_metadata(&f).is_ok() => format!(
            "~/.vault-token ({}; $VAULT_TOKEN and $BAO_TOKEN are not set)",
            f.display()
        ),
        _ => "none: $VAULT_TOKEN and $BAO_TOKEN are not set and there is no ~/.vault-token"
            .to_owned(),
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
                if let Some(file) = default_token_file() {
                    if let Some(token) = read_secret_file(&file, &DEFAULT_FILE)? {
                        return Ok(token);
                    }
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
            TokenSource::File(path) => read_token_file(path, &TOKEN_FILE),
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
            SecretIdSource::File(path) => read_token_file(path, &SECRET_ID_FILE),
        }
    }
}

/// Reads the Kubernetes service account token (`jwt_file`), trimmed, after
/// the checks of [`JWT_FILE`].
pub fn read_jwt(path: &Path) -> Result<SecretString, Error> {
    let fix = "run in a pod with a mounted service account token or fix jwt_file (fleet.md of the central-auth docs)";
    match read_secret_file(path, &JWT_FILE)? {
        Some(jwt) => Ok(jwt),
        None => Err(Error::store(format!(
            "the Kubernetes service account token {} does not exist or is empty; {fix}",
            path.display()
        ))),
    }
}

/// `~/.vault-token`, where `vault login` and `bao login` keep the token.
pub fn default_token_file() -> Option<PathBuf> {
    dirs::home_dir().map(|h| h.join(".vault-token"))
}

/// `~/.vault-token`: the user's own, 0600 (as `vault login` writes it), no link.
pub const DEFAULT_FILE: Rule = Rule {
    what: "Vault token file",
    readers: Readers::Private,
    follow_links: false,
};
/// `token_file`: as `~/.vault-token`, but a root-owned file may be readable by
/// its group (a Vault Agent running as root, sink `mode = 0640`).
pub const TOKEN_FILE: Rule = Rule {
    what: "Vault token_file",
    readers: Readers::GroupIfRoot,
    follow_links: false,
};
/// `secret_id_file`: as `token_file`.
pub const SECRET_ID_FILE: Rule = Rule {
    what: "AppRole secret_id_file",
    readers: Readers::GroupIfRoot,
    follow_links: false,
};
/// `jwt_file`: links followed (the kubelet publishes `token -> ..data/token`),
/// the file reached checked; a root-owned token may be readable by anyone
/// (Kubernetes' default 0644).
pub const JWT_FILE: Rule = Rule {
    what: "Kubernetes service account token (jwt_file)",
    readers: Readers::AnyIfRoot,
    follow_links: true,
};

/// The largest token file read.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;

/// Reads a secret file after the checks of `rule`: `Ok(None)` when absent or
/// empty.
fn read_secret_file(path: &Path, rule: &Rule) -> Result<Option<SecretString>, Error> {
    let Some((bytes, _)) = foreign::read(path, rule, MAX_TOKEN_BYTES)? else {
        return Ok(None);
    };
    // Moved, not copied, into a secret type (zeroed on drop).
    let whole = SecretString::from(String::from_utf8(bytes).map_err(|_| {
        Error::store(format!(
            "the {} {} is not text; point the setting at the token file",
            rule.what,
            path.display()
        ))
    })?);
    let token = whole.expose_secret().trim();
    Ok((!token.is_empty()).then(|| SecretString::from(token.to_owned())))
}

fn read_token_file(path: &Path, rule: &Rule) -> Result<SecretString, Error> {
    read_secret_file(path, rule)?.ok_or_else(|| {
        Error::store(format!(
            "the {} {} does not exist or is empty; run `vault login` or fix the setting",
            rule.what,
            path.display()
        ))
    })
}
