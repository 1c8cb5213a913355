//! Store backends: how a `[stores.NAME]` table becomes a [`TokenStore`].
//!
//! The core ships the file store and knows no other store. A backend is a crate
//! of its own (the Vault / OpenBao store is `central-auth-vault`) that
//! implements [`StoreBackend`] for the `kind` values it serves and is
//! registered once, by the first lines of every binary's `main`:
//!
//! ```ignore
//! central_auth_vault::register();
//! ```
//!
//! [`Config::parse`](crate::Config::parse) hands each `[stores.NAME]` table to
//! the backend of its `kind`; the backend parses and validates its own keys and
//! returns a [`StoreConfig`], which the broker opens into a [`TokenStore`]. A
//! new backend is a new crate plus one line in each binary; neither the config
//! nor the broker changes.

use std::path::Path;
use std::sync::RwLock;

use serde::Deserialize;
use toml::de::DeValue;
use toml::Spanned;

use super::TokenStore;

/// A kind of shared token store (`kind = "..."` in `[stores.NAME]`).
pub trait StoreBackend: Sync {
    /// The `kind` values this backend serves, e.g. `["vault", "openbao"]`.
    fn kinds(&self) -> &'static [&'static str];

    /// Parses and validates a `[stores.NAME]` table, its `kind` key included.
    /// It is also given a table whose `kind` no backend serves (or that has
    /// none) when it is the first backend registered, so that it reports the
    /// table's problems as its own.
    fn parse(&self, name: &str, table: StoreTable<'_>) -> Result<Box<dyn StoreConfig>, TableError>;
}

/// A validated `[stores.NAME]` table. Parsing it touches neither disk nor
/// network (the cached-token path parses the config on every call).
pub trait StoreConfig: std::fmt::Debug + Send + Sync {
    /// The store, keeping any local files (locks, caches) under `state_dir`.
    /// Touches neither disk nor network.
    fn open(&self, state_dir: &Path) -> Box<dyn TokenStore>;
}

/// A `[stores.NAME]` table as written, with its place in the config file.
pub struct StoreTable<'i> {
    value: Spanned<DeValue<'i>>,
}

impl<'i> StoreTable<'i> {
    /// Deserializes the table; an error keeps its place in the file, so the
    /// message names the line.
    pub fn deserialize<T: Deserialize<'i>>(self) -> Result<T, TableError> {
        T::deserialize(toml::de::ValueDeserializer::from(self.value)).map_err(TableError::Toml)
    }

    /// The table's `kind` value, when it is a string.
    fn kind(&self) -> Option<&str> {
        self.value
            .get_ref()
            .as_table()?
            .iter()
            .find(|(k, _)| k.get_ref() == "kind")?
            .1
            .get_ref()
            .as_str()
    }
}

/// Why a `[stores.NAME]` table was refused.
#[derive(Debug)]
pub enum TableError {
    /// The table does not fit the backend's keys and types; the config names
    /// the line.
    Toml(toml::de::Error),
    /// A value is wrong: one line saying how to fix it.
    Invalid(String),
}

impl From<String> for TableError {
    fn from(msg: String) -> TableError {
        TableError::Invalid(msg)
    }
}

impl From<&str> for TableError {
    fn from(msg: &str) -> TableError {
        TableError::Invalid(msg.to_owned())
    }
}

/// The backends this process knows, in registration order.
static BACKENDS: RwLock<Vec<&'static dyn StoreBackend>> = RwLock::new(Vec::new());

/// Makes `backend` available to every config parsed from now on. Registering
/// a backend serving the same kinds again changes nothing.
pub fn register(backend: &'static dyn StoreBackend) {
    let mut all = BACKENDS.write().unwrap_or_else(|e| e.into_inner());
    if !all.iter().any(|b| b.kinds() == backend.kinds()) {
        all.push(backend);
    }
}

/// Parses the table `[stores.<name>]` with the backend of its `kind`.
pub(crate) fn parse(
    name: &str,
    value: Spanned<DeValue<'_>>,
) -> Result<Box<dyn StoreConfig>, TableError> {
    let table = StoreTable { value };
    let all = BACKENDS.read().unwrap_or_else(|e| e.into_inner());
    let kind = table.kind().map(str::to_owned);
    let chosen = all
        .iter()
        .find(|b| kind.as_deref().is_some_and(|k| b.kinds().contains(&k)))
        .or_else(|| all.first());
    match (chosen, kind) {
        (Some(backend), _) => backend.parse(name, table),
        (None, Some(kind)) => Err(TableError::Invalid(format!(
            "kind {kind:?} is not supported: this program has no shared store backend"
        ))),
        (None, None) => Err(TableError::Invalid(
            "kind is missing: this program has no shared store backend".to_owned(),
        )),
    }
}
