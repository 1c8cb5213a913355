//! The configuration file: profiles, their endpoints and where their secrets come from.
//!
//! `config.toml` holds a top-level `default_profile` and one `[profiles.NAME]` table
//! per profile. Parsing is strict (unknown keys are errors that name the key), and
//! every problem is reported as one line saying how to fix it. Secrets are never
//! resolved here: a profile only says *where* its secret comes from
//! ([`SecretSource`]), so the cached-token path never runs a `*_cmd`.

mod load;
mod profile;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::secret_source::SecretSource;
use crate::store::backend::StoreConfig;

pub use crate::net::{check_authority, host_of, is_loopback, normalize_url};
pub use crate::profile_name::ProfileName;
pub(crate) use load::has_literal_secret_key;

/// Default for how long a returned token must stay valid.
pub const DEFAULT_MIN_VALID: Duration = Duration::from_secs(300);
/// Default bound on waiting for another process's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// How a profile obtains tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Classic Central: a rotating access/refresh token pair.
    RefreshToken,
    /// New Central / GreenLake: mint a token with the client id and secret.
    ClientCredentials,
    /// An MSP tenant: exchange the `from` profile's token for the tenant's
    /// (RFC 8693).
    TokenExchange,
}

impl Grant {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
            Grant::TokenExchange => "token_exchange",
        }
    }

    /// True when the grant keeps no refresh chain: a new token is minted or
    /// exchanged whenever one is needed.
    pub fn is_minted(self) -> bool {
        self != Grant::RefreshToken
    }
}

/// The tenant a `grant = "token_exchange"` profile stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantRef {
    /// The MSP profile whose token is exchanged.
    pub from: ProfileName,
    /// The tenant workspace id, lowercase hexadecimal without dashes.
    pub id: Option<String>,
    /// The tenant's workspace name, resolved through the tenant list once.
    pub name: Option<String>,
}

/// One resolved, validated profile.
#[derive(Debug)]
pub struct Profile {
    /// The profile's name.
    pub name: ProfileName,
    /// API gateway base URL without a trailing slash.
    pub base_url: String,
    /// How tokens are obtained.
    pub grant: Grant,
    /// Token endpoint for client credentials.
    pub token_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// Where the client secret comes from.
    pub client_secret: SecretSource,
    /// Central customer id (classic login).
    pub customer_id: Option<String>,
    /// Username for the classic OAuth login.
    pub username: Option<String>,
    /// Where the password comes from, if configured.
    pub password: Option<SecretSource>,
    /// Extra CA certificates (PEM) to trust for this profile.
    pub ca_file: Option<PathBuf>,
    /// Default minimum validity of returned tokens.
    pub min_valid: Duration,
    /// Bound on waiting for the profile lock.
    pub lock_timeout: Duration,
    /// Bound on each `*_cmd` secret command.
    pub secret_cmd_timeout: Duration,
    /// Hosts for which the git helper answers with this profile.
    pub git_hosts: Vec<String>,
    /// Name of the `[stores.NAME]` table holding this profile's record; `None`
    /// for the local file store.
    pub store: Option<String>,
    /// The GreenLake workspace of a client-credentials profile (unified and
    /// MSP credentials), lowercase hexadecimal without dashes.
    pub workspace_id: Option<String>,
    /// The GreenLake API base (workspace issuers, the tenant list).
    pub glp_base_url: String,
    /// For a tenant profile: its MSP profile and the tenant.
    pub tenant: Option<TenantRef>,
    /// True when `token_url` was written in the profile (a tenant profile's
    /// exchange URL then stays as written).
    pub token_url_set: bool,
}

impl Profile {
    /// The host (and port) of the base URL, used to match git hosts.
    pub fn base_host(&self) -> &str {
        host_of(&self.base_url)
    }

    /// True when a username and a non-interactive password source are configured,
    /// so the broker may log in again by itself.
    pub fn can_relogin(&self) -> bool {
        self.username.is_some() && self.password.is_some() && self.customer_id.is_some()
    }
}

/// The parsed config file.
#[derive(Debug)]
pub struct Config {
    /// Path the config was read from (for messages).
    pub path: PathBuf,
    /// `default_profile` from the file.
    pub default_profile: Option<ProfileName>,
    /// Profiles by name.
    pub profiles: BTreeMap<ProfileName, Profile>,
    /// Shared token stores by name (`[stores.NAME]`), each parsed by the
    /// backend of its `kind` ([`crate::store::backend`]).
    pub stores: BTreeMap<String, Box<dyn StoreConfig>>,
    /// True when a profile this config left unread ([`Config::load_for`]) has a
    /// literal `client_secret` key (for the exposure warning).
    pub unread_literal_secret: bool,
}

impl Config {
    /// Picks the profile to use: `explicit` (from `--profile`), else the
    /// `CENTRAL_AUTH_PROFILE` value passed in `from_env`, else `default_profile`,
    /// else the only profile if there is exactly one.
    pub fn select(
        &self,
        explicit: Option<&str>,
        from_env: Option<&str>,
    ) -> Result<&Profile, Error> {
        let from_env = from_env.filter(|s| !s.is_empty());
        let (chosen, source) = match (explicit, from_env) {
            (Some(n), _) => (Some(n), "--profile"),
            (None, Some(n)) => (Some(n), "CENTRAL_AUTH_PROFILE"),
            (None, None) => (None, "default_profile"),
        };
        let name = match chosen {
            Some(n) => ProfileName::new(n)
                .map_err(|e| Error::config(format!("{source}: {e}")))?,
            None => match (&self.default_profile, self.profiles.len()) {
                (Some(d), _) => d.clone(),
                (None, 1) => self
                    .profiles
                    .keys()
                    .next()
                    .expect("length checked to be 1")
                    .clone(),
                (None, 0) => {
                    let state = if self.path.exists() {
                        "exists but has no [profiles.NAME] table"
                    } else {
                        "does not exist"
                    };
                    return Err(Error::config(format!(
                        "no profiles configured: the config file {} {state}; add a [profiles.NAME] table (see {})",
                        self.path.display(),
                        crate::docs_ref::page("configuration")
                    )));
                }
                (None, _) => {
                    return Err(Error::config(format!(
                        "several profiles and no default in {}; pass --profile, set CENTRAL_AUTH_PROFILE, or set default_profile",
                        self.path.display()
                    )))
                }
            },
        };
        match self.profiles.get(&name) {
            Some(p) => Ok(p),
            None => Err(self.missing(&name, chosen.map(|_| source))),
        }
    }

    /// The named profile, or an error listing the known ones.
    pub fn get(&self, name: &ProfileName) -> Result<&Profile, Error> {
        self.profiles
            .get(name)
            .ok_or_else(|| self.missing(name, None))
    }

    /// The error for an unknown profile name, saying where the name came from
    /// (`--profile`, `CENTRAL_AUTH_PROFILE`) when known.
    fn missing(&self, name: &ProfileName, source: Option<&str>) -> Error {
        let known: Vec<&str> = self.profiles.keys().map(|k| k.as_str()).collect();
        let source = source.map(|s| format!(" (from {s})")).unwrap_or_default();
        let exists = if self.path.exists() {
            ""
        } else {
            ", which does not exist"
        };
        Error::config(format!(
                "no profile {name:?}{source} in {}{exists} (known: {}); add [profiles.{name}] or fix the name",
                self.path.display(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
    }
}
