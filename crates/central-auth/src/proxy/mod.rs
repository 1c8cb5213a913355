//! `central-auth proxy`: an HTTP/1.1 proxy that adds the profile's current
//! bearer token to every request and forwards it to the profile's gateway,
//! within Central's per-application rate budget, and serves only the user
//! who started it (docs/proxy.md, docs/security.md).
//!
//! - `transport`, `unix_socket`: loopback TCP or a 0600 Unix socket.
//! - `identity`: whose connection it is (`crate::peer`: `SO_PEERCRED`,
//!   `NETLINK_SOCK_DIAG`), asked once per connection.
//! - `reactor`, `conn`: one thread that owns every connection waiting for a
//!   request, reads and parses requests (`central-auth-http1`) under
//!   deadlines, and hands complete ones to the workers.
//! - `rules`: what no browser can get past (Host, Origin, Sec-Fetch-Site,
//!   absolute-form, `access_token`); `refusal`: the one-line JSON answers.
//! - `workers`, `handler`: the bounded pool that forwards (token, budget,
//!   401 retry, `rejections`: each token reported rejected at most once).
//! - `response`: the answer's framing and keep-alive.
//! - `budget`, `quota`: calls per second across clients; the day's quota.
//! - `record`: the record `status` reads; `child`: `--exec`.
//!
//! The upstream call itself is `central_auth_core::forward` (only the core
//! speaks HTTP to Central).

mod budget;
mod child;
mod conn;
mod handler;
mod identity;
mod log;
mod quota;
mod reactor;
mod record;
mod refusal;
mod rejections;
mod response;
mod rules;
mod transport;
mod unix_socket;
mod workers;

use log::log;
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel};
use std::sync::Arc;
use std::time::Duration;

use central_auth::cli::ProxyArgs;
use central_auth_core::forward::Upstream;
use central_auth_core::{Broker, Error, Profile};

use transport::{Listener, Listening};

/// How long a request may wait for the rate budget before it gets 429.
pub const MAX_QUEUE_WAIT: Duration = Duration::from_secs(2);
/// The TCP address when neither `--listen` nor `--unix-socket` is given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8470";

/// Runs the proxy for `profile` until SIGTERM or SIGINT (or, with `--exec`,
/// until the command exits).
pub fn run(
    profile: &Profile,
    state_dir: &Path,
    opts: &ProxyArgs,
    verbose: bool,
) -> Result<ExitCode, Error> {
    if opts.rate == 0 {
        return Err(Error::bad_input(
            "--rate must be at least 1 (Central allows 7 calls per second per application)",
        ));
    }
    if opts.exec && opts.command.is_empty() {
        return Err(Error::bad_input(
            "--exec needs a command: `central-auth proxy --exec -- COMMAND ARGS...`",
        ));
    }
    let (listener, on, socket_file) = listen(opts)?;
    let (wake_rx, wake_tx) = UnixStream::pair()
        .map_err(|e| Error::unavailable(format!("cannot make the wake-up socket pair: {e}")))?;
    for s in [&wake_rx, &wake_tx] {
        s.set_nonblocking(true)
            .map_err(|e| Error::unavailable(format!("cannot use the wake-up socket pair: {e}")))?;
    }
    let signal = Arc::new(AtomicUsize::new(0));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        let registered = signal_hook::flag::register_usize(sig, Arc::clone(&signal), sig as usize)
            .and_then(|_| {
                wake_tx
                    .try_clone()
                    .and_then(|w| signal_hook::low_level::pipe::register(sig, w))
            });
        registered.map_err(|e| Error::unavailable(format!("cannot handle signal {sig}: {e}")))?;
    }
    let waker = Arc::new(workers::Waker(wake_tx));
    let shared = Arc::new(handler::Shared {
        upstream: Upstream::new(&profile.base_url, profile.ca_file.as_deref())?,
        budget: budget::Budget::new(opts.rate, MAX_QUEUE_WAIT),
        quota: quota::Tracker::new(central_auth_core::quota::path(state_dir, &profile.name)),
        rejections: rejections::Rejections::new(),
        verbose,
    });
    let identity = identity::Identity::new(opts.allow_unchecked_tcp);
    let (jobs, job_rx) = sync_channel(workers::QUEUE);
    let (back_tx, back_rx) = channel();
    let stopping = Arc::new(AtomicBool::new(false));
    let pool = workers::Pool {
        back: back_tx,
        waker: Arc::clone(&waker),
        stopping: Arc::clone(&stopping),
    };
    let open = if verbose { open_verbose } else { open_quiet };
    let handles = workers::start(job_rx, &pool, &shared, profile.name.as_str(), open)?;
    drop(pool);
    let record = record::Record::write(state_dir, &profile.name, &on);
    if verbose {
        log(&format!(
            "proxy: {}; {}",
            on.announce(),
            identity.describe()
        ));
    }
    let mut control = Control {
        child: None,
        stopping: Arc::clone(&stopping),
    };
    if opts.exec {
        match child::spawn(&opts.command, profile, &on, Arc::clone(&waker))? {
            Ok(c) => control.child = Some(c),
            Err(code) => return Ok(code),
        }
    } else {
        crate::output::print_stdout(&format!("{}\n", on.announce()))?;
    }
    let inbox = reactor::Inbox {
        wake: wake_rx,
        back: back_rx,
        signal,
    };
    let reactor = reactor::Reactor::new(listener, on, identity, jobs, inbox, verbose);
    let jobs = reactor.run(&mut control);
    stopping.store(true, Ordering::SeqCst);
    drop(jobs);
    for h in handles {
        let _ = h.join();
    }
    drop(socket_file);
    drop(record);
    shared.quota.flush()?;
    if verbose {
        log("proxy: stopped");
    }
    Ok(match control.child.and_then(|c| c.exited()) {
        Some(status) => crate::exec::exit_code(status),
        None => ExitCode::SUCCESS,
    })
}

/// Binds the transport the options ask for.
fn listen(
    opts: &ProxyArgs,
) -> Result<(Listener, Listening, Option<unix_socket::SocketFile>), Error> {
    if let Some(path) = &opts.unix_socket {
        let (l, file) = unix_socket::bind(path)?;
        return Ok((
            Listener::Unix(l),
            Listening::Unix { path: path.clone() },
            Some(file),
        ));
    }
    if opts.allow_unchecked_tcp && cfg!(target_os = "linux") {
        return Err(Error::bad_input(
            "--allow-unchecked-tcp is for platforms where the proxy cannot tell who opened a connection; on Linux every connection is checked, so leave it out",
        ));
    }
    if !cfg!(target_os = "linux") && !opts.allow_unchecked_tcp {
        return Err(Error::bad_input(
            "on this platform the proxy cannot tell which user opened a TCP connection; use --unix-socket PATH (the default here), or add --allow-unchecked-tcp to serve every local user over TCP",
        ));
    }
    let default = if opts.exec {
        "127.0.0.1:0"
    } else {
        DEFAULT_LISTEN
    };
    let text = opts.listen.as_deref().unwrap_or(default);
    let addr = listen_addr(text)?;
    let l = transport::bind_tcp(addr)?;
    let addr = l
        .local_addr()
        .map_err(|e| Error::unavailable(format!("cannot read the listening address: {e}")))?;
    Ok((Listener::Tcp(l), Listening::Tcp { addr }, None))
}

/// The address of `--listen`: an IP address and port, or `localhost:PORT`,
/// which is 127.0.0.1 by definition (RFC 6761), so no resolver (nor
/// /etc/hosts) is asked and it cannot name another machine.
fn listen_addr(text: &str) -> Result<SocketAddr, Error> {
    let localhost = text
        .rsplit_once(':')
        .filter(|(host, _)| host.eq_ignore_ascii_case("localhost"))
        .map(|(_, port)| format!("127.0.0.1:{port}"));
    localhost.as_deref().unwrap_or(text).parse().map_err(|_| {
        Error::bad_input(format!(
            "--listen {text:?} is not an address; use 127.0.0.1:PORT, localhost:PORT or [::1]:PORT"
        ))
    })
}

/// Stops the reactor on a signal, or with `--exec` when the child exits.
struct Control {
    child: Option<child::Child>,
    stopping: Arc<AtomicBool>,
}

impl reactor::Control for Control {
    fn on_signal(&mut self, signal: i32) -> bool {
        match &self.child {
            Some(c) => {
                c.forward(signal);
                false
            }
            None => {
                self.stopping.store(true, Ordering::SeqCst);
                true
            }
        }
    }

    fn should_stop(&mut self) -> bool {
        self.child.as_ref().is_some_and(|c| c.exited().is_some())
    }
}

/// A worker's broker reuses the token it read while the record is unchanged
/// (`Broker::with_memo`): every request asks for the same profile's token.
fn open_quiet() -> Result<Broker, Error> {
    crate::open::open_broker(false, "proxy", None).map(Broker::with_memo)
}

fn open_verbose() -> Result<Broker, Error> {
    crate::open::open_broker(true, "proxy", None).map(Broker::with_memo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_is_loopback_without_a_resolver() {
        assert_eq!(
            listen_addr("localhost:8472").unwrap(),
            "127.0.0.1:8472".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(listen_addr("LocalHost:0").unwrap().port(), 0);
        assert_eq!(listen_addr("[::1]:9").unwrap().to_string(), "[::1]:9");
        for bad in [
            "localhost",
            "localhost.example:80",
            "host:80",
            "localhost:x",
        ] {
            let e = listen_addr(bad).unwrap_err().to_string();
            assert!(e.contains("localhost:PORT"), "{bad}: {e}");
        }
    }
}
