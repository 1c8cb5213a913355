//! One client connection: read the request, take a slot in the rate budget, add
//! the broker's token, forward it, and on `401 invalid_token` report the
//! rejection, take the refreshed token (one refresh for every process on the
//! chain) and retry once.

use std::io::{BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use central_auth_core::forward::{Answer, Outgoing, Upstream, METHODS};
use central_auth_core::{Broker, Error, Profile};

use super::budget::{Budget, Slot};
use super::quota::Tracker;
use super::request::{read_body, read_head, Head, ParseError};
use super::response::{write, Reply};

/// Time allowed to read a request from a client.
pub const CLIENT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed to write the answer to a client.
pub const CLIENT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What every worker shares.
pub struct Shared {
    /// The upstream gateway.
    pub upstream: Upstream,
    /// The rate budget.
    pub budget: Budget,
    /// The day's quota.
    pub quota: Tracker,
    /// Log one line per request (`-v`).
    pub verbose: bool,
}

/// How one request went, for the `-v` line.
struct Outcome {
    status: u16,
    queued: Duration,
    retried: bool,
    note: Option<String>,
}

/// Serves one connection to the end.
pub fn serve(shared: &Shared, broker: &Broker, profile: &Profile, stream: TcpStream) {
    let started = Instant::now();
    let _ = stream.set_read_timeout(Some(CLIENT_READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(CLIENT_WRITE_TIMEOUT));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let head = match read_head(&mut reader) {
        Ok(h) => h,
        Err(e) => return refuse(shared, &mut writer, &e),
    };
    if head.expects_continue() {
        let _ = writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
    }
    let body = match read_body(&mut reader, &head) {
        Ok(b) => b,
        Err(e) => return refuse(shared, &mut writer, &e),
    };
    let (reply, outcome) = answer(shared, broker, profile, &head, &body);
    let _ = write(&mut writer, &reply, head.method == "HEAD");
    if shared.verbose {
        log_request(&head, &outcome, started.elapsed());
    }
}

fn refuse(shared: &Shared, writer: &mut TcpStream, e: &ParseError) {
    if let Some(status) = e.status() {
        let _ = write(writer, &Reply::message(status, &e.message()), false);
    }
    if shared.verbose && e != &ParseError::Closed {
        super::log(&format!("proxy: unreadable request: {}", e.message()));
    }
}

fn answer(
    shared: &Shared,
    broker: &Broker,
    profile: &Profile,
    head: &Head,
    body: &[u8],
) -> (Reply, Outcome) {
    let mut outcome = Outcome {
        status: 0,
        queued: Duration::ZERO,
        retried: false,
        note: None,
    };
    let reply = forward_with_retry(shared, broker, profile, head, body, &mut outcome)
        .unwrap_or_else(|reply| reply);
    outcome.status = reply.status;
    (reply, outcome)
}

/// `Ok` carries Central's answer, `Err` one made by the proxy.
fn forward_with_retry(
    shared: &Shared,
    broker: &Broker,
    profile: &Profile,
    head: &Head,
    body: &[u8],
    outcome: &mut Outcome,
) -> Result<Reply, Reply> {
    if !METHODS.contains(&head.method.as_str()) {
        return Err(Reply::message(
            405,
            &format!("method {} is not forwarded", head.method),
        ));
    }
    let out = Outgoing {
        method: &head.method,
        target: &head.target,
        headers: &head.headers,
        body,
    };
    let token = broker
        .token(profile, None)
        .map_err(|e| broker_failure(&e))?;
    let mut answer = send(shared, &out, &token.token, outcome)?;
    if answer.invalid_token() {
        // Central killed this token: report it, so the next `token` call
        // refreshes once for every process on the chain, then retry once.
        let _ = broker.reject(profile, &token.token);
        let fresh = broker
            .token(profile, None)
            .map_err(|e| broker_failure(&e))?;
        outcome.retried = true;
        answer = send(shared, &out, &fresh.token, outcome)?;
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

fn log_request(head: &Head, outcome: &Outcome, took: Duration) {
    let target = central_auth_core::redact::redact_url(
        &central_auth_core::forward::strip_access_token(&head.target),
    );
    let mut line = format!(
        "proxy: {} {} -> {} in {} ms",
        head.method,
        target,
        outcome.status,
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
    super::log(&line);
}
