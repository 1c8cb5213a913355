//! Kong-style rate limiting: a per-second window keyed on the wall-clock
//! second and a per-day counter keyed on the simulated UTC day, shared by
//! all non-`/_sim/` requests. Rejected requests are not counted.

use crate::http::Response;

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

/// Usage counters.
#[derive(Debug)]
pub struct RateLimiter {
    /// Limit per second.
    pub per_second: u32,
    /// Limit per day.
    pub per_day: u32,
    sec_key: u64,
    sec_count: u32,
    day_key: i64,
    day_count: u32,
}

impl RateLimiter {
    /// A limiter with the given limits and no usage.
    pub fn new(per_second: u32, per_day: u32) -> RateLimiter {
        RateLimiter {
            per_second,
            per_day,
            sec_key: 0,
            sec_count: 0,
            day_key: i64::MIN,
            day_count: 0,
        }
    }

    /// Forgets all usage.
    pub fn reset(&mut self) {
        self.sec_count = 0;
        self.day_count = 0;
    }

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

    /// Current header values without counting a request.
    pub fn snapshot(&mut self, wall_sec: u64, sim_day: i64) -> RateHeaders {
        self.roll(wall_sec, sim_day);
        RateHeaders {
            limit_day: self.per_day,
            remaining_day: self.per_day.saturating_sub(self.day_count),
            limit_second: self.per_second,
            remaining_second: self.per_second.saturating_sub(self.sec_count),
        }
    }

    /// Counts a request if both windows have room (`Ok`), else rejects it
    /// (`Err`, with the exhausted window's remaining value at 0).
    pub fn check(&mut self, wall_sec: u64, sim_day: i64) -> Result<RateHeaders, RateHeaders> {
        self.roll(wall_sec, sim_day);
        if self.sec_count >= self.per_second || self.day_count >= self.per_day {
            return Err(self.snapshot(wall_sec, sim_day));
        }
        self.sec_count += 1;
        self.day_count += 1;
        Ok(self.snapshot(wall_sec, sim_day))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_window_rolls_and_day_persists() {
        let mut r = RateLimiter::new(2, 3);
        assert_eq!(r.check(10, 1).map(|h| h.remaining_second), Ok(1));
        assert!(r.check(10, 1).is_ok());
        let e = r.check(10, 1).expect_err("over second limit");
        assert_eq!((e.remaining_second, e.remaining_day), (0, 1));
        assert!(r.check(11, 1).is_ok());
        let e = r.check(12, 1).expect_err("over day limit");
        assert_eq!(e.remaining_day, 0);
        assert!(r.check(12, 2).is_ok());
    }
}
