//! [`Remote`]: what a Vault store and its guards share: the validated
//! configuration, the local directory of lock, cache and rescue files, and the
//! client (built on first use), with the unlocked record read.

use std::cell::OnceCell;
use std::path::PathBuf;

use central_auth_core::error::Error;
use central_auth_core::profile_name::ProfileName;
use central_auth_core::token::StoredToken;

use crate::client::Client;
use crate::config::VaultConfig;
use crate::rescue;

/// A Vault / OpenBao KV v2 store's configuration, local directory and
/// client: what the store and its guards share.
pub struct Remote {
    pub(crate) config: VaultConfig,
    pub(crate) dir: PathBuf,
    client: OnceCell<Client>,
}

impl Remote {
    /// A store for `config`, keeping its local lock and cache files under
    /// `<state_dir>/fleet/<store name>/`. Touches neither disk nor network.
    pub fn new(config: &VaultConfig, state_dir: &std::path::Path) -> Remote {
        Remote {
            config: config.clone(),
            dir: state_dir.join("fleet").join(&config.name),
            client: OnceCell::new(),
        }
    }

    /// The store's configuration.
    pub fn config(&self) -> &VaultConfig {
        &self.config
    }

    /// The local directory of lock and cache files.
    pub fn local_dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The client, built on first use (resolves the address and the token).
    pub fn client(&self) -> Result<&Client, Error> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = Client::new(&self.config)?;
        Ok(self.client.get_or_init(|| c))
    }

    pub(crate) fn lock_path(&self, profile: &ProfileName) -> PathBuf {
        self.dir.join(format!("{profile}.lock"))
    }

    /// The rescue record of a profile (`rescue`).
    pub(crate) fn rescue_path(&self, profile: &ProfileName) -> PathBuf {
        rescue::path(&self.dir, profile.as_str())
    }

    /// Reads a record and its KV version without any lock.
    pub(crate) fn fetch(&self, profile: &ProfileName) -> Result<(Option<StoredToken>, u64), Error> {
        let entry = self.client()?.read(profile.as_str())?;
        let record = match entry.data {
            None => None,
            Some(d) if d.get("deleted").is_some_and(|v| v == &serde_json::Value::Bool(true)) => {
                None
            }
            Some(d) => Some(serde_json::from_value::<StoredToken>(d).map_err(|e| {
                Error::store(format!(
                    "the record of profile {profile:?} in Vault ({}) is not a central-auth token record ({}); fix or delete it there",
                    self.config.data_path(profile.as_str()),
                    e.classify_name()
                ))
            })?),
        };
        Ok((record, entry.version))
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    /// The kind of a JSON error without its text (which could quote a secret).
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "missing or wrong fields",
            serde_json::error::Category::Eof => "truncated",
        }
    }
}
