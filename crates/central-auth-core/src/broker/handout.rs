//! The cached path: take the lock, read the record, and hand out a token that
//! stays valid long enough; otherwise wait for a live holder or renew.

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::config::Profile;
use crate::error::{Error, Outage};
use crate::secret::duplicate;
use crate::store::CachedAccess;
use crate::token::StoredToken;
use crate::usage;

use super::lock::in_flight;
use super::record::copy_record;
use super::{AccessToken, Broker, Memo, MEMO_TTL};

impl Broker {
    /// The current access token of `profile`, valid for at least `min_valid`
    /// (default: the profile's `min_valid`), refreshing it if needed.
    pub fn token(
        &self,
        profile: &Profile,
        min_valid: Option<Duration>,
    ) -> Result<AccessToken, Error> {
        // Fleet rule: a shared pair is rotated only at its profile's min_valid
        // before expiry, whatever a caller asks (docs/ARCHITECTURE.md).
        let wanted = match self.store_for(profile).shared() {
            true => profile.min_valid,
            false => min_valid.unwrap_or(profile.min_valid),
        };
        if let Some(t) = self.memo_hit(profile, wanted) {
            return Ok(t);
        }
        let started = Instant::now();
        loop {
            let mut guard = self.lock(profile)?;
            // A store's local cache (shared stores): served while fresh.
            let cached = guard.cached();
            if let Some(c) = &cached {
                if c.fresh && c.usable_for(wanted, OffsetDateTime::now_utc()) {
                    self.note_use(profile);
                    return Ok(self.handed_out_cached(profile, c, wanted));
                }
            }
            let current = match guard.read() {
                Ok(current) => current,
                Err(
                    e @ Error::Unavailable {
                        outage: Outage::Store | Outage::Keyring(_),
                        ..
                    },
                ) => {
                    // The store is unreachable: the cached token is served
                    // until the fleet's rotation moment (after it another
                    // machine may rotate, and Central then deletes this access
                    // token), and nothing is refreshed (that would fork a
                    // shared chain).
                    let now = OffsetDateTime::now_utc();
                    return match &cached {
                        Some(c) if c.usable_for(wanted, now) => {
                            (self.log)(&format!("store: {e}; serving the cached access token"));
                            Ok(self.handed_out_cached(profile, c, wanted))
                        }
                        Some(c) if c.usable_for(Duration::ZERO, now) => {
                            Err(Error::store_unavailable(format!(
                                "{e}; the cached access token is past the fleet's rotation moment ({}), when another machine may already have replaced it, so it is not served",
                                crate::status::rfc3339(crate::store::rotation_at(
                                    profile.min_valid,
                                    c.issued_at,
                                    c.expires_at
                                ))
                            )))
                        }
                        _ => Err(e),
                    };
                }
                Err(e) => return Err(e),
            };
            self.note_use(profile);
            if let Some(t) = &current {
                if t.lost.is_none()
                    && t.rotating.is_none()
                    && t.usable_for(wanted, OffsetDateTime::now_utc())
                {
                    // Under the lock no writer can move the record: its stamp
                    // now is the stamp of what was read.
                    self.remember(profile, t);
                    return Ok(self.handed_out(profile, t, false, wanted));
                }
                if let Some(mark) = in_flight(t) {
                    drop(guard);
                    self.wait_for_holder(profile, t.generation, &mark, started)?;
                    continue;
                }
            }
            let next = self.renew(profile, guard.as_mut(), current)?;
            self.remember(profile, &next);
            return Ok(self.handed_out(profile, &next, true, wanted));
        }
    }

    /// The memo's token, when [`Broker::with_memo`] is on and it still holds.
    fn memo_hit(&self, profile: &Profile, wanted: Duration) -> Option<AccessToken> {
        let memo = self.memo.as_ref()?.borrow();
        let m = memo.as_ref()?;
        let store = self.store_for(profile);
        let holds = m.profile == profile.name.as_str()
            && m.at.elapsed() < MEMO_TTL
            && !store.shared()
            && m.record.lost.is_none()
            && m.record.rotating.is_none()
            && !m.record.access_rejected
            && m.record.usable_for(wanted, OffsetDateTime::now_utc())
            && store.stamp(&profile.name) == Some(m.stamp);
        holds.then(|| self.handed_out(profile, &m.record, false, wanted))
    }

    /// Keeps `record` in the memo (called with the lock held, after the
    /// record was read or written).
    fn remember(&self, profile: &Profile, record: &StoredToken) {
        let Some(memo) = &self.memo else {
            return;
        };
        let store = self.store_for(profile);
        *memo.borrow_mut() = match store.stamp(&profile.name) {
            Some(stamp) if !store.shared() => Some(Memo {
                profile: profile.name.to_string(),
                stamp,
                record: copy_record(record),
                at: Instant::now(),
            }),
            _ => None,
        };
    }

    fn note_use(&self, profile: &Profile) {
        if let Some(client) = &self.client {
            let path = usage::path(&self.home.state_dir, &profile.name);
            // Usage records are advisory: a failure must not fail the token call.
            if let Err(e) = usage::record(&path, client, OffsetDateTime::now_utc()) {
                (self.log)(&format!("usage: not recorded: {e}"));
            }
        }
    }

    pub(super) fn handed_out(
        &self,
        profile: &Profile,
        t: &StoredToken,
        fresh: bool,
        wanted: Duration,
    ) -> AccessToken {
        AccessToken {
            token: duplicate(&t.access_token),
            expires_at: self.reported_expiry(profile, t.issued_at, t.expires_at),
            issued_at: t.issued_at,
            base_url: profile.base_url.clone(),
            fresh,
            min_valid: wanted,
            effective_min_valid: t.effective_min_valid(wanted),
        }
    }

    fn handed_out_cached(
        &self,
        profile: &Profile,
        c: &CachedAccess,
        wanted: Duration,
    ) -> AccessToken {
        AccessToken {
            token: duplicate(&c.access_token),
            expires_at: self.reported_expiry(profile, c.issued_at, c.expires_at),
            issued_at: c.issued_at,
            base_url: profile.base_url.clone(),
            fresh: false,
            min_valid: wanted,
            effective_min_valid: c.effective_min_valid(wanted),
        }
    }

    /// The expiry told to tools. For a shared store it is the earliest moment any
    /// broker of the fleet may rotate the pair (expiry minus the profile's
    /// `min_valid`, capped at half the lifetime): Central deletes the old access
    /// token at rotation, so a tool must not cache it beyond that.
    fn reported_expiry(
        &self,
        profile: &Profile,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> OffsetDateTime {
        let shared = self.store_for(profile).shared();
        crate::store::reported_expiry(shared, profile.min_valid, issued_at, expires_at)
    }
}
