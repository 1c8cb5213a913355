//! Recovery after the chain died (docs/recovery.md): log in again when the
//! profile can, else record the chain lost and say what to run.

use time::OffsetDateTime;

use crate::config::Profile;
use crate::error::Error;
use crate::oauth::Gateway;
use crate::status;
use crate::store::StoreGuard;
use crate::token::{ChainLost, RotationMark, StoredToken};

use super::record::copy_record;
use super::Broker;

impl Broker {
    /// After the chain died: log in again when the profile allows it, else record
    /// the chain lost and say what to run.
    pub(super) fn recover_or_lose(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        marked: &StoredToken,
        reason: String,
        gw: &Gateway<'_>,
    ) -> Result<StoredToken, Error> {
        let login_failure = if profile.can_relogin() {
            (self.log)(&format!(
                "refresh: {reason}; logging in again for profile {}",
                profile.name
            ));
            match self.relogin(profile, Some(marked.generation), None, gw) {
                Ok(next) => {
                    guard.write(&next, Some(marked.generation))?;
                    return Ok(next);
                }
                Err(e) => Some(e),
            }
        } else {
            None
        };
        let mut lost = copy_record(marked);
        lost.generation = marked.generation + 1;
        lost.rotating = None;
        lost.lost = Some(ChainLost {
            at: OffsetDateTime::now_utc(),
            reason: reason.clone(),
        });
        if let Err(e) = guard.write(&lost, Some(marked.generation)) {
            (self.log)(&format!("refresh: could not record the lost chain: {e}"));
        }
        match login_failure {
            Some(e) => Err(e),
            None => Err(Error::NeedsLogin {
                profile: profile.name.to_string(),
                reason,
            }),
        }
    }
}

/// How long a rotation that another machine of a shared store started, and
/// whose result never reached the store, is waited for before the chain is
/// given up: that machine keeps the rotated pair in its rescue record and
/// pushes it on its next call that reaches the store (docs/fleet.md).
pub const RESCUE_WAIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Broker {
    /// After Central rejected the refresh token of a pair marked by another
    /// machine of a shared store less than [`RESCUE_WAIT`] ago: that machine
    /// rotated the pair and may still push the result, so the chain is not
    /// given up and nothing replaces it. Puts its mark back and says to retry.
    pub(super) fn rescue_pending(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        marked: &StoredToken,
        interrupted: &Option<RotationMark>,
    ) -> Option<Error> {
        let mark = interrupted.as_ref()?;
        let age = OffsetDateTime::now_utc() - mark.since;
        let foreign = mark.holder.host != crate::holder::host_name();
        if !self.store_for(profile).shared() || !foreign || age > RESCUE_WAIT {
            return None;
        }
        let mut restored = copy_record(marked);
        restored.generation = marked.generation + 1;
        restored.rotating = Some(mark.clone());
        if let Err(e) = guard.write(&restored, Some(marked.generation)) {
            (self.log)(&format!(
                "refresh: could not restore the rotation mark: {e}"
            ));
        }
        Some(Error::store_unavailable(format!(
            "the token pair of profile {:?} was rotated at Central by process {} on host {} at {}, and the new pair has not reached the store yet (that machine keeps it in its rescue record and pushes it on its next call that reaches the store); nothing was changed, retry later, or after {} run `central-auth login --profile {}`",
            profile.name.as_str(),
            mark.holder.pid,
            mark.holder.host,
            status::rfc3339(mark.since),
            status::rfc3339(mark.since + RESCUE_WAIT),
            profile.name
        )))
    }
}

pub(super) fn lost_error(profile: &Profile, lost: &ChainLost) -> Error {
    Error::NeedsLogin {
        profile: profile.name.to_string(),
        reason: format!(
            "the refresh chain was recorded lost at {} ({}); refreshing cannot help",
            status::rfc3339(lost.at),
            lost.reason
        ),
    }
}

pub(super) fn save_failed(profile: &Profile, guard: &dyn StoreGuard, e: &Error) -> Error {
    // Only the cause: the store's own advice ("retry") does not hold here.
    let text = e.to_string();
    let cause = text.split("; ").next().unwrap_or(&text);
    let name = profile.name.as_str();
    match guard.rescued() {
        Some(path) => Error::store_unavailable(format!(
            "Central rotated the token pair of profile {name:?}, and the store did not take the new pair ({cause}); it is kept in the rescue record {path} on this machine and pushed to the store by the next central-auth call here that reaches it, and no machine can refresh the profile until then: run `central-auth token --profile {name}` here once the store answers"
        )),
        None => Error::store(format!(
            "Central rotated the token pair of profile {name:?} but the new pair could not be saved ({cause}); the old pair is dead, so the chain is lost: fix the store, then run `central-auth login --profile {name}` or `central-auth import --profile {name} FILE`"
        )),
    }
}
