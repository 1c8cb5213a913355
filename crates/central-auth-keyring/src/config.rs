//! The `[stores.NAME]` table of a keyring store, validated. Nothing here
//! touches the keyring: the cached path parses the config on every call.

use std::time::Duration;

use serde::Deserialize;

use central_auth_core::duration;

/// The default keyring service of the items.
pub const DEFAULT_SERVICE: &str = "central-auth";
/// The default deadline of one keyring call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// The table as written in the config file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKeyringConfig {
    kind: Option<String>,
    service: Option<String>,
    timeout: Option<String>,
}

/// One validated `[stores.NAME]` table of kind `keyring`.
#[derive(Debug, Clone)]
pub struct KeyringConfig {
    /// The table's name.
    pub name: String,
    /// The keyring service of the items (the account is the profile).
    pub service: String,
    /// The deadline of each keyring call.
    pub timeout: Duration,
}

impl KeyringConfig {
    /// Validates one table; errors are one line naming the key.
    pub fn resolve(name: &str, raw: RawKeyringConfig) -> Result<KeyringConfig, String> {
        let ok_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok_name {
            return Err(format!(
                "store name {name:?}: use letters, digits, '-' and '_' only"
            ));
        }
        match raw.kind.as_deref() {
            Some("keyring") => {}
            Some(other) => {
                return Err(format!(
                    "kind {other:?} is not supported: use \"keyring\", \"vault\" or \"openbao\""
                ))
            }
            None => return Err("kind is missing: add kind = \"keyring\"".to_owned()),
        }
        let service = raw.service.unwrap_or_else(|| DEFAULT_SERVICE.to_owned());
        if service.is_empty() || service.len() > 200 || service.chars().any(char::is_control) {
            return Err(
                "service must be 1 to 200 characters without control characters".to_owned(),
            );
        }
        let timeout = match raw.timeout {
            None => DEFAULT_TIMEOUT,
            Some(t) => duration::parse(&t).map_err(|e| format!("timeout: {e}"))?,
        };
        if timeout < Duration::from_secs(1) || timeout > Duration::from_secs(60) {
            return Err("timeout must be between 1s and 60s (e.g. \"3s\")".to_owned());
        }
        Ok(KeyringConfig {
            name: name.to_owned(),
            service,
            timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(kind: Option<&str>, service: Option<&str>, timeout: Option<&str>) -> RawKeyringConfig {
        RawKeyringConfig {
            kind: kind.map(str::to_owned),
            service: service.map(str::to_owned),
            timeout: timeout.map(str::to_owned),
        }
    }

    #[test]
    fn defaults_and_refusals() {
        let c = KeyringConfig::resolve("laptop", raw(Some("keyring"), None, None)).unwrap();
        assert_eq!(c.service, DEFAULT_SERVICE);
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        let c = KeyringConfig::resolve("k", raw(Some("keyring"), Some("x"), Some("2s"))).unwrap();
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert!(KeyringConfig::resolve("k", raw(None, None, None)).is_err());
        assert!(KeyringConfig::resolve("k", raw(Some("keyring"), None, Some("2h"))).is_err());
        assert!(KeyringConfig::resolve("k", raw(Some("keyring"), Some(""), None)).is_err());
        assert!(KeyringConfig::resolve("a/b", raw(Some("keyring"), None, None)).is_err());
    }
}
