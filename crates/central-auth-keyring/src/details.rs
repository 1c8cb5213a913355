//! What `status` shows about a keyring store (`store_details`, docs/json.md):
//! the item's service and account and the local cache. Never contacts the
//! keyring and never holds a secret.

use serde::Serialize;

use central_auth_core::profile_name::ProfileName;
use central_auth_core::store::StoreDetails;
use central_auth_core::timefmt::rfc3339;

use crate::cache;
use crate::config::KeyringConfig;

/// The local access-token cache, as `status` shows it.
#[derive(Debug, Clone, Serialize)]
struct CacheDetails {
    /// The cached access token's expiry (RFC 3339).
    expires_at: String,
    /// The generation of the keyring record it came from.
    generation: u64,
}

/// The details of the store `config` for `profile`, whose cache files are
/// under `local_dir`.
pub(crate) fn of(
    config: &KeyringConfig,
    local_dir: &std::path::Path,
    profile: &ProfileName,
) -> StoreDetails {
    let path = cache::path(local_dir, profile.as_str());
    let cache = cache::load(&path).map(|entry| CacheDetails {
        expires_at: rfc3339(entry.expires_at),
        generation: entry.generation,
    });
    let cache_line = match &cache {
        None => "none (the next call reads the keyring)".to_owned(),
        Some(c) => format!(
            "{} (0600), access token until {}, generation {} (served without opening the keyring)",
            path.display(),
            c.expires_at,
            c.generation
        ),
    };
    StoreDetails::new()
        .field("name", &config.name)
        .field("service", &config.service)
        .field("account", profile.as_str())
        .field("timeout_seconds", config.timeout.as_secs())
        .field("cache_file", path.display().to_string())
        .field("cache", &cache)
        .line(
            "keyring item",
            format!(
                "[stores.{}] service {:?}, account {:?}, deadline {}s",
                config.name,
                config.service,
                profile.as_str(),
                config.timeout.as_secs()
            ),
        )
        .line("local cache", cache_line)
}
