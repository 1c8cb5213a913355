//! Secret types and the few places allowed to look inside them.
//!
//! Every token, client secret, password, authorization code and session cookie is a
//! [`SecretString`] from parse to use. `SecretString` has no `Display`, and its
//! `Debug` prints `[REDACTED]`. Code that must put a secret on the wire or into the
//! token store calls `expose_secret()` at that point and nowhere else.

pub use secrecy::{ExposeSecret, SecretString};

/// Copies a secret without exposing it to anything but the new box.
pub fn duplicate(secret: &SecretString) -> SecretString {
    SecretString::from(secret.expose_secret().to_owned())
}

/// Compares two secrets in time independent of where they first differ.
pub fn same(a: &SecretString, b: &SecretString) -> bool {
    let (a, b) = (a.expose_secret().as_bytes(), b.expose_secret().as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serde helpers that write a secret into the token store, the one file whose job is
/// to keep it.
pub mod serde_exposed {
    use super::{ExposeSecret, SecretString};
    use serde::Serializer;

    /// Serializes a secret as a plain string.
    pub fn serialize<S: Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(secret.expose_secret())
    }

    /// Serializes an optional secret as a plain string or `null`.
    pub fn serialize_option<S: Serializer>(
        secret: &Option<SecretString>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(v) => s.serialize_some(v.expose_secret()),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret() {
        let s = SecretString::from("tok-123-secret".to_owned());
        assert!(!format!("{s:?}").contains("tok-123"));
    }

    #[test]
    fn same_compares_content() {
        let a = SecretString::from("abc".to_owned());
        assert!(same(&a, &duplicate(&a)));
        assert!(!same(&a, &SecretString::from("abd".to_owned())));
        assert!(!same(&a, &SecretString::from("abcd".to_owned())));
    }
}
