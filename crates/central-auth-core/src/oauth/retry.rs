//! Bounded retries with backoff for connection errors, 5xx and 429.
//!
//! A 429 whose `X-RateLimit-Remaining-day` is `0` is the day's quota: it is reported
//! at once, never retried. Otherwise `Retry-After` is honoured (capped), and a 429
//! with `X-RateLimit-Remaining-second: 0` waits for the next second. Every attempt
//! and every wait ends by the gateway's deadline (one per operation under the
//! profile lock), so a lock holder's network time is bounded whatever Central
//! does; see [`OPERATION_BUDGET`].

use std::time::Duration;

use super::gateway::Gateway;
pub use super::gateway::{RetryPolicy, OPERATION_BUDGET};
use crate::error::Error;
use crate::http::{timed, Request, Response};

/// An attempt is not started with less time than this left.
const MIN_ATTEMPT: Duration = Duration::from_millis(200);

/// Sends `request`, retrying what is worth retrying.
pub fn send(gateway: &Gateway<'_>, request: &Request) -> Result<Response, Error> {
    let policy = gateway.retry;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let left = gateway.remaining();
        if left < MIN_ATTEMPT {
            return Err(Error::unavailable(format!(
                "{} {}: no time left of the {} s budget for this operation; try again later",
                request.method.as_str(),
                request.redacted_url(),
                policy.budget.as_secs()
            )));
        }
        let (result, took) = timed(|| gateway.transport.send(request, left));
        if let Err(e) = &result {
            if e.maybe_sent {
                gateway.uncertain.set(true);
            }
        }
        let outcome = match &result {
            Ok(r) => format!("HTTP {}", r.status),
            Err(e) => e.message.clone(),
        };
        (gateway.log)(&format!(
            "http: {} {} -> {outcome} in {} ms",
            request.method.as_str(),
            request.redacted_url(),
            took.as_millis()
        ));
        let wait = match result {
            Ok(response) if response.status == 429 => {
                if response.header("x-ratelimit-remaining-day") == Some("0") {
                    let limit = response.header("x-ratelimit-limit-day").unwrap_or("?");
                    return Err(Error::QuotaExhausted {
                        detail: format!("limit {limit} calls per day"),
                    });
                }
                let per_second = response.header("x-ratelimit-remaining-second") == Some("0");
                retry_after(&response)
                    .or(per_second.then_some(Duration::from_secs(1)))
                    .unwrap_or_else(|| backoff(&policy, attempt))
            }
            Ok(response) if response.status >= 500 => {
                retry_after(&response).unwrap_or_else(|| backoff(&policy, attempt))
            }
            Ok(response) => return Ok(response),
            Err(e) if e.retryable => backoff(&policy, attempt),
            Err(e) => {
                return Err(Error::unavailable(format!(
                    "{} {}: {}",
                    request.method.as_str(),
                    request.redacted_url(),
                    e.message
                )))
            }
        };
        let wait = wait.min(policy.max_delay);
        if attempt >= policy.attempts || wait + MIN_ATTEMPT > gateway.remaining() {
            return Err(Error::unavailable(format!(
                "{} {} failed after {attempt} attempts (last: {outcome}); try again later",
                request.method.as_str(),
                request.redacted_url()
            )));
        }
        std::thread::sleep(wait);
    }
}

fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    policy
        .base_delay
        .saturating_mul(1 << attempt.saturating_sub(1).min(10))
}

fn retry_after(response: &Response) -> Option<Duration> {
    response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Method, Response, TransportError};
    use crate::secret::SecretString;
    use std::cell::RefCell;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: SecretString::from(String::new()),
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            budget: Duration::from_secs(5),
        }
    }

    fn run(answers: Vec<Result<Response, TransportError>>) -> (Result<Response, Error>, usize) {
        let answers = RefCell::new(answers.into_iter());
        let calls = RefCell::new(0);
        let transport = |_: &Request| {
            *calls.borrow_mut() += 1;
            answers
                .borrow_mut()
                .next()
                .expect("test ran out of answers")
        };
        let log = |_: &str| {};
        let gw = Gateway::new(&transport, &log, fast(), fast().budget);
        let r = send(&gw, &Request::new(Method::Post, "http://127.0.0.1/x"));
        let n = *calls.borrow();
        (r, n)
    }

    #[test]
    fn retries_5xx_and_connection_errors_then_succeeds() {
        let (r, n) = run(vec![
            Ok(response(503, &[])),
            Err(TransportError {
                message: "connection failed".into(),
                retryable: true,
                maybe_sent: false,
            }),
            Ok(response(
                429,
                &[("x-ratelimit-remaining-second", "0"), ("retry-after", "0")],
            )),
            Ok(response(200, &[])),
        ]);
        assert_eq!(r.unwrap().status, 200);
        assert_eq!(n, 4);
    }

    #[test]
    fn daily_quota_is_not_retried() {
        let (r, n) = run(vec![Ok(response(
            429,
            &[
                ("x-ratelimit-remaining-day", "0"),
                ("x-ratelimit-limit-day", "5000"),
            ],
        ))]);
        assert!(matches!(r, Err(Error::QuotaExhausted { .. })));
        assert_eq!(n, 1);
    }

    #[test]
    fn gives_up_after_the_attempts() {
        let (r, n) = run((0..4).map(|_| Ok(response(502, &[]))).collect());
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("after 4 attempts") && e.contains("HTTP 502"),
            "{e}"
        );
        assert_eq!(n, 4);
    }

    #[test]
    fn every_attempt_ends_by_the_operation_deadline() {
        // A transport that uses up whatever time each attempt is given.
        let given = RefCell::new(Vec::new());
        struct Slow<'a>(&'a RefCell<Vec<Duration>>);
        impl crate::http::Transport for Slow<'_> {
            fn send(&self, _: &Request, timeout: Duration) -> Result<Response, TransportError> {
                self.0.borrow_mut().push(timeout);
                std::thread::sleep(timeout.min(Duration::from_millis(150)));
                Err(TransportError {
                    message: "timed out".into(),
                    retryable: true,
                    maybe_sent: true,
                })
            }
        }
        let slow = Slow(&given);
        let log = |_: &str| {};
        let policy = RetryPolicy {
            attempts: 100,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            budget: Duration::from_millis(400),
        };
        let gw = Gateway::new(&slow, &log, policy, policy.budget);
        let start = std::time::Instant::now();
        let r = send(&gw, &Request::new(Method::Post, "http://127.0.0.1/x"));
        assert!(r.is_err());
        assert!(
            start.elapsed() < Duration::from_millis(600),
            "{:?}",
            start.elapsed()
        );
        assert!(given
            .borrow()
            .iter()
            .all(|t| *t <= Duration::from_millis(400)));
        assert!(
            gw.uncertain.get(),
            "a timeout after sending leaves the outcome unknown"
        );
    }

    #[test]
    fn client_errors_are_returned_not_retried() {
        let (r, n) = run(vec![Ok(response(400, &[]))]);
        assert_eq!(r.unwrap().status, 400);
        assert_eq!(n, 1);
    }
}
