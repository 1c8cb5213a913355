//! Replacing the stored pair on the user's word: `login`, `import`, `logout`.

use time::OffsetDateTime;

use crate::config::{Grant, Profile};
use crate::error::Error;
use crate::import;
use crate::logout_mark;
use crate::secret::{same, SecretString};
use crate::status;

use super::record::record_from_import;
use super::{AccessToken, Broker, ImportOutcome};

impl Broker {
    /// Runs the classic login (or mints, for client credentials) and stores the
    /// result, replacing whatever is stored (a lost chain, or a record that cannot
    /// be read). `password` overrides the profile's password source.
    pub fn login(
        &self,
        profile: &Profile,
        password: Option<SecretString>,
    ) -> Result<AccessToken, Error> {
        let mut guard = self.lock(profile)?;
        let current = self.read_or_discard(profile, guard.as_mut(), true)?;
        guard.check_writable()?;
        if profile.grant == Grant::TokenExchange {
            let next = self.exchange_tenant(profile, guard.as_mut(), current)?;
            return Ok(self.handed_out(profile, &next, true, profile.min_valid));
        }
        let expected = current.as_ref().map(|t| t.generation);
        let next = self.network(profile, |gw| match profile.grant {
            Grant::ClientCredentials | Grant::TokenExchange => self.mint(profile, expected, gw),
            Grant::RefreshToken => self.relogin(profile, expected, password, gw),
        })?;
        guard.write(&next, expected)?;
        self.clear_logout_mark(profile)?;
        Ok(self.handed_out(profile, &next, true, profile.min_valid))
    }

    /// Stores an imported token JSON (Web UI download or token response).
    ///
    /// Refuses, unless `force`, a Web UI download created 15 days ago or more
    /// (Central has most likely removed its refresh token), and one older than
    /// the stored chain: its
    /// pair has most likely been rotated already, and storing it would replace the
    /// live refresh token with a dead one. A chain recorded lost is replaced
    /// without `force`; a record that cannot be read needs `force`.
    pub fn import(
        &self,
        profile: &Profile,
        text: &str,
        force: bool,
    ) -> Result<ImportOutcome, Error> {
        if profile.grant.is_minted() {
            return Err(Error::bad_input(format!(
                "profile {:?} uses {} and obtains its own tokens; import is for classic profiles",
                profile.name.as_str(),
                profile.grant.as_str()
            )));
        }
        let now = OffsetDateTime::now_utc();
        let imported = import::parse(text, now)?;
        if let (Some(age), false) = (import::dead_by_age(&imported, now), force) {
            return Err(Error::bad_input(format!(
                "this file's token was created at {} ({} ago): Central removes a refresh token unused for 15 days, so this pair is most likely dead. Download a new token in the Central Web UI, or pass --force to store it anyway",
                status::rfc3339(imported.issued_at),
                crate::duration::format(age)
            )));
        }
        let mut guard = self.lock(profile)?;
        let current = self.read_or_discard(profile, guard.as_mut(), force)?;
        if let Some(cur) = &current {
            if let Some(stored_rt) = &cur.refresh_token {
                if same(stored_rt, &imported.refresh_token) && cur.lost.is_none() {
                    return Ok(ImportOutcome::AlreadyStored);
                }
            }
            let stored_since = cur.refresh_issued_at.unwrap_or(cur.issued_at);
            if imported.from_download
                && imported.issued_at < stored_since
                && cur.lost.is_none()
                && !force
            {
                return Err(Error::bad_input(format!(
                    "the stored token of profile {:?} is newer ({}) than this file ({}); its pair was probably rotated already. Download a new token, or pass --force to replace the stored one anyway",
                    profile.name.as_str(),
                    status::rfc3339(stored_since),
                    status::rfc3339(imported.issued_at)
                )));
            }
        }
        let expected = current.as_ref().map(|t| t.generation);
        let record = record_from_import(imported, expected);
        guard.write(&record, expected)?;
        self.clear_logout_mark(profile)?;
        Ok(ImportOutcome::Stored {
            replaced: current.is_some(),
        })
    }

    /// Deletes the stored token, readable or not. Returns false if there was none.
    pub fn logout(&self, profile: &Profile) -> Result<bool, Error> {
        let mut guard = self.lock(profile)?;
        let had = match guard.read() {
            Ok(Some(t)) => {
                guard.delete(t.generation)?;
                true
            }
            Ok(None) => false,
            Err(e) => {
                (self.log)(&format!("logout: removing an unreadable record: {e}"));
                guard.discard()?;
                true
            }
        };
        // Nothing logs in again without a stored token (`renew`); the mark
        // lets `status` say why there is none.
        logout_mark::write(
            &logout_mark::path(&self.home.state_dir, &profile.name),
            OffsetDateTime::now_utc(),
        )?;
        Ok(had)
    }

    /// `login` and `import` end a logout.
    fn clear_logout_mark(&self, profile: &Profile) -> Result<(), Error> {
        logout_mark::clear(&logout_mark::path(&self.home.state_dir, &profile.name))
    }
}
