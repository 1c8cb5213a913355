//! The OS keyring as a token store: the refresh token encrypted at rest on a
//! laptop.
//!
//! A profile's record (the same JSON the file store writes: refresh token,
//! rotation mark, generation, and the access token it came with) is one
//! keyring item, service `service` (default `central-auth`), account the
//! profile's name. Linux: the Secret Service API (GNOME Keyring, KeePassXC,
//! KWallet's bridge); macOS: the Keychain; Windows: the Credential Manager
//! (compiled, not tested here).
//!
//! [`KeyringStore`]'s `lock` takes a local `flock`
//! (`<state>/keyring/<store>/<profile>.lock`); every keyring call runs on a
//! worker thread with a deadline (`deadline`), so a locked keyring, no
//! daemon, or one that never answers is one clear line with its own exit
//! code, never a hang. The access token is also cached in a 0600 file beside
//! the lock (`cache`), written only after the keyring holds the record and
//! removed before any rotation mark reaches the keyring, so the cached
//! `token` path never opens a D-Bus connection and never hands out a token
//! the keyring has moved past.
//!
//! The crate is a store backend: of `central-auth-core` it uses the store
//! contract and the layers below it only, and the binaries wire it in with
//! [`register`].

mod cache;
mod config;
mod deadline;
mod details;
mod item;
mod secrets;
mod store;

pub use config::{KeyringConfig, RawKeyringConfig};
pub use store::KeyringStore;

use central_auth_core::store::backend::{StoreBackend, StoreConfig, StoreTable, TableError};
use central_auth_core::store::TokenStore;

/// The `kind` values of `[stores.NAME]` this crate serves.
pub const KINDS: &[&str] = &["keyring"];

/// Makes the keyring store available to every config this process parses,
/// and `client_secret_keyring` / `password_keyring` readable: one line at the
/// start of each binary's `main`.
pub fn register() {
    central_auth_core::store::backend::register(&KeyringBackend);
    central_auth_core::secret_source::register_keyring_reader(secrets::read);
}

pub use secrets::store as store_secret;

/// The OS keyring store backend.
pub struct KeyringBackend;

impl StoreBackend for KeyringBackend {
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }

    fn parse(&self, name: &str, table: StoreTable<'_>) -> Result<Box<dyn StoreConfig>, TableError> {
        let raw: RawKeyringConfig = table.deserialize()?;
        Ok(Box::new(KeyringConfig::resolve(name, raw)?))
    }
}

impl StoreConfig for KeyringConfig {
    fn open(&self, state_dir: &std::path::Path) -> Box<dyn TokenStore> {
        Box::new(KeyringStore::new(self, state_dir))
    }
}
