//! Each profile's local state directory, `<state>/profiles/<name>/`, whatever
//! store holds its token: the usage record ([`crate::usage`]), the quota seen
//! by the proxy ([`crate::quota`]) and the proxies' records
//! ([`crate::proxies`]) live there. The file store keeps its record and lock in
//! the same directory (`store::file`); a profile in a shared store has it for
//! its local records only.

use std::path::{Path, PathBuf};

use crate::profile_name::ProfileName;

/// The directory under the state directory that holds one directory per profile.
pub const PROFILES_DIR: &str = "profiles";
/// The usage record's file name inside a profile directory.
pub const USAGE_FILE: &str = "usage.json";
/// The quota record's file name inside a profile directory.
pub const QUOTA_FILE: &str = "quota.json";

/// `<state_dir>/profiles`.
pub fn profiles_dir(state_dir: &Path) -> PathBuf {
    state_dir.join(PROFILES_DIR)
}

/// `<state_dir>/profiles/<profile>`.
pub fn profile_dir(state_dir: &Path, profile: &ProfileName) -> PathBuf {
    profiles_dir(state_dir).join(profile.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::file::FileStore;

    /// Usage, quota and proxy records stay where they were written when they
    /// went through the file store's directory (no migration needed).
    #[test]
    fn the_paths_are_the_file_store_layout() {
        let state = Path::new("/s/state");
        let p = ProfileName::new("prod").unwrap();
        assert_eq!(
            profile_dir(state, &p),
            FileStore::new(state).profile_dir(&p)
        );
        assert_eq!(
            crate::usage::path(state, &p),
            Path::new("/s/state/profiles/prod/usage.json")
        );
        assert_eq!(
            crate::quota::path(state, &p),
            Path::new("/s/state/profiles/prod/quota.json")
        );
        assert_eq!(
            crate::proxies::path(state, &p, 42),
            Path::new("/s/state/profiles/prod/proxy-42.json")
        );
    }
}
