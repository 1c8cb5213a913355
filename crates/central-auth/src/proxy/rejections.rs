//! The tokens this proxy has reported rejected (`Broker::reject`), so each is
//! reported at most once, whichever worker sees its 401 and however many.
//!
//! A report makes the next `token` call refresh, and a refresh kills the old
//! access token at Central for every tool that holds it. So a 401 is reported
//! only when it answered the broker's own token, which the proxy makes sure
//! of by construction (the client's `Authorization` is replaced and any
//! `access_token` parameter is refused), and only the first time for that
//! token: a later 401 for a token already reported is passed on or retried
//! with the token that replaced it, never reported again. A worker that
//! sees the 401 while another worker's report of the same token is under way
//! waits for it, so it is handed the replacement, not the dead token again.
//!
//! Tokens are kept as keyed 64-bit fingerprints (SipHash with a key drawn at
//! random for this process by std's `RandomState`), never as tokens: the set
//! cannot be read back into one, and nothing here is logged.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use central_auth_core::secret::ExposeSecret;
use central_auth_core::SecretString;

/// How long a worker waits for another worker's report of the same token.
const WAIT_FOR_REPORT: Duration = Duration::from_secs(30);

/// Fingerprints of the tokens reported so far, and whether each report is
/// still under way.
#[derive(Debug, Default)]
pub struct Rejections {
    key: std::collections::hash_map::RandomState,
    reported: Mutex<HashMap<u64, bool>>,
    done: Condvar,
}

impl Rejections {
    /// An empty set with a fresh key.
    pub fn new() -> Rejections {
        Rejections::default()
    }

    fn fingerprint(&self, token: &SecretString) -> u64 {
        self.key.hash_one(token.expose_secret())
    }

    /// Runs `report` the first time `token` is offered and returns true.
    /// Every later caller returns false without reporting, but only once the
    /// first report has finished: a worker whose request saw the same 401
    /// must not ask the broker for a token before the rejection is on record,
    /// or it would be handed the dead token again.
    pub fn report_once(&self, token: &SecretString, report: impl FnOnce()) -> bool {
        let fp = self.fingerprint(token);
        let mut reported = self
            .reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if reported.contains_key(&fp) {
            let (_guard, _timeout) = self
                .done
                .wait_timeout_while(reported, WAIT_FOR_REPORT, |r| r.get(&fp) == Some(&false))
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return false;
        }
        reported.insert(fp, false);
        drop(reported);
        report();
        self.reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(fp, true);
        self.done.notify_all();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_token_is_reported_once_and_the_others_wait_for_it() {
        let r = Rejections::new();
        let a = SecretString::from("token-a".to_owned());
        let reports = std::sync::atomic::AtomicUsize::new(0);
        let finished = std::sync::atomic::AtomicBool::new(false);
        let firsts: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let first = r.report_once(&a, || {
                            reports.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            finished.store(true, std::sync::atomic::Ordering::SeqCst);
                        });
                        // Nobody gets past before the report is on record.
                        assert!(finished.load(std::sync::atomic::Ordering::SeqCst));
                        first
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| usize::from(h.join().unwrap()))
                .sum()
        });
        assert_eq!(firsts, 1);
        assert_eq!(reports.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(r.report_once(&SecretString::from("token-b".to_owned()), || {}));
        assert!(!r.report_once(&a, || panic!("reported twice")));
    }
}
