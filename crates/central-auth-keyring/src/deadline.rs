//! Every keyring call on a worker thread with a deadline.
//!
//! The platform stores have no timeout of their own (a Secret Service that
//! never answers blocks a D-Bus call for good). A call that misses the
//! deadline is left to finish on its thread, which keeps a handle on the
//! profile's lock: the lock is released only when both the guard and every
//! call it started are done (or the process exits), so a late write can never
//! land after another process took the lock and moved the record on.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use central_auth_core::store::lock::FileLock;

/// The outcome of a call with a deadline.
pub enum Outcome<T> {
    /// The call returned in time.
    Done(T),
    /// The deadline passed first (the call may still finish later).
    Late,
}

/// Runs `call` on a thread of its own holding `lock`, waiting at most
/// `deadline` for its answer.
pub fn run<T, F>(lock: Option<Arc<FileLock>>, deadline: Duration, call: F) -> Outcome<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("keyring".to_owned())
        .spawn(move || {
            let held = lock;
            let _ = tx.send(call());
            drop(held);
        });
    if spawned.is_err() {
        return Outcome::Late;
    }
    match rx.recv_timeout(deadline) {
        Ok(v) => Outcome::Done(v),
        Err(_) => Outcome::Late,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_call_is_late_and_a_quick_one_answers() {
        let start = std::time::Instant::now();
        let late = run(None, Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(5));
            1
        });
        assert!(matches!(late, Outcome::Late));
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(matches!(
            run(None, Duration::from_secs(5), || 2),
            Outcome::Done(2)
        ));
    }
}
