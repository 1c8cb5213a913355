//! A profile moved to a shared store (`store = "NAME"` added to it) while the
//! local file store still holds its live chain: refused with a line naming
//! `central-auth store migrate`, before anything is sent to Central, instead of
//! starting a second chain by a login and leaving the first one live on disk.

use time::OffsetDateTime;

use crate::config::{Grant, Profile};
use crate::error::Error;
use crate::store::file::FileStore;
use crate::store::record::read_record;
use crate::token::StoredToken;

use super::Broker;

impl Broker {
    /// Refuses to renew a shared profile whose shared store holds no record
    /// (`current` is `None`) while the file store holds a live chain for it.
    /// The file record is read without its lock (records are replaced by
    /// rename, so a read sees a whole one), so that no lock is ever taken in
    /// the opposite order of `store migrate`'s.
    pub(super) fn refuse_unmoved_chain(
        &self,
        profile: &Profile,
        current: Option<&StoredToken>,
    ) -> Result<(), Error> {
        let store = self.store_for(profile);
        if current.is_some() || !store.shared() || profile.grant != Grant::RefreshToken {
            return Ok(());
        }
        let path = FileStore::new(&self.home.state_dir).record_path(&profile.name);
        let Ok(Some(local)) = read_record(&path) else {
            return Ok(());
        };
        let alive = local.lost.is_none()
            && local.refresh_token.is_some()
            && local
                .refresh_left(OffsetDateTime::now_utc())
                .is_none_or(|left| !left.is_zero());
        if !alive {
            return Ok(());
        }
        Err(Error::config(format!(
            "profile {name} now uses the shared store {to}, which holds no token for it, but its live chain is still in the local file store ({path}); nothing was sent to Central. Move it with `central-auth store migrate --from file -p {name}` (fleet.md of the central-auth docs), then retry",
            name = profile.name,
            to = store.location(&profile.name),
            path = path.display()
        )))
    }
}
