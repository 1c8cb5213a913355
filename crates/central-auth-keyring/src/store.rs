//! [`KeyringStore`]: the [`TokenStore`] contract on one OS keyring item per
//! profile, with a local lock and access-token cache directory per store.
//!
//! Order of every write under the lock: remove the cache, write the keyring
//! item, then (for a record that may be served) write the cache. A kill at any
//! point leaves either no cache (the next call reads the keyring) or a cache
//! of exactly the record the keyring holds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use central_auth_core::error::Error;
use central_auth_core::fsutil::ensure_private_dir;
use central_auth_core::profile_name::ProfileName;
use central_auth_core::secret::SecretString;
use central_auth_core::store::lock::FileLock;
use central_auth_core::store::{self, CachedAccess, StoreDetails, StoreGuard, TokenStore, Version};
use central_auth_core::token::StoredToken;

use crate::cache::{self, CacheEntry};
use crate::config::KeyringConfig;
use crate::details;
use crate::item::Item;

/// An OS keyring store, with a local lock and cache directory.
pub struct KeyringStore {
    config: KeyringConfig,
    dir: PathBuf,
}

impl KeyringStore {
    /// A store for `config`, keeping its lock and cache files under
    /// `<state_dir>/keyring/<store name>/`. Touches neither disk nor keyring.
    pub fn new(config: &KeyringConfig, state_dir: &std::path::Path) -> KeyringStore {
        KeyringStore {
            config: config.clone(),
            dir: state_dir.join("keyring").join(&config.name),
        }
    }

    /// The keyring item of `profile`.
    pub fn item(&self, profile: &ProfileName) -> Item {
        Item {
            service: self.config.service.clone(),
            account: profile.as_str().to_owned(),
            timeout: self.config.timeout,
        }
    }

    fn lock_path(&self, profile: &ProfileName) -> PathBuf {
        self.dir.join(format!("{profile}.lock"))
    }

    fn parse(&self, profile: &ProfileName, secret: &SecretString) -> Result<StoredToken, Error> {
        use central_auth_core::secret::ExposeSecret;
        serde_json::from_str(secret.expose_secret()).map_err(|_| {
            Error::store(format!(
                "the {} is not a central-auth token record; delete it with your keyring's tool (`secret-tool clear service {} username {profile}`), then run `central-auth login` or `import`",
                self.item(profile).describe(),
                self.config.service
            ))
        })
    }
}

impl TokenStore for KeyringStore {
    fn lock<'a>(
        &'a self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error> {
        ensure_private_dir(&self.dir)?;
        let lock = FileLock::acquire(&self.lock_path(profile), bound, profile.as_str())?;
        Ok(Box::new(KeyringGuard {
            store: self,
            profile: profile.clone(),
            lock: Arc::new(lock),
            seen: None,
        }))
    }

    fn peek(&self, profile: &ProfileName) -> Result<Option<StoredToken>, Error> {
        match self.item(profile).read(None)? {
            Some(secret) => self.parse(profile, &secret).map(Some),
            None => Ok(None),
        }
    }

    fn location(&self, profile: &ProfileName) -> String {
        format!(
            "the OS keyring (service {:?}, account {:?})",
            self.config.service,
            profile.as_str()
        )
    }

    fn lock_held(&self, profile: &ProfileName) -> Result<bool, Error> {
        FileLock::is_held(&self.lock_path(profile))
    }

    fn kind(&self) -> &'static str {
        "keyring"
    }

    fn diagnose(&self, profile: &ProfileName) -> Vec<(&'static str, Result<String, Error>)> {
        let item = self.item(profile);
        let reach = item.exists().map(|found| {
            let what = if found { "holds" } else { "has no" };
            format!(
                "the OS keyring answers and {what} the {} (its secret was not read)",
                item.describe()
            )
        });
        vec![("keyring", reach)]
    }

    fn details(&self, profile: &ProfileName) -> Option<StoreDetails> {
        Some(details::of(&self.config, &self.dir, profile))
    }
}

struct KeyringGuard<'a> {
    store: &'a KeyringStore,
    profile: ProfileName,
    /// Shared with any keyring call still running past its deadline.
    lock: Arc<FileLock>,
    /// The record generation last read or written (`Some(None)`: absent).
    seen: Option<Option<u64>>,
}

impl KeyringGuard<'_> {
    fn cache_path(&self) -> PathBuf {
        cache::path(&self.store.dir, self.profile.as_str())
    }

    fn item(&self) -> Item {
        self.store.item(&self.profile)
    }

    fn fetch(&mut self) -> Result<Option<StoredToken>, Error> {
        let record = match self.item().read(Some(self.lock.clone()))? {
            Some(secret) => Some(self.store.parse(&self.profile, &secret)?),
            None => None,
        };
        self.seen = Some(record.as_ref().map(|r| r.generation));
        Ok(record)
    }

    /// The compare of compare-and-write.
    fn expect(&mut self, expected: Option<Version>) -> Result<(), Error> {
        let found = match self.seen {
            Some(g) => g,
            None => self.fetch()?.map(|r| r.generation),
        };
        if found != expected {
            return Err(Error::store(format!(
                "the record of profile {:?} in the OS keyring changed underneath this process (generation {found:?}, expected {expected:?}); nothing was written, retry the command",
                self.profile.as_str()
            )));
        }
        Ok(())
    }
}

impl StoreGuard for KeyringGuard<'_> {
    fn read(&mut self) -> Result<Option<StoredToken>, Error> {
        let record = self.fetch()?;
        let path = self.cache_path();
        match record.as_ref().and_then(CacheEntry::from_record) {
            // The cache is an optimisation; the keyring stays the truth.
            Some(entry) => {
                let _ = cache::save(&path, &entry);
            }
            None => cache::remove(&path)?,
        }
        Ok(record)
    }

    fn write(&mut self, record: &StoredToken, expected: Option<Version>) -> Result<(), Error> {
        self.expect(expected)?;
        store::check_next_generation(record, expected)?;
        let json = serde_json::to_string(record)
            .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
        // Before the keyring moves on, no cache may still serve the old pair.
        let path = self.cache_path();
        cache::remove(&path)?;
        self.item()
            .write(Some(self.lock.clone()), SecretString::from(json))?;
        self.seen = Some(Some(record.generation));
        if let Some(entry) = CacheEntry::from_record(record) {
            let _ = cache::save(&path, &entry);
        }
        Ok(())
    }

    fn check_writable(&mut self) -> Result<(), Error> {
        // Reachable and unlocked (a locked item cannot be looked up), and the
        // cache directory takes files.
        self.item().exists()?;
        ensure_private_dir(&self.store.dir)
    }

    fn delete(&mut self, expected: Version) -> Result<(), Error> {
        self.expect(Some(expected))?;
        cache::remove(&self.cache_path())?;
        self.item().delete(Some(self.lock.clone()))?;
        self.seen = Some(None);
        Ok(())
    }

    fn discard(&mut self) -> Result<(), Error> {
        cache::remove(&self.cache_path())?;
        self.item().delete(Some(self.lock.clone()))?;
        self.seen = Some(None);
        Ok(())
    }

    fn waited(&self) -> Duration {
        self.lock.waited()
    }

    fn cached(&mut self) -> Option<CachedAccess> {
        let entry = cache::load(&self.cache_path())?;
        Some(CachedAccess {
            access_token: entry.access_token,
            issued_at: entry.issued_at,
            expires_at: entry.expires_at,
            fresh: true,
        })
    }
}
