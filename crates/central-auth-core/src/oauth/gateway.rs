//! The context of one operation's gateway calls: the transport, the `-v` log,
//! the retry policy and the deadline every request of the operation shares.
//! `retry` sends through it; the grants (`classic`, `client_credentials`)
//! take it.

use std::cell::Cell;
use std::time::{Duration, Instant};

use crate::http::Transport;

/// The most time one operation under a profile lock may spend
/// ([`crate::store::OPERATION_BUDGET`]).
pub const OPERATION_BUDGET: Duration = crate::store::OPERATION_BUDGET;

/// How hard to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub attempts: u32,
    /// First backoff; doubles each time.
    pub base_delay: Duration,
    /// Longest single wait, including `Retry-After`.
    pub max_delay: Duration,
    /// The operation's budget: its gateway's deadline is this far from its start.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            budget: OPERATION_BUDGET,
        }
    }
}

/// Receives one already-redacted line per HTTP call or lock wait (`-v` output).
pub type Log<'a> = &'a dyn Fn(&str);

/// What a gateway call needs besides the request: one per operation under a
/// profile lock, so every request of that operation shares one deadline.
pub struct Gateway<'a> {
    /// The transport (ureq in production).
    pub transport: &'a dyn Transport,
    /// Verbose log sink.
    pub log: Log<'a>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// No request of this operation runs past this instant.
    pub deadline: Instant,
    /// Set when a request may have reached Central without its answer reaching
    /// us (its effect is unknown).
    pub uncertain: Cell<bool>,
}

impl<'a> Gateway<'a> {
    /// A gateway whose requests all end within `budget` from now.
    pub fn new(
        transport: &'a dyn Transport,
        log: Log<'a>,
        retry: RetryPolicy,
        budget: Duration,
    ) -> Gateway<'a> {
        Gateway {
            transport,
            log,
            retry,
            deadline: Instant::now() + budget,
            uncertain: Cell::new(false),
        }
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}
