//! The mark `logout` leaves in a profile's local directory
//! (`profiles/<name>/logged-out`, the time in unix seconds), so `status` says
//! "logged out" rather than "no token"; `login` and `import` remove it. No
//! token is stored after a logout, and nothing logs in automatically without
//! one (`broker::renew`), so the mark only names the state; a missing or
//! damaged mark reads as "not logged out".

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::error::Error;
use crate::fsutil::write_atomically;
use crate::local_state::profile_dir;
use crate::profile_name::ProfileName;

/// The mark's file name inside a profile directory.
pub const LOGGED_OUT_FILE: &str = "logged-out";

/// The mark of a profile.
pub fn path(state_dir: &Path, profile: &ProfileName) -> PathBuf {
    profile_dir(state_dir, profile).join(LOGGED_OUT_FILE)
}

/// When the profile was logged out, if its mark is there.
pub fn read(path: &Path) -> Option<OffsetDateTime> {
    let text = std::fs::read_to_string(path).ok()?;
    OffsetDateTime::from_unix_timestamp(text.trim().parse().ok()?).ok()
}

/// Leaves the mark (atomically); without the profile's directory (nothing
/// was ever stored locally) nothing is written.
pub fn write(path: &Path, at: OffsetDateTime) -> Result<(), Error> {
    if path.parent().is_some_and(|d| !d.is_dir()) {
        return Ok(());
    }
    write_atomically(path, at.unix_timestamp().to_string().as_bytes())
}

/// Removes the mark; a mark that is not there is fine.
pub fn clear(path: &Path) -> Result<(), Error> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::store(format!(
            "cannot remove the logout mark {}: {e}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let p = ProfileName::new("prod").unwrap();
        std::fs::create_dir_all(profile_dir(dir.path(), &p)).unwrap();
        let file = path(dir.path(), &p);
        assert_eq!(read(&file), None);
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        write(&file, at).unwrap();
        assert_eq!(read(&file), Some(at));
        clear(&file).unwrap();
        clear(&file).unwrap();
        assert_eq!(read(&file), None);
        std::fs::write(&file, "garbage").unwrap();
        assert_eq!(read(&file), None, "damaged reads as not logged out");
    }
}
