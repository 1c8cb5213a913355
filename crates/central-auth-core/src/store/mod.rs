//! The token store: where profiles' tokens live, behind a per-profile lock.
//!
//! # Contract
//!
//! A store implementation must provide, per profile:
//!
//! 1. **An exclusive lock with a bound.** [`TokenStore::lock`] blocks until this
//!    caller is the only holder for the profile, or fails with
//!    [`Error::LockTimeout`] after the bound. The lock is released when the guard is
//!    dropped, and also when the holder dies (a crashed process must not wedge the
//!    profile). Different profiles never wait on each other.
//! 2. **Read under the lock.** [`StoreGuard::read`] returns the record and its
//!    version, or `None`.
//! 3. **Writable before rotating.** [`StoreGuard::check_writable`] fails if a
//!    write could not succeed now, so the broker never rotates a pair it cannot save.
//! 4. **Compare-and-write.** [`StoreGuard::write`] replaces the record only if the
//!    stored version still equals `expected` (`None`: only if absent) and fails with
//!    a [`Error::Store`] otherwise. The write is atomic: a reader sees the old record
//!    or the new one, never a mix, even if the writer is killed half-way.
//! 5. **Durable before it returns.** A successful write survives a crash of the
//!    writer right after it: the broker writes its write-ahead rotation mark
//!    ([`crate::token::RotationMark`]) and only then sends the refresh, so a
//!    holder that dies mid-refresh always leaves the mark behind.
//! 6. **Explicit replacement.** [`StoreGuard::discard`] removes a record that
//!    cannot be read (damaged, too large, wrong format), for an explicit `login`,
//!    `import --force` or `logout`; nothing else ever removes an unreadable record.
//! 7. **A shared store says so.** [`TokenStore::shared`] is true when other
//!    machines read and rotate the same record. The broker then follows the fleet
//!    rules of `docs/ARCHITECTURE.md`: a pair is rotated only once it is within the
//!    profile's `min_valid` of expiry (or on a 401 / explicit `refresh`), and the
//!    expiry handed to tools is that rotation moment ([`rotation_at`]), never
//!    later. Under a shared store's lock, a rotation mark found in the record was
//!    left by a holder whose lock (lease) has ended, even if
//!    [`crate::holder::Holder`] cannot tell for another host: settle it.
//! 8. **An optional local cache.** [`StoreGuard::cached`] may return a local copy of
//!    the access token (never the refresh token) with whether it is fresh. The
//!    broker serves a fresh one that is valid long enough without calling
//!    [`StoreGuard::read`], and serves one still usable until the fleet's
//!    rotation moment ([`rotation_at`], never later: another machine may have
//!    rotated the pair by then) when `read` fails with [`Error::Unavailable`]
//!    with [`Outage::Store`](crate::error::Outage::Store) (the store is
//!    unreachable, or served a record older than one this machine has seen:
//!    [`Error::store_unavailable`]); it never refreshes then.
//! 9. **A rotated pair is not lost to an outage.** A shared store retries a
//!    write through an outage while its lock lasts; one that keeps a rotated
//!    pair it could not store (a local rescue record) says where in
//!    [`StoreGuard::rescued`], and the broker's message says so instead of
//!    calling the chain lost.
//!
//! The file store gets (1) from `flock` on a dedicated lock file and (4) from the
//! lock plus temp-file/fsync/rename; it is not shared and keeps no cache.
//!
//! The Vault / OpenBao KV v2 store (the `central-auth-vault` crate, a
//! [`backend`]) gets (1) from two locks: the local
//! `flock` in [`TokenStore::lock`], so the processes of one machine queue without
//! touching Vault, and a fleet-wide lease (a lock record written with KV v2
//! check-and-set, holding the owner and a TTL) that the guard takes on its first
//! `read`, `write`, `delete` or `check_writable`. The lease ends when the guard is
//! dropped, or `lock_ttl` after a crash. The broker relies on exclusivity only from
//! that first call on, never on the bare guard. (4) is KV v2's `cas` parameter with
//! the version the guard read, which also covers holders on other machines. Errors:
//! an unreachable or sealed Vault is [`Error::Unavailable`]; a denied or expired
//! Vault token is [`Error::Store`] naming the policy path needed. (5) holds because
//! Vault acknowledges a KV write only once its storage has it; (6) writes a
//! tombstone with check-and-set over whatever version is there.

pub mod backend;
mod details;
pub mod file;
pub mod flat_layout;
pub mod lock;
pub mod record;

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::Error;
use crate::profile_name::ProfileName;
use crate::secret::SecretString;
use crate::token::StoredToken;

pub use details::StoreDetails;

/// The most time one operation under a profile lock (a refresh, a login, a
/// refresh followed by a re-login, a mint) may spend, secret commands and every
/// HTTP attempt and wait included. It bounds how long a holder keeps the lock;
/// the default `lock_timeout` (30 s) is longer, so waiters outlast a slow
/// holder, and a shared store's lease (`lock_ttl`) may not be shorter.
pub const OPERATION_BUDGET: Duration = Duration::from_secs(25);

/// A local copy of a profile's access token kept by a remote store.
#[derive(Debug)]
pub struct CachedAccess {
    /// The bearer token.
    pub access_token: SecretString,
    /// When it was issued.
    pub issued_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// Whether it was read from the store recently enough to skip the store.
    pub fresh: bool,
}

impl CachedAccess {
    /// [`StoredToken::usable_for`] for the cached copy.
    pub fn usable_for(&self, min_valid: Duration, now: OffsetDateTime) -> bool {
        let margin = self.effective_min_valid(min_valid);
        now < self.expires_at && self.expires_at - now >= margin
    }

    /// [`StoredToken::effective_min_valid`] for the cached copy.
    pub fn effective_min_valid(&self, wanted: Duration) -> Duration {
        margin(wanted, self.issued_at, self.expires_at)
    }
}

/// The earliest moment a broker rotates a pair issued at `issued_at` and expiring
/// at `expires_at` when it wants `min_valid` left: [`StoredToken::usable_for`]
/// caps `min_valid` at half the lifetime. For a shared store this is the expiry
/// told to tools (contract item 7).
pub fn rotation_at(
    min_valid: Duration,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> OffsetDateTime {
    expires_at - margin(min_valid, issued_at, expires_at)
}

/// The one expiry every command shows and every tool is told for a token
/// issued at `issued_at` that Central expires at `expires_at`: for a shared
/// store the rotation moment ([`rotation_at`]), else Central's expiry. The
/// broker's hand-out, `refresh`, `login` and `status` all use it, so they show
/// one time.
pub fn reported_expiry(
    shared: bool,
    min_valid: Duration,
    issued_at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> OffsetDateTime {
    if shared {
        rotation_at(min_valid, issued_at, expires_at)
    } else {
        expires_at
    }
}

fn margin(min_valid: Duration, issued_at: OffsetDateTime, expires_at: OffsetDateTime) -> Duration {
    let lifetime: Duration = (expires_at - issued_at)
        .try_into()
        .unwrap_or(Duration::ZERO);
    min_valid.min(lifetime / 2)
}

/// What [`TokenStore::stamp`] gives: for the file store the record file's
/// device, inode, size, and modification and change times (a write is a
/// rename of a new file, so any write changes the inode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordStamp(pub [i64; 7]);

/// The version of a stored record, for compare-and-write.
pub type Version = u64;

/// Every store's rule for [`StoreGuard::write`]: the record written over
/// version `expected` (none: no record yet) carries the next generation, or
/// the caller has a bug and nothing is written.
pub fn check_next_generation(record: &StoredToken, expected: Option<Version>) -> Result<(), Error> {
    let want = expected.map_or(1, |v| v + 1);
    if record.generation == want {
        return Ok(());
    }
    Err(Error::store(format!(
        "BUG: record generation {} written over version {expected:?}",
        record.generation
    )))
}

/// A token store holding one record per profile.
pub trait TokenStore {
    /// Takes the profile's exclusive lock, waiting at most `bound`.
    fn lock<'a>(
        &'a self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error>;

    /// Reads the record without locking, for display only (`status`).
    fn peek(&self, profile: &ProfileName) -> Result<Option<StoredToken>, Error>;

    /// Where the profile's record lives, for messages and `status`.
    fn location(&self, profile: &ProfileName) -> String;

    /// Whether another holder has the profile's lock right now (for `status`
    /// and `doctor`; never blocks).
    fn lock_held(&self, profile: &ProfileName) -> Result<bool, Error>;

    /// A short name of the store kind (`file`, `vault`), for `status`.
    fn kind(&self) -> &'static str;

    /// Whether other machines share this store's records (contract item 7).
    fn shared(&self) -> bool {
        false
    }

    /// A cheap identity of the profile's record as it is now, without the
    /// lock: equal stamps mean the record was not replaced in between (every
    /// write replaces it). `None` when the store cannot tell cheaply; then
    /// nothing may be reused without reading (`Broker::with_memo`).
    fn stamp(&self, _profile: &ProfileName) -> Option<RecordStamp> {
        None
    }

    /// Checks for `doctor` beyond reading the record: for a remote store its
    /// reachability, the credentials, and that the policy allows every operation
    /// the store makes. Each entry is a check name and what was found (or the fix).
    fn diagnose(&self, _profile: &ProfileName) -> Vec<(&'static str, Result<String, Error>)> {
        Vec::new()
    }

    /// What `status` shows about a remote store (its place, auth method and
    /// local cache, as the backend words them). `None` for a local store.
    /// Never contacts the store.
    fn details(&self, _profile: &ProfileName) -> Option<StoreDetails> {
        None
    }
}

/// A held profile lock; dropping it releases the lock.
pub trait StoreGuard {
    /// Reads the profile's record.
    fn read(&mut self) -> Result<Option<StoredToken>, Error>;

    /// Replaces the record if its version is still `expected` (`None` = absent);
    /// the new record's `generation` must be `expected + 1` (or 1).
    fn write(&mut self, record: &StoredToken, expected: Option<Version>) -> Result<(), Error>;

    /// Checks, before a refresh rotates the pair at Central, that a write will be
    /// possible (e.g. the directory is not read-only): a rotation whose result
    /// cannot be saved would lose the chain.
    fn check_writable(&mut self) -> Result<(), Error>;

    /// Deletes the record if its version is still `expected`.
    fn delete(&mut self, expected: Version) -> Result<(), Error>;

    /// Removes the record whatever it holds, readable or not (explicit user
    /// action only). Absent is fine.
    fn discard(&mut self) -> Result<(), Error>;

    /// How long this caller waited for the lock.
    fn waited(&self) -> Duration;

    /// The store's local copy of the access token, if it keeps one (contract
    /// item 8). Never contacts a remote store.
    fn cached(&mut self) -> Option<CachedAccess> {
        None
    }

    /// Where the last failed [`StoreGuard::write`] kept the record it could
    /// not store (a shared store's local rescue record of a rotated pair,
    /// pushed to the store by a later call), if it did.
    fn rescued(&self) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rotation_moment_caps_min_valid_at_half_the_lifetime() {
        let issued = datetime!(2026-11-28 10:00 UTC);
        let expires = datetime!(2026-11-28 12:00 UTC);
        let five = Duration::from_secs(300);
        assert_eq!(
            rotation_at(five, issued, expires),
            datetime!(2026-11-28 11:55 UTC)
        );
        let three_h = Duration::from_secs(3 * 3600);
        assert_eq!(
            rotation_at(three_h, issued, expires),
            datetime!(2026-11-28 11:00 UTC)
        );
        let c = CachedAccess {
            access_token: SecretString::from("t".to_owned()),
            issued_at: issued,
            expires_at: expires,
            fresh: true,
        };
        assert!(c.usable_for(five, datetime!(2026-11-28 11:55 UTC)));
        assert!(!c.usable_for(five, datetime!(2026-11-28 11:55:01 UTC)));
        assert!(c.usable_for(Duration::ZERO, datetime!(2026-11-28 11:59:59 UTC)));
        assert!(!c.usable_for(Duration::ZERO, expires));
    }
}
