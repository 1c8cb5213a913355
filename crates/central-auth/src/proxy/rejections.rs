//! The tokens this proxy has reported rejected (`Broker::reject`), so each is
//! reported at most once, whichever worker sees its 401 and however many.
//!
//! A report makes the next `token` call refresh, and a refresh kills the old
//! access token at Central for every tool that holds it. So a 401 is reported
//! only when it answered the broker's own token, which the proxy makes sure
//! of by construction (the client's `Authorization` is replaced and any
//! `access_token` parameter is refused), and only the first time for that
//! token: a later 401 for a token already reported is passed on or retried
//! with the token that replaced it, never reported again.
//!
//! Tokens are kept as keyed 64-bit fingerprints (SipHash with a key drawn at
//! random for this process by std's `RandomState`), never as tokens: the set
//! cannot be read back into one, and nothing here is logged.

use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Mutex;

use central_auth_core::secret::ExposeSecret;
use central_auth_core::SecretString;

/// Fingerprints of the tokens reported so far.
#[derive(Debug, Default)]
pub struct Rejections {
    key: std::collections::hash_map::RandomState,
    reported: Mutex<HashSet<u64>>,
}

impl Rejections {
    /// An empty set with a fresh key.
    pub fn new() -> Rejections {
        Rejections::default()
    }

    fn fingerprint(&self, token: &SecretString) -> u64 {
        self.key.hash_one(token.expose_secret())
    }

    /// True the first time `token` is offered (the caller reports it), false
    /// ever after.
    pub fn first_report(&self, token: &SecretString) -> bool {
        let fp = self.fingerprint(token);
        self.reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(fp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_is_reported_once_across_threads() {
        let r = Rejections::new();
        let a = SecretString::from("token-a".to_owned());
        let firsts: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| r.first_report(&a))).collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(firsts, 1);
        assert!(r.first_report(&SecretString::from("token-b".to_owned())));
        assert!(!r.first_report(&a));
    }
}
