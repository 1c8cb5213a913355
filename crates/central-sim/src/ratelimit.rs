//! Kong-style rate limiting, per client app as Central documents it: each
//! bucket (an app's client id; requests that name no known app share one
//! anonymous bucket) has a per-second window keyed on the wall-clock second
//! and a per-day counter keyed on the simulated UTC day. Rejected requests
//! are not counted. Which bucket a request counts against is decided by
//! the router.

use std::collections::HashMap;

use crate::http::Response;

/// Bucket of requests that name no known client app.
pub const ANONYMOUS: &str = "";

/// Values of the four `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-RateLimit-Limit-day`.
    pub limit_day: u32,
    /// `X-RateLimit-Remaining-day`.
    pub remaining_day: u32,
    /// `X-RateLimit-Limit-second`.
    pub limit_second: u32,
    /// `X-RateLimit-Remaining-second`.
    pub remaining_second: u32,
}

impl RateHeaders {
    /// Appends the four headers to `resp`.
    pub fn apply(&self, resp: &mut Response) {
        resp.headers.extend([
            ("X-RateLimit-Limit-day".into(), self.limit_day.to_string()),
            (
                "X-RateLimit-Remaining-day".into(),
                self.remaining_day.to_string(),
            ),
            (
                "X-RateLimit-Limit-second".into(),
                self.limit_second.to_string(),
            ),
            (
                "X-RateLimit-Remaining-second".into(),
                self.remaining_second.to_string(),
            ),
        ]);
    }
}

/// Usage of one bucket.
#[derive(Debug)]
struct Window {
    sec_key: u64,
    sec_count: u32,
    day_key: i64,
    day_count: u32,
}

impl Default for Window {
    fn default() -> Window {
        Window {
            sec_key: 0,
            sec_count: 0,
            day_key: i64::MIN,
            day_count: 0,
        }
    }
}

/// Limits and per-bucket usage.
#[derive(Debug)]
pub struct RateLimiter {
    /// Limit per second (each bucket).
    pub per_second: u32,
    /// Limit per day (each bucket).
    pub per_day: u32,
    windows: HashMap<String, Window>,
}

impl RateLimiter {
    /// A limiter with the given limits and no usage.
    pub fn new(per_second: u32, per_day: u32) -> RateLimiter {
        RateLimiter {
            per_second,
            per_day,
            windows: HashMap::new(),
        }
    }

    /// Forgets all usage.
    pub fn reset(&mut self) {
        self.windows.clear();
    }

    /// Current header values of `bucket` without counting a request.
    pub fn snapshot(&mut self, bucket: &str, wall_sec: u64, sim_day: i64) -> RateHeaders {
        let (per_second, per_day) = (self.per_second, self.per_day);
        self.window(bucket)
            .snapshot(per_second, per_day, wall_sec, sim_day)
    }

    /// Counts a request against `bucket` if both windows have room (`Ok`),
    /// else rejects it (`Err`, with the exhausted window's remaining value at 0).
    pub fn check(
        &mut self,
        bucket: &str,
        wall_sec: u64,
        sim_day: i64,
    ) -> Result<RateHeaders, RateHeaders> {
        let (per_second, per_day) = (self.per_second, self.per_day);
        self.window(bucket)
            .check(per_second, per_day, wall_sec, sim_day)
    }

    fn window(&mut self, bucket: &str) -> &mut Window {
        self.windows.entry(bucket.to_string()).or_default()
    }
}

impl Window {
    fn roll(&mut self, wall_sec: u64, sim_day: i64) {
        if wall_sec != self.sec_key {
            self.sec_key = wall_sec;
            self.sec_count = 0;
        }
        if sim_day != self.day_key {
            self.day_key = sim_day;
            self.day_count = 0;
        }
    }

    fn snapshot(
        &mut self,
        per_second: u32,
        per_day: u32,
        wall_sec: u64,
        sim_day: i64,
    ) -> RateHeaders {
        self.roll(wall_sec, sim_day);
        RateHeaders {
            limit_day: per_day,
            remaining_day: per_day.saturating_sub(self.day_count),
            limit_second: per_second,
            remaining_second: per_second.saturating_sub(self.sec_count),
        }
    }

    fn check(
        &mut self,
        per_second: u32,
        per_day: u32,
        wall_sec: u64,
        sim_day: i64,
    ) -> Result<RateHeaders, RateHeaders> {
        self.roll(wall_sec, sim_day);
        if self.sec_count >= per_second || self.day_count >= per_day {
            return Err(self.snapshot(per_second, per_day, wall_sec, sim_day));
        }
        self.sec_count += 1;
        self.day_count += 1;
        Ok(self.snapshot(per_second, per_day, wall_sec, sim_day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_window_rolls_and_day_persists() {
        let mut r = RateLimiter::new(2, 3);
        assert_eq!(r.check("a", 10, 1).map(|h| h.remaining_second), Ok(1));
        assert!(r.check("a", 10, 1).is_ok());
        let e = r.check("a", 10, 1).expect_err("over second limit");
        assert_eq!((e.remaining_second, e.remaining_day), (0, 1));
        // Another app has its own buckets.
        assert_eq!(r.check("b", 10, 1).map(|h| h.remaining_day), Ok(2));
        assert!(r.check("a", 11, 1).is_ok());
        let e = r.check("a", 12, 1).expect_err("over day limit");
        assert_eq!(e.remaining_day, 0);
        assert!(r.check("a", 12, 2).is_ok());
    }
}
