//! The Vault / OpenBao KV version 2 token store: one refresh chain shared by a
//! fleet of machines.
//!
//! A profile's record lives at `<mount>/data/<path>/<profile>` as the same JSON
//! the file store writes; its lease at `<path>/_lease/<profile>`
//! (`lease`). [`VaultStore`]'s `lock` takes the local `flock` only
//! (`<state>/fleet/<store>/<profile>.lock`), so the processes of one machine
//! queue locally and cost Vault nothing; the guard takes the fleet lease on its
//! first `read`, `write`, `delete` or `check_writable`, and
//! releases it on drop. Every write is a KV v2 check-and-set over the version
//! the guard read. A deleted record is a tombstone (`{"deleted": true}`)
//! written with CAS, so no operation needs the `delete` capability and nothing
//! is ever written without the compare.
//!
//! After every read or write the guard refreshes the local cache (`cache`):
//! the access token and its times only, never the refresh token.
//! The guard's `cached` offers it to the broker, which serves it while it is
//! fresh (read from Vault less than `cache_ttl` ago) and still valid, and, when
//! Vault is unreachable, until the fleet's rotation moment.
//!
//! On a cluster, every request carries the storage index of the client's last
//! write so any node answers with it or forwards (`client/consistency.rs`);
//! writes meeting an outage are retried while the lease lasts, and a rotated
//! pair that still cannot be stored waits in a local rescue record (`guard`,
//! `rescue`).
//!
//! The crate is a store backend: of `central-auth-core` it uses the store
//! contract and the layers below it only (ground helpers, the HTTP transport,
//! records; docs/ARCHITECTURE.md), and the binaries wire it in with
//! [`register`].

mod cache;
mod client;
mod config;
mod details;
mod guard;
mod lease;
mod remote;
mod rescue;
mod store;

pub use config::{RawVaultConfig, VaultConfig};
pub use store::VaultStore;

use central_auth_core::store::backend::{StoreBackend, StoreConfig, StoreTable, TableError};
use central_auth_core::store::TokenStore;

/// The `kind` values of `[stores.NAME]` this crate serves.
pub const KINDS: &[&str] = &["vault", "openbao"];

/// Makes the Vault / OpenBao store available to every config this process
/// parses: one line at the start of each binary's `main`.
pub fn register() {
    central_auth_core::store::backend::register(&VaultBackend);
}

/// The Vault / OpenBao store backend.
pub struct VaultBackend;

impl StoreBackend for VaultBackend {
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }

    fn parse(&self, name: &str, table: StoreTable<'_>) -> Result<Box<dyn StoreConfig>, TableError> {
        let raw: RawVaultConfig = table.deserialize()?;
        Ok(Box::new(VaultConfig::resolve(name, raw)?))
    }
}

impl StoreConfig for VaultConfig {
    fn open(&self, state_dir: &std::path::Path) -> Box<dyn TokenStore> {
        Box::new(VaultStore::new(self, state_dir))
    }
}
