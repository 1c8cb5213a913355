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

/// A held lease.
#[derive(Debug)]
pub struct Lease {
    key: String,
    version: u64,
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
    let now = entry.server_now.unwrap_or_else(OffsetDateTime::now_utc);
    match entry.created {
        // Date has 1 s steps: one extra second so a lease never ends early.
        Some(created) => now > created + time::Duration::seconds(ttl_secs as i64 + 1),
        None => true,
    }
}

/// Takes the lease of `profile`, waiting at most `bound`.
pub fn acquire(
    client: &Client,
    profile: &str,
    ttl: Duration,
    bound: Duration,
) -> Result<Lease, Error> {
    let key = key(profile);
    let start = Instant::now();
    let mut pause = Duration::from_millis(20);
    loop {
        let entry = client.read(&key)?;
        if is_free(&entry) {
            let record = LeaseRecord {
                owner: Some(Holder::current()),
                ttl_secs: ttl.as_secs().max(1),
                released: false,
            };
            match client.write(&key, &encode(&record), entry.version)? {
                Cas::Written(version) => return Ok(Lease { key, version }),
                Cas::Mismatch => continue,
            }
        }
        let waited = start.elapsed();
        if waited >= bound {
            return Err(Error::LockTimeout {
                profile: profile.to_owned(),
                path: format!("{}/v1/<mount>/data/.../{key}", client.address()).into(),
                waited,
            });
        }
        // Jitter so machines polling together do not stay in step.
        let jitter = Duration::from_millis(u64::from(std::process::id() % 17));
        std::thread::sleep((pause + jitter).min(bound - waited));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// Renews a held lease for a full TTL from now (right before a refresh is sent,
/// so the rotation gets the whole `lock_ttl`). Fails if the lease was taken over.
pub fn renew(client: &Client, lease: &mut Lease, ttl: Duration) -> Result<(), Error> {
    let record = LeaseRecord {
        owner: Some(Holder::current()),
        ttl_secs: ttl.as_secs().max(1),
        released: false,
    };
    match client.write(&lease.key, &encode(&record), lease.version)? {
        Cas::Written(version) => {
            lease.version = version;
            Ok(())
        }
        Cas::Mismatch => Err(Error::store_unavailable(format!(
            "the fleet lease {} was taken over by another machine (this process was slower than lock_ttl); nothing was sent to Central, retry the command",
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
    SecretString::from(serde_json::to_string(record).expect("a lease record always encodes"))
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
        let mut dead = other;
        dead["owner"]["host"] = serde_json::json!(central_auth_core::holder::host_name());
        dead["owner"]["pid"] = serde_json::json!(u32::MAX - 1);
        assert!(is_free(&entry(Some(dead), t0, t0)));
    }
}
