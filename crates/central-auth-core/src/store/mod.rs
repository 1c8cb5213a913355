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
//!
//! The file store gets (1) from `flock` on a dedicated lock file and (4) from the
//! lock plus temp-file/fsync/rename. A remote store (OpenBao/Vault KV v2) would map
//! (1) to a lease-like lock key with a TTL and (4) to KV v2's `cas` parameter with
//! the record's version, which also covers holders on other machines.

pub mod file;
pub mod lock;
pub mod migrate;
pub mod nofollow;

use std::time::Duration;

use crate::config::ProfileName;
use crate::error::Error;
use crate::token::StoredToken;

/// The version of a stored record, for compare-and-write.
pub type Version = u64;

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
}
