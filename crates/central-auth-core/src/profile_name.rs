//! The validated name of a profile, safe to use as a file name.

use std::fmt;

use crate::error::Error;

/// A validated profile name: ASCII letters, digits, `.`, `_`, `-`; no leading dot.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileName(String);

impl ProfileName {
    /// Validates a profile name so it is safe to use as a file name.
    pub fn new(name: &str) -> Result<ProfileName, Error> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('.')
            && !name.starts_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(ProfileName(name.to_owned()))
        } else {
            Err(Error::config(format!(
                "invalid profile name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-' (no '/' or '..')"
            )))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
