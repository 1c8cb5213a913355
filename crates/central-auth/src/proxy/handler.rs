//! One complete request: refuse a body carrying an `access_token`, take a
//! slot in the rate budget, add the broker's token, forward it, and on
//! `401 invalid_token` report the token rejected (once per token,
//! `rejections`), take the refreshed token (one refresh for every process on
//! the chain) and retry once.

use std::time::{Duration, Instant};

use central_auth_core::forward::{Answer, Outgoing, Upstream, METHODS};
use central_auth_core::secret::same;
use central_auth_core::{Broker, Error, Profile};

use super::budget::{Budget, Slot};
use super::conn::Request;
use super::quota::Tracker;
use super::rejections::Rejections;
use super::response::Reply;
use super::rules::access_token_refusal;

/// What every worker shares.
pub struct Shared {
    /// The upstream gateway.
    pub upstream: Upstream,
    /// The rate budget.
    pub budget: Budget,
    /// The day's quota.
    pub quota: Tracker,
    /// The tokens already reported rejected.
    pub rejections: Rejections,
    /// Log one line per request (`-v`).
    pub verbose: bool,
}

/// How one request went, for the `-v` line.
#[derive(Default)]
struct Outcome {
    queued: Duration,
    retried: bool,
    note: Option<String>,
}

/// The answer to `req`, and whether the connection may stay open after it
/// (not after a refusal).
pub fn answer(
    shared: &Shared,
    broker: &Broker,
    profile: &Profile,
    req: &Request,
    started: Instant,
) -> (Reply, bool) {
    let method = req.head.method.as_str();
    if !METHODS.contains(&method) {
        let reply = Reply::message(405, &format!("method {method} is not forwarded"));
        if shared.verbose {
            super::log::log(&format!(
                "proxy: refused a request -> 405 (method {method})"
            ));
        }
        return (reply, true);
    }
    let out = match Outgoing::new(method, &req.path, &req.head.headers, &req.body) {
        Ok(out) => out,
        Err(found) => {
            let refusal = access_token_refusal(found);
            if shared.verbose {
                super::log::log(&refusal.log_line(&format!("a {method} request")));
            }
            return (refusal.reply(), false);
        }
    };
    let mut outcome = Outcome::default();
    let reply = forward_with_retry(shared, broker, profile, &out, &mut outcome)
        .unwrap_or_else(|reply| reply);
    if shared.verbose {
        log_request(req, reply.status, &outcome, started.elapsed());
    }
    (reply, true)
}

/// `Ok` carries Central's answer, `Err` one made by the proxy.
fn forward_with_retry(
    shared: &Shared,
    broker: &Broker,
    profile: &Profile,
    out: &Outgoing<'_>,
    outcome: &mut Outcome,
) -> Result<Reply, Reply> {
    let token = broker
        .token(profile, None)
        .map_err(|e| broker_failure(&e))?;
    let mut answer = send(shared, out, &token.token, outcome)?;
    if answer.invalid_token() {
        // The 401 answered the broker's own token: the request carried no
        // other credential (`Outgoing::new`). Report it once per token, so
        // the next `token` call refreshes once for every process on the
        // chain; then retry once if the broker holds another token by now.
        shared.rejections.report_once(&token.token, || {
            let _ = broker.reject(profile, &token.token);
        });
        let fresh = broker
            .token(profile, None)
            .map_err(|e| broker_failure(&e))?;
        if same(&fresh.token, &token.token) {
            outcome.note = Some("token rejected and not replaced; 401 passed on".to_owned());
        } else {
            outcome.retried = true;
            answer = send(shared, out, &fresh.token, outcome)?;
        }
    }
    let _ = shared.quota.observe(&answer.headers);
    Ok(Reply {
        status: answer.status,
        headers: answer.headers,
        body: answer.body,
    })
}

fn send(
    shared: &Shared,
    out: &Outgoing<'_>,
    token: &central_auth_core::SecretString,
    outcome: &mut Outcome,
) -> Result<Answer, Reply> {
    match shared.budget.reserve(Instant::now()) {
        Slot::Go(wait) => {
            outcome.queued += wait;
            std::thread::sleep(wait);
        }
        Slot::Busy(retry_after) => {
            outcome.note = Some("refused by the rate budget".to_owned());
            return Err(over_budget(shared, retry_after));
        }
    }
    shared.upstream.send(out, token).map_err(|e| {
        outcome.note = Some(format!("upstream: {e}"));
        let status = if e.message.starts_with("timed out") {
            504
        } else {
            502
        };
        Reply::message(
            status,
            &format!("central-auth proxy: Central did not answer: {e}"),
        )
    })
}

/// Kong's 429 with its rate-limit headers, so clients that handle Central's
/// 429 (pycentral sleeps when `X-RateLimit-Remaining-second` is 0) handle ours.
fn over_budget(shared: &Shared, retry_after: Duration) -> Reply {
    let mut reply = Reply::message(429, "API rate limit exceeded")
        .with_header("Retry-After", retry_after.as_secs().to_string())
        .with_header(
            "X-RateLimit-Limit-second",
            shared.budget.limit().to_string(),
        )
        .with_header("X-RateLimit-Remaining-second", "0");
    if let Some(q) = shared.quota.latest() {
        reply = reply
            .with_header("X-RateLimit-Limit-day", q.limit_day.to_string())
            .with_header("X-RateLimit-Remaining-day", q.remaining_day.to_string());
    }
    reply
}

fn broker_failure(e: &Error) -> Reply {
    let status = if e.exit_code() == central_auth_core::ExitCode::TryLater {
        503
    } else {
        502
    };
    let mut reply = Reply::message(status, &format!("central-auth proxy: {e}")).with_header(
        "X-Central-Auth-Exit-Code",
        (e.exit_code() as u8).to_string(),
    );
    if status == 503 {
        reply = reply.with_header("Retry-After", "5");
    }
    reply
}

fn log_request(req: &Request, status: u16, outcome: &Outcome, took: Duration) {
    let target = central_auth_core::redact::redact_url(&req.path);
    let mut line = format!(
        "proxy: {} {} -> {status} in {} ms",
        req.head.method,
        target,
        took.as_millis()
    );
    if !outcome.queued.is_zero() {
        line.push_str(&format!(" (queued {} ms)", outcome.queued.as_millis()));
    }
    if outcome.retried {
        line.push_str(" (token rejected; retried with the refreshed token)");
    }
    if let Some(note) = &outcome.note {
        line.push_str(&format!(" ({note})"));
    }
    super::log::log(&line);
}
