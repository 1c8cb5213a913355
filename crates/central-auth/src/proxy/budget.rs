//! The rate budget: at most `limit` upstream calls in any window of one second
//! (plus a guard for network jitter), shared by every client of the proxy.
//!
//! Central (Kong) counts calls per application per wall-clock second. Each call
//! reserves a send time: now if fewer than `limit` calls were sent in the last
//! window, else when the oldest of the last `limit` leaves it. A caller whose
//! slot is further away than `max_wait` is refused (the proxy answers 429 with
//! `Retry-After`), so the queue holds at most about `limit * max_wait` waiters.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Added to the one-second window: a call sent on time may reach Central a
/// little late, and must not land in the same second as the next `limit`.
pub const JITTER_GUARD: Duration = Duration::from_millis(100);

/// The outcome of asking for a slot.
#[derive(Debug, PartialEq, Eq)]
pub enum Slot {
    /// Send after waiting this long.
    Go(Duration),
    /// Refused; the client may retry after this long.
    Busy(Duration),
}

/// A sliding-window budget shared by all worker threads.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    window: Duration,
    max_wait: Duration,
    sent: Mutex<VecDeque<Instant>>,
}

impl Budget {
    /// At most `limit` calls per second; queue for at most `max_wait`.
    pub fn new(limit: u32, max_wait: Duration) -> Budget {
        let limit = limit.max(1) as usize;
        Budget {
            limit,
            window: Duration::from_secs(1) + JITTER_GUARD,
            max_wait,
            sent: Mutex::new(VecDeque::with_capacity(limit)),
        }
    }

    /// The configured calls per second.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Reserves a send time at or after `now`.
    pub fn reserve(&self, now: Instant) -> Slot {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = if sent.len() < self.limit {
            now
        } else {
            let oldest = sent[sent.len() - self.limit];
            (oldest + self.window).max(now)
        };
        let wait = at - now;
        if wait > self.max_wait {
            // Whole seconds, rounded up, at least one.
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return Slot::Busy(Duration::from_secs(secs.max(1)));
        }
        sent.push_back(at);
        while sent.len() > self.limit {
            sent.pop_front();
        }
        Slot::Go(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_limit_in_any_window() {
        let b = Budget::new(7, Duration::from_secs(2));
        let t0 = Instant::now();
        let mut sends = Vec::new();
        // 40 callers arriving every 10 ms.
        for i in 0..40u64 {
            let now = t0 + Duration::from_millis(i * 10);
            if let Slot::Go(w) = b.reserve(now) {
                sends.push(now + w);
            }
        }
        sends.sort();
        for (i, s) in sends.iter().enumerate() {
            let in_window = sends[i..]
                .iter()
                .take_while(|t| **t < *s + Duration::from_secs(1))
                .count();
            assert!(in_window <= 7, "{in_window} sends within 1 s");
        }
        // The first 7 go at once; the rest queue up to 2 s, then are refused.
        assert_eq!(
            sends
                .iter()
                .filter(|s| **s < t0 + Duration::from_millis(70))
                .count(),
            7
        );
        assert!(sends.len() >= 14 && sends.len() < 40);
    }

    #[test]
    fn refusal_says_when_to_retry() {
        let b = Budget::new(1, Duration::ZERO);
        let t0 = Instant::now();
        assert_eq!(b.reserve(t0), Slot::Go(Duration::ZERO));
        assert_eq!(b.reserve(t0), Slot::Busy(Duration::from_secs(2)));
        assert_eq!(
            b.reserve(t0 + Duration::from_millis(1100)),
            Slot::Go(Duration::ZERO)
        );
    }
}
