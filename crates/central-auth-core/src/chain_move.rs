//! `central-auth store migrate`: moves a live chain between the local file store
//! and another store (Vault, the OS keyring), either way, without a refresh.
//!
//! Both locks are held for the whole move: the file store's, then the target's
//! (for Vault: its local lock and the fleet lease). The record is copied as is (a
//! new generation in the target), written with the target's compare-and-write,
//! and the local copy is deleted only after that write succeeded. A crash in
//! between leaves the same pair in both stores, which loses nothing: the profile
//! reads only the target from then on. A target that already holds a different
//! chain is not overwritten.

use crate::broker::Broker;
use crate::config::Profile;
use crate::error::Error;
use crate::secret::same;
use crate::store::TokenStore;
use crate::token::StoredToken;

/// What a migration did.
#[derive(Debug, PartialEq, Eq)]
pub enum MigrateOutcome {
    /// The chain was moved; the local copy is deleted.
    Moved {
        /// Where it lives now.
        to: String,
    },
    /// The target already held this very pair; the local copy was deleted.
    AlreadyThere {
        /// Where it lives.
        to: String,
    },
}

/// Moves `profile`'s record from the local file store into its configured store.
pub fn from_file(broker: &Broker, profile: &Profile) -> Result<MigrateOutcome, Error> {
    let target = broker.store_for(profile);
    if profile.store.is_none() || target.kind() == "file" {
        return Err(Error::config(format!(
            "profile {:?} has no shared store: add store = \"NAME\" and a [stores.NAME] table to its config, then run the migration again",
            profile.name.as_str()
        )));
    }
    between(broker.file_store(), target, profile, &mut || Ok(()))
}

/// Moves `profile`'s record from `source` into `target`, holding both locks.
/// `commit` runs once the target holds the pair and before the source's copy
/// is deleted (the config edit that points the profile at the target): if it
/// fails, the source keeps its copy and stays the profile's store.
pub fn between(
    source: &dyn TokenStore,
    target: &dyn TokenStore,
    profile: &Profile,
    commit: &mut dyn FnMut() -> Result<(), Error>,
) -> Result<MigrateOutcome, Error> {
    let mut local = source.lock(&profile.name, profile.lock_timeout)?;
    let mut remote = target.lock(&profile.name, profile.lock_timeout)?;
    let Some(record) = local.read()? else {
        return Err(Error::NeedsLogin {
            profile: profile.name.to_string(),
            reason: format!(
                "{} holds no token to migrate",
                source.location(&profile.name)
            ),
        });
    };
    let to = target.location(&profile.name);
    let existing = remote.read()?;
    if let Some(existing) = &existing {
        let same_pair = match (&existing.refresh_token, &record.refresh_token) {
            (Some(a), Some(b)) => same(a, b),
            _ => same(&existing.access_token, &record.access_token),
        };
        if same_pair {
            commit()?;
            local.delete(record.generation)?;
            return Ok(MigrateOutcome::AlreadyThere { to });
        }
        return Err(Error::bad_input(format!(
            "{to} already holds another chain for profile {:?} (generation {}); nothing was changed. Run `central-auth logout --profile {}` to remove it first if it is dead",
            profile.name.as_str(),
            existing.generation,
            profile.name
        )));
    }
    let expected = existing.as_ref().map(|t| t.generation);
    let mut moved = copy(&record)?;
    moved.generation = expected.map_or(1, |g| g + 1);
    remote.check_writable()?;
    remote.write(&moved, expected)?;
    commit()?;
    // Only now, with the pair safe in the target, the local copy goes.
    local.delete(record.generation)?;
    Ok(MigrateOutcome::Moved { to })
}

/// A copy of a record (records hold secrets and are deliberately not `Clone`).
fn copy(record: &StoredToken) -> Result<StoredToken, Error> {
    let json = serde_json::to_string(record)
        .map_err(|e| Error::store(format!("cannot encode token record: {e}")))?;
    serde_json::from_str(&json).map_err(|_| Error::store("cannot copy the token record"))
}
