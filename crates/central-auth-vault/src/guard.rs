//! [`VaultGuard`]: a held profile lock of a Vault store: the local `flock`,
//! then the fleet lease from the first call that needs Vault.
//!
//! Every write is a KV v2 check-and-set. A write that meets an unreachable
//! store is retried with backoff for as long as the lease surely stays ours,
//! renewing the lease between attempts; a rotated pair that still cannot be
//! saved goes to the rescue record (`rescue`), which the next guard on this
//! machine pushes as soon as it holds the lease. A record older (by its KV
//! version) than one this machine has seen is refused (`cache::load_seen`): the
//! store was restored from a backup or a node lags, and nothing is rotated
//! from it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use central_auth_core::error::{Error, Outage};
use central_auth_core::profile_name::ProfileName;
use central_auth_core::secret::SecretString;
use central_auth_core::store::lock::FileLock;
use central_auth_core::store::{self, CachedAccess, StoreGuard, Version};
use central_auth_core::token::StoredToken;

use crate::client::{Cas, Client};
use crate::remote::Remote;
use crate::{cache, lease, rescue};

/// The first pause before a write is tried again; it doubles up to
/// [`MAX_RETRY_PAUSE`].
const FIRST_RETRY_PAUSE: Duration = Duration::from_millis(250);
const MAX_RETRY_PAUSE: Duration = Duration::from_secs(2);

pub(crate) struct VaultGuard<'a> {
    store: &'a Remote,
    profile: ProfileName,
    flock: FileLock,
    lease: Option<lease::Lease>,
    /// The KV version and record generation last read or written (generation
    /// `None`: absent or tombstone).
    seen: Option<(u64, Option<u64>)>,
    bound: Duration,
    start: Instant,
    /// This guard wrote a rotation mark: a save over it carries a rotated pair.
    marked: bool,
    /// The rescue record this guard left.
    rescued: Option<PathBuf>,
}

fn store_outage(e: &Error) -> bool {
    matches!(
        e,
        Error::Unavailable {
            outage: Outage::Store,
            ..
        }
    )
}

impl<'a> VaultGuard<'a> {
    pub(crate) fn new(
        store: &'a Remote,
        profile: &ProfileName,
        flock: FileLock,
        bound: Duration,
        start: Instant,
    ) -> VaultGuard<'a> {
        VaultGuard {
            store,
            profile: profile.clone(),
            flock,
            lease: None,
            seen: None,
            bound,
            start,
            marked: false,
            rescued: None,
        }
    }

    fn cache_path(&self) -> PathBuf {
        cache::path(self.store.local_dir(), self.profile.as_str())
    }

    /// Takes the fleet lease if this guard does not hold it yet, then pushes a
    /// waiting rescue record.
    fn ensure_lease(&mut self) -> Result<&'a Client, Error> {
        let store: &'a Remote = self.store;
        let client = store.client()?;
        if self.lease.is_none() {
            let left = self.bound.saturating_sub(self.start.elapsed());
            self.lease = Some(lease::acquire(
                client,
                self.profile.as_str(),
                store.config().lock_ttl,
                left,
            )?);
            self.push_rescue(client)?;
        }
        Ok(client)
    }

    /// Pushes the rescue record left by an earlier call on this machine.
    fn push_rescue(&mut self, client: &Client) -> Result<(), Error> {
        let path = self.store.rescue_path(&self.profile);
        let Some(mut rescued) = rescue::load(&path)? else {
            return Ok(());
        };
        let (stored, version) = self.store.fetch(&self.profile)?;
        if rescue::decide(stored.as_ref()) == rescue::Push::Drop {
            rescue::remove(&path);
            return Ok(());
        }
        rescued.generation = stored.as_ref().map_or(1, |s| s.generation + 1);
        let json = serde_json::to_string(&rescued)
            .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
        match client.write(self.profile.as_str(), &SecretString::from(json), version)? {
            Cas::Written(v) => {
                self.remember(Some(&rescued), v);
                rescue::remove(&path);
                Ok(())
            }
            Cas::Mismatch => Err(Error::store_unavailable(format!(
                "the record of profile {:?} changed while its rescue record {} was being pushed; retry the command",
                self.profile.as_str(),
                path.display()
            ))),
        }
    }

    fn remember(&mut self, record: Option<&StoredToken>, version: u64) {
        self.seen = Some((version, record.map(|r| r.generation)));
        cache::note_seen(
            self.store.local_dir(),
            self.profile.as_str(),
            version,
            record.map_or(0, |r| r.generation),
        );
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

    /// Refuses a record older than one this machine has seen: an older KV
    /// version, or a newer version holding an older generation of the chain
    /// (a new chain starts again at generation 1 and is accepted).
    fn check_not_older(&self, record: Option<&StoredToken>, version: u64) -> Result<(), Error> {
        let dir = self.store.local_dir();
        let Some((seen_version, seen_generation)) = cache::load_seen(dir, self.profile.as_str())
        else {
            return Ok(());
        };
        let generation = record.map(|r| r.generation);
        let older = version < seen_version
            || (version > seen_version
                && generation.is_some_and(|g| g < seen_generation && g != 1));
        if !older {
            return Ok(());
        }
        Err(Error::store_unavailable(format!(
            "Vault served version {version}{} of the record of profile {:?}, older than version {seen_version} (generation {seen_generation}) this machine has already seen: the store was restored from a backup or written back by hand, or the node answering lags behind; nothing was refreshed. Retry in a few seconds; if the old record is meant, remove {} on each machine",
            generation.map(|g| format!(" (generation {g})")).unwrap_or_default(),
            self.profile.as_str(),
            cache::seen_path(dir, self.profile.as_str()).display()
        )))
    }

    /// The compare of compare-and-write: the KV version to CAS over.
    fn expect(&mut self, expected: Option<Version>) -> Result<u64, Error> {
        let (version, generation) = match self.seen {
            Some(seen) => seen,
            None => {
                let (record, version) = self.store.fetch(&self.profile)?;
                let seen = (version, record.map(|r| r.generation));
                self.seen = Some(seen);
                seen
            }
        };
        if generation != expected {
            return Err(Error::store(format!(
                "the record of profile {:?} in Vault changed underneath this process (version {generation:?}, expected {expected:?}); nothing was written, retry the command",
                self.profile.as_str()
            )));
        }
        Ok(version)
    }

    /// A check-and-set write, retried while the store is unreachable and the
    /// lease surely stays ours, renewing the lease between attempts.
    fn cas_write(&mut self, data: &SecretString, cas: u64) -> Result<u64, Error> {
        let client = self.ensure_lease()?;
        let mut pause = FIRST_RETRY_PAUSE;
        let mut jitter = lease::Jitter::new();
        let mut retried = false;
        loop {
            let failure = match client.write(self.profile.as_str(), data, cas) {
                Ok(Cas::Written(v)) => return Ok(v),
                Ok(Cas::Mismatch) if retried => {
                    // An earlier attempt may have been applied although its
                    // answer was lost (a node stepping down, a timeout): then
                    // the record is exactly what was sent.
                    if let Some(version) = self.landed(client, data)? {
                        return Ok(version);
                    }
                    cache::remove(&self.cache_path());
                    return Err(Error::store(format!(
                        "the record of profile {:?} in Vault was written by another machine meanwhile (check-and-set failed)",
                        self.profile.as_str()
                    )));
                }
                Ok(Cas::Mismatch) => {
                    cache::remove(&self.cache_path());
                    return Err(Error::store(format!(
                        "the record of profile {:?} in Vault was written by another machine meanwhile (check-and-set failed)",
                        self.profile.as_str()
                    )));
                }
                Err(e) if store_outage(&e) => e,
                Err(e) => return Err(e),
            };
            let Some(lease) = self.lease.as_mut() else {
                return Err(failure);
            };
            let wait = pause + jitter.next(pause);
            if lease.left() <= wait {
                return Err(failure);
            }
            std::thread::sleep(wait);
            retried = true;
            pause = (pause * 2).min(MAX_RETRY_PAUSE);
            // Best effort: a store still away fails the write below too, and a
            // lease taken over meanwhile leaves the compare to the record's
            // check-and-set.
            let _ = lease::renew(client, lease);
        }
    }
}

impl VaultGuard<'_> {
    /// The record's version when it holds exactly `data` (an earlier attempt
    /// of this write landed).
    fn landed(&self, client: &Client, data: &SecretString) -> Result<Option<u64>, Error> {
        use central_auth_core::secret::ExposeSecret;
        let entry = client.read(self.profile.as_str())?;
        let sent: Option<serde_json::Value> = serde_json::from_str(data.expose_secret()).ok();
        Ok((entry.data.is_some() && entry.data == sent).then_some(entry.version))
    }
}

impl StoreGuard for VaultGuard<'_> {
    fn read(&mut self) -> Result<Option<StoredToken>, Error> {
        self.ensure_lease()?;
        let (record, version) = self.store.fetch(&self.profile)?;
        self.check_not_older(record.as_ref(), version)?;
        self.remember(record.as_ref(), version);
        Ok(record)
    }

    fn write(&mut self, record: &StoredToken, expected: Option<Version>) -> Result<(), Error> {
        self.ensure_lease()?;
        let cas = self.expect(expected)?;
        store::check_next_generation(record, expected)?;
        let json = serde_json::to_string(record)
            .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
        match self.cas_write(&SecretString::from(json), cas) {
            Ok(version) => {
                if let Some(path) = self.rescued.take() {
                    rescue::remove(&path);
                }
                self.marked = record.rotating.is_some();
                self.remember(Some(record), version);
                Ok(())
            }
            Err(e)
                if store_outage(&e)
                    && self.marked
                    && self.store.config().rescue
                    && record.rotating.is_none()
                    && record.refresh_token.is_some() =>
            {
                let path = self.store.rescue_path(&self.profile);
                rescue::save(&path, record)?;
                self.rescued = Some(path);
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn check_writable(&mut self) -> Result<(), Error> {
        // The lease is a write under the same policy path as the record:
        // renewing it proves Vault is reachable and the token may write there,
        // and gives the rotation that follows a whole lock_ttl.
        let client = self.ensure_lease()?;
        let Some(lease) = self.lease.as_mut() else {
            return Err(Error::store("BUG: no lease after taking it"));
        };
        lease::renew(client, lease)
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
        let fresh = age >= time::Duration::ZERO && age < self.store.config().cache_ttl;
        Some(CachedAccess {
            access_token: entry.access_token,
            issued_at: entry.issued_at,
            expires_at: entry.expires_at,
            fresh,
        })
    }

    fn rescued(&self) -> Option<String> {
        self.rescued.as_ref().map(|p| p.display().to_string())
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
