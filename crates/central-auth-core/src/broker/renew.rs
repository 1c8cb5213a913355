//! Renewing: a stored token that is not good enough (expired, rejected, or
//! marked by a gone holder) is replaced by a refresh under a write-ahead
//! rotation mark, a mint, or a login; also `refresh` and `keepalive`.

use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{Grant, Profile};
use crate::error::Error;
use crate::holder::Holder;
use crate::oauth::classic::{self, RefreshError};
use crate::oauth::Gateway;
use crate::secret::duplicate;
use crate::status;
use crate::store::StoreGuard;
use crate::token::{RotationMark, StoredToken, TokenOrigin};

use super::record::{copy_record, record_from_response};
use super::recover::{lost_error, save_failed};
use super::{AccessToken, Broker, KeepaliveOutcome};

impl Broker {
    /// Refreshes (or mints) now, whatever the stored token's validity.
    pub fn force_refresh(&self, profile: &Profile) -> Result<AccessToken, Error> {
        let (mut guard, current) = self.lock_settled(profile)?;
        let next = self.renew(profile, guard.as_mut(), current)?;
        Ok(self.handed_out(profile, &next, true, profile.min_valid))
    }

    /// Refreshes the profile if its refresh token is at least `older_than` old, so
    /// the 15-day rule never removes a token someone still needs. Returns the age
    /// before the refresh, or `None` when nothing was due.
    pub fn keepalive(
        &self,
        profile: &Profile,
        older_than: Duration,
    ) -> Result<KeepaliveOutcome, Error> {
        if profile.grant.is_minted() {
            return Ok(KeepaliveOutcome::NotApplicable);
        }
        let (mut guard, current) = self.lock_settled(profile)?;
        if let Some(lost) = current.as_ref().and_then(|t| t.lost.as_ref()) {
            if !profile.can_relogin() {
                return Err(lost_error(profile, lost));
            }
        }
        let now = OffsetDateTime::now_utc();
        let age = match current.as_ref().and_then(|t| t.refresh_age(now)) {
            Some(age) => age,
            None => {
                return Err(Error::NeedsLogin {
                    profile: profile.name.to_string(),
                    reason: "no refresh token is stored".to_owned(),
                })
            }
        };
        let pending = current
            .as_ref()
            .is_some_and(|t| t.rotating.is_some() || t.lost.is_some());
        if age < older_than && !pending {
            return Ok(KeepaliveOutcome::Fresh { age });
        }
        self.renew(profile, guard.as_mut(), current)?;
        Ok(KeepaliveOutcome::Refreshed { age })
    }

    /// Obtains a new token for a profile whose stored one is not good enough
    /// (expired, rejected, marked in flight by a gone holder, or lost), and
    /// writes it. Called with the lock held.
    pub(super) fn renew(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: Option<StoredToken>,
    ) -> Result<StoredToken, Error> {
        let expected = current.as_ref().map(|t| t.generation);
        if let Some(lost) = current.as_ref().and_then(|t| t.lost.as_ref()) {
            if !profile.can_relogin() {
                return Err(lost_error(profile, lost));
            }
        }
        self.refuse_unmoved_chain(profile, current.as_ref())?;
        if profile.grant == Grant::TokenExchange {
            return self.exchange_tenant(profile, guard, current);
        }
        self.network(profile, |gw| match (profile.grant, current) {
            (Grant::ClientCredentials, _) => {
                guard.check_writable()?;
                let next = self.mint(profile, expected, gw)?;
                guard.write(&next, expected)?;
                Ok(next)
            }
            (Grant::RefreshToken, Some(cur))
                if cur.refresh_token.is_some() && cur.lost.is_none() =>
            {
                self.rotate(profile, guard, cur, gw)
            }
            // Nothing stored (never imported, or logged out): say so and
            // name `import` and `login` before any secret source is read.
            // Automatic login is for a chain that died, not for a profile
            // nobody has started or one that was logged out.
            (Grant::RefreshToken, None) => Err(Error::NeedsLogin {
                profile: profile.name.to_string(),
                reason: "no token is stored".to_owned(),
            }),
            (Grant::RefreshToken, _) if profile.can_relogin() => {
                guard.check_writable()?;
                let next = self.relogin(profile, expected, None, gw)?;
                guard.write(&next, expected)?;
                Ok(next)
            }
            (Grant::RefreshToken | Grant::TokenExchange, _) => Err(Error::NeedsLogin {
                profile: profile.name.to_string(),
                reason: "no token is stored".to_owned(),
            }),
        })
    }

    /// Rotates the pair: write-ahead mark, refresh, save. `current` may carry the
    /// mark of an interrupted rotation; this refresh then settles it.
    fn rotate(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: StoredToken,
        gw: &Gateway<'_>,
    ) -> Result<StoredToken, Error> {
        // The callers check this; a record without a refresh token cannot rotate.
        let Some(refresh_token) = current.refresh_token.as_ref().map(duplicate) else {
            return Err(Error::NeedsLogin {
                profile: profile.name.to_string(),
                reason: "no refresh token is stored".to_owned(),
            });
        };
        let interrupted = current.rotating.clone();
        if let Some(m) = &interrupted {
            (self.log)(&format!(
                "refresh: a refresh of profile {} by process {} at {} did not finish; asking Central whether the stored pair is still alive",
                profile.name,
                m.holder.pid,
                status::rfc3339(m.since)
            ));
        }
        // Secrets first: a command that fails must fail before anything is sent.
        let secret = self.secret(profile, &profile.client_secret, "client secret", gw)?;
        // Then renew the lock (a shared store's lease) so the mark, the refresh
        // and the save get a whole lock_ttl however long the secret took.
        guard
            .check_writable()
            .map_err(|e| Error::store(format!("{e}; nothing was sent to Central")))?;
        let mut marked = copy_record(&current);
        marked.generation = current.generation + 1;
        marked.rotating = Some(RotationMark {
            since: OffsetDateTime::now_utc(),
            holder: Holder::current(),
        });
        guard
            .write(&marked, Some(current.generation))
            .map_err(|e| Error::store(format!("{e}; nothing was sent to Central")))?;
        match classic::refresh(gw, profile, &secret, &refresh_token) {
            Ok(response) => {
                if let Some(sent) = response.clamped_from {
                    (self.log)(&format!(
                        "refresh: Central said the token lives {sent} s; trusting at most {} s",
                        response.expires_in
                    ));
                }
                let next = record_from_response(response, &marked, TokenOrigin::Refresh);
                self.save_rotated(profile, guard, next, &marked)
            }
            Err(RefreshError::RefreshTokenRejected) => {
                (self.log)(&format!(
                    "refresh: Central rejected the refresh token of profile {}; re-reading the store",
                    profile.name
                ));
                // Another holder of a shared store may have rotated the chain.
                if let Some(reread) = guard.read()? {
                    if reread.generation != marked.generation && reread.lost.is_none() {
                        if reread.rotating.is_none()
                            && reread.usable_for(Duration::ZERO, OffsetDateTime::now_utc())
                        {
                            return Ok(reread);
                        }
                        if reread.refresh_token.is_some() {
                            return self.rotate(profile, guard, reread, gw);
                        }
                    }
                }
                if let Some(waiting) = self.rescue_pending(profile, guard, &marked, &interrupted) {
                    return Err(waiting);
                }
                let reason = match (&interrupted, gw.uncertain.get()) {
                    (Some(m), _) => format!(
                        "a refresh started at {} by process {} was interrupted after Central had already rotated the pair (or Central revoked it), so the stored refresh token is dead",
                        status::rfc3339(m.since),
                        m.holder.pid
                    ),
                    (None, true) => "the answer to a refresh was lost after Central had already rotated the pair, so the stored refresh token is dead".to_owned(),
                    (None, false) => "Central rejected the stored refresh token (Invalid refresh_token): it was used by another tool, revoked, or unused for 15 days".to_owned(),
                };
                self.recover_or_lose(profile, guard, &marked, reason, gw)
            }
            Err(RefreshError::BadAnswer(why)) => {
                let reason = format!(
                    "Central accepted the refresh but answered with an unusable token ({why}); the old refresh token is consumed, so the chain is lost"
                );
                self.recover_or_lose(profile, guard, &marked, reason, gw)
            }
            Err(RefreshError::Other(e)) if gw.uncertain.get() => Err(Error::unavailable(format!(
                "{e}; a refresh request may have reached Central, so the next call checks with Central before it uses the stored token"
            ))),
            Err(RefreshError::Other(e)) => {
                // Central answered without rotating, or nothing left this machine:
                // the stored pair is as alive as before. If clearing the mark fails,
                // the next call settles it with one more refresh.
                let mut cleared = copy_record(&marked);
                cleared.generation = marked.generation + 1;
                cleared.rotating = interrupted;
                if let Err(w) = guard.write(&cleared, Some(marked.generation)) {
                    (self.log)(&format!("refresh: could not clear the rotation mark: {w}"));
                }
                Err(e)
            }
        }
    }

    /// Saves a pair fresh from Central. If the write fails, says exactly that: the
    /// rotation happened and its result is lost (the mark stays, so the next
    /// caller settles it instead of trusting the dead access token).
    fn save_rotated(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        next: StoredToken,
        marked: &StoredToken,
    ) -> Result<StoredToken, Error> {
        let failure = match guard.write(&next, Some(marked.generation)) {
            Ok(()) => return Ok(next),
            Err(e) => e,
        };
        // Someone wrote in between (a replaced lock file). If they only settled our
        // mark as lost, or the mark is still ours, our pair is the live one.
        if let Ok(Some(stored)) = guard.read() {
            if stored.lost.is_some() || stored.rotating == marked.rotating {
                let mut again = next;
                again.generation = stored.generation + 1;
                if guard.write(&again, Some(stored.generation)).is_ok() {
                    return Ok(again);
                }
                return Err(save_failed(profile, guard, &failure));
            }
            if stored.lost.is_none()
                && stored.rotating.is_none()
                && stored.usable_for(Duration::ZERO, OffsetDateTime::now_utc())
            {
                return Ok(stored);
            }
        }
        Err(save_failed(profile, guard, &failure))
    }
}
