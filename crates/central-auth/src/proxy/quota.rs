//! Tracks the day's remaining API quota from Central's `X-RateLimit-*` headers
//! and writes it (at most once a second, and at shutdown) where `status` reads it.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use central_auth_core::quota::{self, Quota};

/// Minimum interval between two writes of the quota file.
pub const WRITE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Seen {
    latest: Option<Quota>,
    written: Option<Instant>,
    dirty: bool,
}

/// The latest quota seen, shared by the worker threads.
#[derive(Debug)]
pub struct Tracker {
    path: PathBuf,
    seen: Mutex<Seen>,
}

impl Tracker {
    /// A tracker writing to `path` (see [`central_auth_core::quota::path`]).
    pub fn new(path: PathBuf) -> Tracker {
        Tracker {
            path,
            seen: Mutex::new(Seen::default()),
        }
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The latest figures, if any answer carried them.
    pub fn latest(&self) -> Option<Quota> {
        self.seen().latest
    }

    /// Records the figures of one answer; writes the file when due.
    pub fn observe(&self, headers: &[(String, String)]) -> Result<(), central_auth_core::Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(q) = Quota::from_headers(headers, now) else {
            return Ok(());
        };
        let mut seen = self.seen();
        seen.latest = Some(q);
        seen.dirty = true;
        if seen.written.is_none_or(|w| w.elapsed() >= WRITE_EVERY) {
            seen.written = Some(Instant::now());
            seen.dirty = false;
            quota::write(&self.path, &q)?;
        }
        Ok(())
    }

    /// Writes the latest figures if they were not written yet (at shutdown).
    pub fn flush(&self) -> Result<(), central_auth_core::Error> {
        let mut seen = self.seen();
        if let (true, Some(q)) = (seen.dirty, seen.latest) {
            seen.dirty = false;
            quota::write(&self.path, &q)?;
        }
        Ok(())
    }
}
