//! [`VaultStore`]: the [`TokenStore`] contract on Vault / OpenBao KV v2, with
//! a local lock and cache directory per store.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::time::Duration;

use time::OffsetDateTime;

use central_auth_core::error::Error;
use central_auth_core::fsutil::ensure_private_dir;
use central_auth_core::profile_name::ProfileName;
use central_auth_core::secret::SecretString;
use central_auth_core::store::lock::FileLock;
use central_auth_core::store::{CachedAccess, StoreDetails, StoreGuard, TokenStore, Version};
use central_auth_core::token::StoredToken;

use crate::client::{Cas, Client};
use crate::config::VaultConfig;
use crate::{cache, details, lease};

/// A Vault / OpenBao KV v2 store, with a local lock and cache directory.
pub struct VaultStore {
    config: VaultConfig,
    dir: PathBuf,
    client: OnceCell<Client>,
}

impl VaultStore {
    /// A store for `config`, keeping its local lock and cache files under
    /// `<state_dir>/fleet/<store name>/`. Touches neither disk nor network.
    pub fn new(config: &VaultConfig, state_dir: &std::path::Path) -> VaultStore {
        VaultStore {
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

    fn lock_path(&self, profile: &ProfileName) -> PathBuf {
        self.dir.join(format!("{profile}.lock"))
    }

    /// Reads a record and its KV version without any lock.
    fn fetch(&self, profile: &ProfileName) -> Result<(Option<StoredToken>, u64), Error> {
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

impl TokenStore for VaultStore {
    fn lock<'a>(
        &'a self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error> {
        ensure_private_dir(&self.dir)?;
        let start = std::time::Instant::now();
        let flock = FileLock::acquire(&self.lock_path(profile), bound, profile.as_str())?;
        Ok(Box::new(VaultGuard {
            store: self,
            profile: profile.clone(),
            flock,
            lease: None,
            seen: None,
            bound,
            start,
        }))
    }

    fn peek(&self, profile: &ProfileName) -> Result<Option<StoredToken>, Error> {
        Ok(self.fetch(profile)?.0)
    }

    fn location(&self, profile: &ProfileName) -> String {
        let address = self
            .config
            .address()
            .unwrap_or_else(|_| "$VAULT_ADDR".to_owned());
        format!(
            "vault {address}/v1/{}",
            self.config.data_path(profile.as_str())
        )
    }

    fn lock_held(&self, profile: &ProfileName) -> Result<bool, Error> {
        if FileLock::is_held(&self.lock_path(profile))? {
            return Ok(true);
        }
        lease::held_by_other(self.client()?, profile.as_str())
    }

    fn kind(&self) -> &'static str {
        "vault"
    }

    fn shared(&self) -> bool {
        true
    }

    fn diagnose(&self, profile: &ProfileName) -> Vec<(&'static str, Result<String, Error>)> {
        let mut out = Vec::new();
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => {
                out.push(("store auth", Err(e)));
                return out;
            }
        };
        let reach = client.health().map(|v| {
            format!(
                "Vault at {} answers (version {v}, unsealed)",
                client.address()
            )
        });
        let reachable = reach.is_ok();
        out.push(("store reach", reach));
        if !reachable {
            return out;
        }
        let auth = client.check_token(profile.as_str()).map(|ttl| {
            let ttl = match ttl {
                Some(0) => ", no expiry".to_owned(),
                Some(s) => format!(
                    ", expires in {}",
                    central_auth_core::duration::format(Duration::from_secs(s))
                ),
                None => String::new(),
            };
            format!(
                "the Vault token from {} is valid{ttl}",
                self.config.token.describe()
            )
        });
        let authorized = auth.is_ok();
        out.push(("store auth", auth));
        if !authorized {
            // The policy check would fail with the same line.
            return out;
        }
        // The policy, on the exact paths a refresh uses: take, renew and
        // release the lease (create/update on the lease key), read the record,
        // and a check-and-set write of the record that cannot match (Vault
        // checks the policy before the version, and writes nothing).
        let record = self.config.data_path(profile.as_str());
        let lease_path = self.config.data_path(&lease::key(profile.as_str()));
        let policy = (|| {
            let mut guard = self.lock(profile, std::time::Duration::from_secs(10))?;
            guard.check_writable()?;
            guard.read()?;
            drop(guard);
            client.probe_write(profile.as_str())?;
            Ok(format!(
                "the token may read and write {record} and {lease_path} (policy path \"{}\")",
                self.config.policy_path()
            ))
        })();
        out.push(("store policy", policy));
        out
    }

    fn details(&self, profile: &ProfileName) -> Option<StoreDetails> {
        Some(details::of(self, profile))
    }
}

struct VaultGuard<'a> {
    store: &'a VaultStore,
    profile: ProfileName,
    flock: FileLock,
    lease: Option<lease::Lease>,
    /// The KV version and record generation last read or written (generation
    /// `None`: absent or tombstone).
    seen: Option<(u64, Option<u64>)>,
    bound: Duration,
    start: std::time::Instant,
}

impl<'a> VaultGuard<'a> {
    fn cache_path(&self) -> PathBuf {
        cache::path(&self.store.dir, self.profile.as_str())
    }

    /// Takes the fleet lease if this guard does not hold it yet.
    fn ensure_lease(&mut self) -> Result<&'a Client, Error> {
        let store: &'a VaultStore = self.store;
        let client = store.client()?;
        if self.lease.is_none() {
            let left = self.bound.saturating_sub(self.start.elapsed());
            self.lease = Some(lease::acquire(
                client,
                self.profile.as_str(),
                self.store.config.lock_ttl,
                left,
            )?);
        }
        Ok(client)
    }

    fn remember(&mut self, record: Option<&StoredToken>, version: u64) {
        self.seen = Some((version, record.map(|r| r.generation)));
        let path = self.cache_path();
        match record
            .and_then(|r| cache::CacheEntry::from_record(r, version, OffsetDateTime::now_utc()))
        {
            Some(entry) => {
                // The cache is an optimisation; Vault stays the truth.
                let _ = cache::save(&path, &entry);
            }
            None => cache::remove(&path),
        }
    }

    /// The compare of compare-and-write: the KV version to CAS over.
    fn expect(&mut self, expected: Option<Version>) -> Result<u64, Error> {
        if self.seen.is_none() {
            let (record, version) = self.store.fetch(&self.profile)?;
            self.seen = Some((version, record.map(|r| r.generation)));
        }
        let (version, generation) = self.seen.expect("set just above");
        if generation != expected {
            return Err(self.changed(generation, expected));
        }
        Ok(version)
    }

    fn changed(&self, found: Option<u64>, expected: Option<u64>) -> Error {
        Error::store(format!(
            "the record of profile {:?} in Vault changed underneath this process (version {found:?}, expected {expected:?}); nothing was written, retry the command",
            self.profile.as_str()
        ))
    }

    fn cas_write(&mut self, data: &SecretString, cas: u64) -> Result<u64, Error> {
        let client = self.ensure_lease()?;
        match client.write(self.profile.as_str(), data, cas)? {
            Cas::Written(v) => Ok(v),
            Cas::Mismatch => {
                cache::remove(&self.cache_path());
                Err(Error::store(format!(
                    "the record of profile {:?} in Vault was written by another machine meanwhile (check-and-set failed); nothing was written, retry the command",
                    self.profile.as_str()
                )))
            }
        }
    }
}

impl StoreGuard for VaultGuard<'_> {
    fn read(&mut self) -> Result<Option<StoredToken>, Error> {
        self.ensure_lease()?;
        let (record, version) = self.store.fetch(&self.profile)?;
        self.remember(record.as_ref(), version);
        Ok(record)
    }

    fn write(&mut self, record: &StoredToken, expected: Option<Version>) -> Result<(), Error> {
        self.ensure_lease()?;
        let cas = self.expect(expected)?;
        let want = expected.map_or(1, |v| v + 1);
        if record.generation != want {
            return Err(Error::store(format!(
                "BUG: record generation {} written over version {expected:?}",
                record.generation
            )));
        }
        let json = serde_json::to_string(record)
            .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
        let version = self.cas_write(&SecretString::from(json), cas)?;
        self.remember(Some(record), version);
        Ok(())
    }

    fn check_writable(&mut self) -> Result<(), Error> {
        // The lease is a write under the same policy path as the record: holding
        // and renewing it proves Vault is reachable and the token may write there,
        // and gives the rotation that follows a whole lock_ttl.
        let client = self.ensure_lease()?;
        let ttl = self.store.config.lock_ttl;
        let lease = self.lease.as_mut().expect("ensure_lease took it");
        lease::renew(client, lease, ttl)
    }

    fn delete(&mut self, expected: Version) -> Result<(), Error> {
        self.ensure_lease()?;
        let cas = self.expect(Some(expected))?;
        let tombstone =
            SecretString::from(format!("{{\"deleted\":true,\"generation\":{expected}}}"));
        let version = self.cas_write(&tombstone, cas)?;
        self.remember(None, version);
        Ok(())
    }

    fn discard(&mut self) -> Result<(), Error> {
        let client = self.ensure_lease()?;
        // Whatever the record holds (even unreadable), over its current version.
        let entry = client.read(self.profile.as_str())?;
        if entry.data.is_none() {
            return Ok(());
        }
        let tombstone = SecretString::from("{\"deleted\":true}".to_owned());
        let version = self.cas_write(&tombstone, entry.version)?;
        self.remember(None, version);
        Ok(())
    }

    fn waited(&self) -> Duration {
        self.flock.waited()
    }

    fn cached(&mut self) -> Option<CachedAccess> {
        let entry = cache::load(&self.cache_path())?;
        let now = OffsetDateTime::now_utc();
        let age = now - entry.read_at;
        let fresh = age >= time::Duration::ZERO && age < self.store.config.cache_ttl;
        Some(CachedAccess {
            access_token: entry.access_token,
            issued_at: entry.issued_at,
            expires_at: entry.expires_at,
            fresh,
        })
    }
}

impl Drop for VaultGuard<'_> {
    fn drop(&mut self) {
        // Only a held lease needs the client; the cached path never builds one.
        if let Some(lease) = self.lease.take() {
            if let Ok(client) = self.store.client() {
                lease::release(client, lease);
            }
        }
    }
}
