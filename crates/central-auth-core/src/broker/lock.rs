//! Taking a profile's lock, and waiting out a rotation that a process still
//! running on this host has in flight (the algorithm's "mark of a process still
//! running here").

use std::time::{Duration, Instant};

use crate::config::Profile;
use crate::error::Error;
use crate::status;
use crate::store::StoreGuard;
use crate::token::{RotationMark, StoredToken};

use super::Broker;

impl Broker {
    pub(super) fn lock<'s>(&'s self, profile: &Profile) -> Result<Box<dyn StoreGuard + 's>, Error> {
        let guard = self
            .store_for(profile)
            .lock(&profile.name, profile.lock_timeout)?;
        let waited = guard.waited();
        if waited >= Duration::from_millis(1) {
            (self.log)(&format!(
                "lock: profile {} waited {} ms",
                profile.name,
                waited.as_millis()
            ));
        }
        Ok(guard)
    }

    /// Takes the lock and reads the record, first waiting out a rotation that a
    /// process still running on this host has in flight (it holds a replaced
    /// lock file), so the caller never races it.
    pub(super) fn lock_settled(
        &self,
        profile: &Profile,
    ) -> Result<(Box<dyn StoreGuard + '_>, Option<StoredToken>), Error> {
        let started = Instant::now();
        loop {
            let mut guard = self.lock(profile)?;
            let current = guard.read()?;
            match current
                .as_ref()
                .and_then(|t| in_flight(t).map(|m| (t.generation, m)))
            {
                Some((generation, mark)) => {
                    drop(guard);
                    self.wait_for_holder(profile, generation, &mark, started)?;
                }
                None => return Ok((guard, current)),
            }
        }
    }

    /// Reads the record; one that cannot be read is removed when `replace` (an
    /// explicit `login`, or `import --force`), else reported with that fix.
    pub(super) fn read_or_discard(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        replace: bool,
    ) -> Result<Option<StoredToken>, Error> {
        match guard.read() {
            Ok(current) => Ok(current),
            Err(e) if replace => {
                (self.log)(&format!(
                    "profile {}: replacing an unreadable record: {e}",
                    profile.name
                ));
                guard.discard()?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Waits, without the lock, until the process that left `mark` on record
    /// `generation` has written its result or stopped running, at most the
    /// profile's lock timeout from `started`.
    pub(super) fn wait_for_holder(
        &self,
        profile: &Profile,
        generation: u64,
        mark: &RotationMark,
        started: Instant,
    ) -> Result<(), Error> {
        (self.log)(&format!(
            "refresh: process {} is rotating the pair of profile {} (since {}); waiting for its result",
            mark.holder.pid,
            profile.name,
            status::rfc3339(mark.since)
        ));
        let store = self.store_for(profile);
        let mut pause = Duration::from_millis(2);
        loop {
            let moved_on = match store.peek(&profile.name) {
                Ok(Some(t)) => t.generation != generation || t.rotating.as_ref() != Some(mark),
                _ => true,
            };
            if moved_on || !mark.holder.running_here() {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= profile.lock_timeout {
                return Err(Error::LockTimeout {
                    profile: profile.name.to_string(),
                    path: std::path::PathBuf::from(store.location(&profile.name)),
                    waited,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }
}

/// The mark of a rotation that a process still running on this host has in
/// flight (it holds a replaced lock file): wait for it instead of settling it.
pub(super) fn in_flight(t: &StoredToken) -> Option<RotationMark> {
    t.rotating
        .as_ref()
        .filter(|m| m.holder.running_here() && !m.holder.is_me())
        .cloned()
}
