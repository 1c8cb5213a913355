//! The fleet-wide lease: one lock record per profile in KV v2, taken with
//! check-and-set.
//!
//! The lease key is `<path>/_lease/<profile>`. Its data names the holder
//! ([`Holder`]: host, pid, start time), the lease's time-to-live and whether it
//! was released. A lease is free when absent, released, older than its TTL by
//! Vault's own clock (the version's `created_time` against the response's
//! `Date`, so machines' clock skew does not matter), or held by a dead process
//! on this host. Taking it is a CAS write over the version just read, so of
//! several machines racing exactly one wins. Release is a CAS write of
//! `released: true` over the version we wrote; if it fails, someone took over
//! after our TTL and the release is a no-op.
//!
//! A lease record is a peer's word: its TTL is capped at [`MAX_LEASE_TTL`] and
//! all time arithmetic saturates, so no record makes a caller panic or wait
//! for ever. A waiter's deadline follows the lease it waits for: it waits at
//! least until that lease has run out (plus a poll), so a dead holder's lease
//! is always taken over, even when `lock_timeout` is not longer than
//! `lock_ttl`. A lost check-and-set race means another machine took the lease:
//! the waiter follows that lease too (a standby may still show the old one
//! free), and looks again with backoff and jitter. However peers behave, a
//! waiter gives up at `lock_timeout` plus one `lock_ttl`.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use central_auth_core::error::Error;
use central_auth_core::holder::Holder;
use central_auth_core::secret::SecretString;

use crate::client::{Cas, Client, Entry};

/// The lease's data as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// Who holds it (absent once released).
    #[serde(default)]
    pub owner: Option<Holder>,
    /// Seconds the lease lasts from its write.
    pub ttl_secs: u64,
    /// Set by the holder's release.
    #[serde(default)]
    pub released: bool,
}

pub use crate::config::MAX_LEASE_TTL;

/// A held lease.
#[derive(Debug)]
pub struct Lease {
    key: String,
    version: u64,
    /// When the request that last wrote it was sent: Vault's `created_time`
    /// is later, so the lease lasts at least `ttl` from here.
    written: Instant,
    ttl: Duration,
}

impl Lease {
    /// How long the lease surely stays ours (by this machine's clock).
    pub fn left(&self) -> Duration {
        self.ttl.saturating_sub(self.written.elapsed())
    }
}

/// The KV key of a profile's lease.
pub fn key(profile: &str) -> String {
    format!("_lease/{profile}")
}

/// Whether `entry` (the lease key as read) is free for us to take.
pub fn is_free(entry: &Entry) -> bool {
    let Some(data) = &entry.data else {
        return true;
    };
    let Ok(lease) = serde_json::from_value::<LeaseRecord>(data.clone()) else {
        // Unreadable lease data: treat as expired after the default TTL.
        return expired(entry, crate::config::DEFAULT_LOCK_TTL.as_secs());
    };
    if lease.released || expired(entry, lease.ttl_secs) {
        return true;
    }
    match &lease.owner {
        // A holder on this host that no longer runs is gone at once; one on
        // another host only by the lease's expiry.
        Some(owner) => {
            owner.is_me()
                || (owner.host == central_auth_core::holder::host_name() && !owner.running_here())
        }
        None => true,
    }
}

fn expired(entry: &Entry, ttl_secs: u64) -> bool {
    match lease_end(entry, ttl_secs) {
        Some(end) => server_now(entry) > end,
        None => true,
    }
}

fn server_now(entry: &Entry) -> OffsetDateTime {
    entry.server_now.unwrap_or_else(OffsetDateTime::now_utc)
}

/// When, by Vault's clock, the lease in `entry` with `ttl_secs` ends (`None`
/// without a creation time). A peer's TTL is capped at [`MAX_LEASE_TTL`], and
/// the arithmetic saturates.
fn lease_end(entry: &Entry, ttl_secs: u64) -> Option<OffsetDateTime> {
    // Date has 1 s steps: one extra second so a lease never ends early.
    let ttl = ttl_secs.min(MAX_LEASE_TTL.as_secs()).saturating_add(1);
    let ttl = time::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX));
    entry.created.map(|created| created.saturating_add(ttl))
}

/// How long, by Vault's clock, the lease in `entry` still runs.
fn remaining(entry: &Entry, ttl_secs: u64) -> Duration {
    lease_end(entry, ttl_secs)
        .and_then(|end| (end - server_now(entry)).try_into().ok())
        .unwrap_or(Duration::ZERO)
}

/// How long the lease in `entry` (held by someone else) still runs, for a
/// waiter's deadline.
fn held_for(entry: &Entry) -> Duration {
    let ttl = entry
        .data
        .as_ref()
        .and_then(|d| serde_json::from_value::<LeaseRecord>(d.clone()).ok())
        .map_or(crate::config::DEFAULT_LOCK_TTL.as_secs(), |l| l.ttl_secs);
    remaining(entry, ttl)
}

/// The longest pause between two looks at a busy lease.
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// Takes the lease of `profile`, waiting at most `bound`, or longer while the
/// lease it finds is still running (its holder may be dead: the waiter takes
/// it over once it ends, at most `ttl` plus the bound after the start).
pub fn acquire(
    client: &Client,
    profile: &str,
    ttl: Duration,
    bound: Duration,
) -> Result<Lease, Error> {
    let key = key(profile);
    let start = Instant::now();
    let ceiling = bound.saturating_add(ttl.min(MAX_LEASE_TTL));
    let mut deadline = bound;
    let mut pause = Duration::from_millis(20);
    let mut jitter = Jitter::new();
    loop {
        let entry = client.read(&key)?;
        if is_free(&entry) {
            let record = LeaseRecord {
                owner: Some(Holder::current()),
                ttl_secs: ttl.as_secs().max(1),
                released: false,
            };
            let written = Instant::now();
            if let Cas::Written(version) = client.write(&key, &encode(&record), entry.version)? {
                return Ok(Lease {
                    key,
                    version,
                    written,
                    ttl,
                });
            }
            // Another machine won the race: follow its lease as if it had
            // been read (a standby's copy may still show the old one free for
            // a moment), then look again after a pause.
            let follow = start.elapsed() + ttl.min(MAX_LEASE_TTL) + MAX_PAUSE;
            deadline = deadline.max(follow.min(ceiling));
        } else {
            // Follow the lease: wait until it has run out, plus one poll.
            let follow = start.elapsed() + held_for(&entry) + MAX_PAUSE;
            deadline = deadline.max(follow.min(ceiling));
        }
        let waited = start.elapsed();
        if waited >= deadline {
            return Err(Error::LockTimeout {
                profile: profile.to_owned(),
                path: format!("{}/v1/<mount>/data/.../{key}", client.address()).into(),
                waited,
            });
        }
        std::thread::sleep((pause + jitter.next(pause)).min(deadline - waited));
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// A little randomness (no crate needed: the clock's nanoseconds and the pid
/// through an xorshift) so machines polling together do not stay in step.
pub struct Jitter(u64);

impl Jitter {
    /// A generator seeded from the clock and the process id.
    pub fn new() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Jitter((u64::from(nanos) ^ (u64::from(std::process::id()) << 32)) | 1)
    }

    /// A pause between zero and `up_to`.
    pub fn next(&mut self, up_to: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let ms = u64::try_from(up_to.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(self.0 % ms)
    }
}

/// Renews a held lease for a full TTL from now (right before a refresh is sent,
/// so the rotation gets the whole `lock_ttl`). Fails if the lease was taken over.
pub fn renew(client: &Client, lease: &mut Lease) -> Result<(), Error> {
    let record = LeaseRecord {
        owner: Some(Holder::current()),
        ttl_secs: lease.ttl.as_secs().max(1),
        released: false,
    };
    let written = Instant::now();
    match client.write(&lease.key, &encode(&record), lease.version)? {
        Cas::Written(version) => {
            lease.version = version;
            lease.written = written;
            Ok(())
        }
        Cas::Mismatch => Err(Error::store_unavailable(format!(
            "the fleet lease {} was taken over by another machine (this process held it longer than lock_ttl without renewing it); retry the command",
            lease.key
        ))),
    }
}

/// Releases a held lease (best effort: a lease taken over after its TTL is not
/// ours any more, and an unreachable Vault lets it expire).
pub fn release(client: &Client, lease: Lease) {
    let record = LeaseRecord {
        owner: None,
        ttl_secs: 0,
        released: true,
    };
    let _ = client.write(&lease.key, &encode(&record), lease.version);
}

/// Whether someone else holds the lease right now (for `status`).
pub fn held_by_other(client: &Client, profile: &str) -> Result<bool, Error> {
    let entry = client.read(&key(profile))?;
    Ok(!is_free(&entry))
}

fn encode(record: &LeaseRecord) -> SecretString {
    let owner = record
        .owner
        .as_ref()
        .and_then(|o| serde_json::to_value(o).ok())
        .unwrap_or(serde_json::Value::Null);
    let value = serde_json::json!({
        "owner": owner,
        "ttl_secs": record.ttl_secs,
        "released": record.released,
    });
    SecretString::from(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn entry(
        data: Option<serde_json::Value>,
        created: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Entry {
        Entry {
            data,
            version: 3,
            created: Some(created),
            server_now: Some(now),
        }
    }

    #[test]
    fn a_lease_is_free_when_absent_released_expired_or_dead_here() {
        let t0 = datetime!(2026-11-28 12:00:00 UTC);
        let other = serde_json::json!({
            "owner": {"host": "another-host.invalid", "pid": 1},
            "ttl_secs": 30,
            "released": false
        });
        assert!(is_free(&entry(None, t0, t0)));
        // Held by another host: busy until the TTL (plus Date's 1 s step) passes,
        // by Vault's clock.
        assert!(!is_free(&entry(
            Some(other.clone()),
            t0,
            t0 + time::Duration::seconds(31)
        )));
        assert!(is_free(&entry(
            Some(other.clone()),
            t0,
            t0 + time::Duration::seconds(32)
        )));
        let mut released = other.clone();
        released["released"] = serde_json::json!(true);
        assert!(is_free(&entry(Some(released), t0, t0)));
        // A dead process on this host does not block at all.
        let mut dead = other.clone();
        dead["owner"]["host"] = serde_json::json!(central_auth_core::holder::host_name());
        dead["owner"]["pid"] = serde_json::json!(u32::MAX - 1);
        assert!(is_free(&entry(Some(dead), t0, t0)));
        // A peer's huge TTL neither panics nor holds for longer than the cap.
        for ttl in [i64::MAX as u64, u64::MAX] {
            let mut huge = other.clone();
            huge["ttl_secs"] = serde_json::json!(ttl);
            let e = entry(Some(huge), t0, t0);
            assert!(!is_free(&e));
            assert_eq!(held_for(&e), MAX_LEASE_TTL + Duration::from_secs(1));
            let later = t0 + time::Duration::seconds(MAX_LEASE_TTL.as_secs() as i64 + 2);
            let mut huge = other.clone();
            huge["ttl_secs"] = serde_json::json!(ttl);
            assert!(is_free(&entry(Some(huge), t0, later)));
        }
        // A creation time at the end of time neither.
        let end = OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT);
        assert!(!is_free(&entry(Some(other), end, t0)));
    }

    #[test]
    fn a_check_and_set_that_always_fails_is_retried_with_pauses_within_the_bound() {
        use std::cell::RefCell;
        use std::rc::Rc;
        let script = Rc::new(RefCell::new(crate::client::tests::Script {
            lease: 600,
            cas_fails: true,
            ..Default::default()
        }));
        let c = crate::client::tests::client(&script);
        let t = Instant::now();
        // Each lost race follows the winner's lease: the waiter gives up at
        // the bound plus one lease, never later.
        let e = acquire(
            &c,
            "prod",
            Duration::from_secs(1),
            Duration::from_millis(600),
        )
        .unwrap_err();
        let took = t.elapsed();
        assert!(matches!(e, Error::LockTimeout { .. }), "{e}");
        assert!(took >= Duration::from_millis(1600), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
        // A few looks and writes, with pauses between them: no busy loop.
        let writes = script
            .borrow()
            .calls
            .iter()
            .filter(|c| c.starts_with("write"))
            .count();
        assert!((2..=16).contains(&writes), "{writes} writes in {took:?}");
    }

    #[test]
    fn jitter_stays_below_its_bound() {
        let mut j = Jitter::new();
        for _ in 0..1000 {
            assert!(j.next(Duration::from_millis(20)) < Duration::from_millis(20));
        }
        assert_eq!(j.next(Duration::ZERO), Duration::ZERO);
    }
}
