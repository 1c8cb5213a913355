//! `central-auth proxy`: a loopback HTTP/1.1 proxy that adds the profile's
//! current bearer token to every request and forwards it to the profile's
//! gateway, within Central's per-application rate budget.
//!
//! - `request`/`response`: the client side of HTTP/1.1, capped.
//! - `budget`: at most N upstream calls per second across all clients.
//! - `quota`: the day's remaining quota, written for `status`.
//! - `handler`: one connection (token, forward, 401 retry, `-v` line).
//! - `listener`: bounded worker pool, SIGTERM/SIGINT, clean drain.
//!
//! The upstream call itself is `central_auth_core::forward` (only the core
//! speaks HTTP to Central).

mod budget;
mod handler;
mod listener;
mod quota;
mod request;
mod response;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use central_auth_core::forward::Upstream;
use central_auth_core::quota::Quota;
use central_auth_core::{Broker, Error, Profile};

/// How long a request may wait for the rate budget before it gets 429.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Runs the proxy for `profile` until SIGTERM or SIGINT.
pub fn run(
    profile: &Profile,
    state_dir: &std::path::Path,
    listen: &str,
    rate: u32,
    verbose: bool,
) -> Result<ExitCode, Error> {
    if rate == 0 {
        return Err(Error::bad_input(
            "--rate must be at least 1 (Central allows 7 calls per second per application)",
        ));
    }
    let addr: SocketAddr = listen.parse().map_err(|_| {
        Error::bad_input(format!(
            "--listen {listen:?} is not an address; use 127.0.0.1:PORT"
        ))
    })?;
    let listener = listener::bind(addr)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| Error::unavailable(format!("cannot handle signal {signal}: {e}")))?;
    }
    let shared = Arc::new(handler::Shared {
        upstream: Upstream::new(&profile.base_url, profile.ca_file.as_deref())?,
        budget: budget::Budget::new(rate, MAX_QUEUE_WAIT),
        quota: quota::Tracker::new(central_auth_core::quota::path(state_dir, &profile.name)),
        verbose,
    });
    let local = listener
        .local_addr()
        .map_err(|e| Error::unavailable(format!("cannot read the listening address: {e}")))?;
    crate::print_stdout(&format!("listening on http://{local}\n"))?;
    let open = if verbose { open_verbose } else { open_quiet };
    listener::run(listener, shared, profile.name.as_str(), open, stop)?;
    if verbose {
        log("proxy: stopped");
    }
    Ok(ExitCode::SUCCESS)
}

fn open_quiet() -> Result<Broker, Error> {
    crate::open_broker(false, "proxy", None)
}

fn open_verbose() -> Result<Broker, Error> {
    crate::open_broker(true, "proxy", None)
}

/// One `-v` line on stderr.
#[allow(clippy::print_stderr)]
pub(crate) fn log(line: &str) {
    eprintln!("central-auth: {line}");
}

/// The `status` line for the day's quota.
pub(crate) fn quota_line(q: &Quota) -> String {
    let seen = time::OffsetDateTime::from_unix_timestamp(q.seen_at)
        .map(central_auth_core::status::rfc3339)
        .unwrap_or_default();
    format!(
        "{} of {} calls left today (seen by the proxy at {seen})",
        q.remaining_day, q.limit_day
    )
}
