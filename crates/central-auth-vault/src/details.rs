//! What `status` shows about a Vault store (`store_details`, docs/json.md):
//! its table, address, paths, auth method and the local cache's freshness.
//! Never contacts Vault and never holds a secret.

use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use central_auth_core::duration::format as dur;
use central_auth_core::profile_name::ProfileName;
use central_auth_core::store::StoreDetails;
use central_auth_core::timefmt::rfc3339;

use crate::cache;
use crate::config::VaultConfig;

/// The local read-through cache, as `status` shows it.
#[derive(Debug, Clone, Serialize)]
struct CacheDetails {
    /// When the cached token was last read from (or written to) the store
    /// (RFC 3339).
    read_at: String,
    /// Seconds since then.
    age_seconds: i64,
    /// Read less than `cache_ttl` ago: served without asking the store.
    fresh: bool,
    /// The cached access token's expiry (RFC 3339).
    expires_at: String,
    /// The store's version of the record it came from.
    version: u64,
}

/// The details of the store `config` for `profile`, whose local cache files
/// are under `local_dir`.
pub(crate) fn of(
    config: &VaultConfig,
    local_dir: &std::path::Path,
    profile: &ProfileName,
) -> StoreDetails {
    let cache = cache::load(&cache::path(local_dir, profile.as_str())).map(|entry| {
        let now = OffsetDateTime::now_utc();
        let age = now - entry.read_at;
        CacheDetails {
            read_at: rfc3339(entry.read_at),
            age_seconds: age.whole_seconds(),
            fresh: age >= time::Duration::ZERO && age < config.cache_ttl,
            expires_at: rfc3339(entry.expires_at),
            version: entry.version,
        }
    });
    let namespace = config
        .namespace
        .as_ref()
        .map(|n| format!(", namespace {n}"))
        .unwrap_or_default();
    let ttl = dur(Duration::from_secs(config.cache_ttl.as_secs()));
    let cache_line = match &cache {
        None => "none (the next call reads the store)".to_owned(),
        Some(c) => {
            let age = dur(Duration::from_secs(c.age_seconds.max(0) as u64));
            if c.fresh {
                format!("fresh, read {age} ago (served without asking the store for {ttl})")
            } else {
                format!("stale, read {age} ago (older than {ttl}: the next call reads the store)")
            }
        }
    };
    let rescue_path = crate::rescue::path(local_dir, profile.as_str());
    let rescue = crate::rescue::pending(&rescue_path).then(|| rescue_path.display().to_string());
    let mut details = StoreDetails::new()
        .field("name", &config.name)
        .field(
            "address",
            config
                .address()
                .ok()
                .map(|a| central_auth_core::redact::redact_url(&a)),
        )
        .field("mount", &config.mount)
        .field("path", &config.path)
        .field("record", config.data_path(profile.as_str()))
        .field("policy_path", config.policy_path())
        .field("namespace", &config.namespace)
        .field("auth", config.token.method())
        .field("auth_source", config.token.describe())
        .field("cache_ttl_seconds", config.cache_ttl.as_secs())
        .field("cache", &cache)
        .field("rescue_record", &rescue)
        .line(
            "store table",
            format!(
                "[stores.{}] mount {}, path {}{namespace}",
                config.name, config.mount, config.path
            ),
        )
        .line("store auth", config.token.describe())
        .line("local cache", cache_line);
    if let Some(path) = rescue {
        details = details.line(
            "rescue record",
            format!("{path}: a rotated pair the store did not take; the next call that reaches the store pushes it and removes the file"),
        );
    }
    details
}
