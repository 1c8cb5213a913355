//! The worker pool: [`WORKERS`] threads, each with its own broker, take
//! complete requests from a queue of at most [`QUEUE`], answer them (token,
//! forward, retry; `handler`) and write the answer, then hand the connection
//! back to the reactor (kept alive) or to its closing drain. Workers never
//! read from a client; a write has one deadline for the whole answer.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use central_auth_core::{Broker, Error};
use central_auth_http1::Version;

use super::conn::{Conn, Request, MAX_REQUESTS_PER_CONNECTION};
use super::handler::{answer, Shared};
use super::response::{encode, Persist, Reply};
use super::transport::write_all_by;

/// Worker threads (each answers one request at a time).
pub const WORKERS: usize = 32;
/// Complete requests waiting for a worker; beyond this the proxy answers 503.
pub const QUEUE: usize = 64;
/// Time allowed to write one answer to a client.
pub const CLIENT_WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// A complete request and its connection.
pub struct Job {
    /// The connection (its `buf` holds any pipelined bytes).
    pub conn: Conn,
    /// The request.
    pub request: Request,
}

/// A connection handed back to the reactor.
pub struct Back {
    /// The connection.
    pub conn: Conn,
    /// Wait for its next request (else drain and close).
    pub keep: bool,
}

/// Wakes the reactor (one byte on the socket pair; a full pipe means a wake
/// is already pending).
#[derive(Debug)]
pub struct Waker(pub UnixStream);

impl Waker {
    /// Wakes the reactor.
    pub fn wake(&self) {
        let _ = (&self.0).write(&[1]);
    }
}

/// What the workers share besides [`Shared`].
pub struct Pool {
    /// Connections handed back.
    pub back: Sender<Back>,
    /// Wakes the reactor after a hand-back.
    pub waker: Arc<Waker>,
    /// Set when the proxy stops: answers close their connection.
    pub stopping: Arc<AtomicBool>,
}

/// Starts the workers; they run until the job sender is dropped.
pub fn start(
    rx: Receiver<Job>,
    pool: &Pool,
    shared: &Arc<Shared>,
    profile: &str,
    open_broker: fn() -> Result<Broker, Error>,
) -> Result<Vec<std::thread::JoinHandle<()>>, Error> {
    let rx = Arc::new(Mutex::new(rx));
    let mut handles = Vec::with_capacity(WORKERS);
    for i in 0..WORKERS {
        let rx = Arc::clone(&rx);
        let shared = Arc::clone(shared);
        let profile = profile.to_owned();
        let back = pool.back.clone();
        let waker = Arc::clone(&pool.waker);
        let stopping = Arc::clone(&pool.stopping);
        let handle = std::thread::Builder::new()
            .name(format!("proxy-{i}"))
            .spawn(move || {
                let pool = Pool {
                    back,
                    waker,
                    stopping,
                };
                work(&rx, &pool, &shared, &profile, open_broker);
            })
            .map_err(|e| Error::unavailable(format!("cannot start a worker thread: {e}")))?;
        handles.push(handle);
    }
    Ok(handles)
}

fn work(
    rx: &Mutex<Receiver<Job>>,
    pool: &Pool,
    shared: &Shared,
    profile: &str,
    open_broker: fn() -> Result<Broker, Error>,
) {
    let broker = open_broker().and_then(|b| {
        b.profile(Some(profile))?;
        Ok(b)
    });
    if let Err(e) = &broker {
        super::log::log(&format!("proxy: worker cannot open the broker: {e}"));
    }
    loop {
        let next = rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        let Ok(Job { mut conn, request }) = next else {
            return;
        };
        let started = Instant::now();
        let (reply, keep_possible) = match &broker {
            Ok(b) => match b.profile(Some(profile)) {
                Ok(p) => answer(shared, b, p, &request, started),
                Err(e) => (unavailable(&e), false),
            },
            Err(e) => (unavailable(e), false),
        };
        conn.served += 1;
        let keep = keep_possible
            && request.head.keep_alive()
            && conn.served < MAX_REQUESTS_PER_CONNECTION
            && !pool.stopping.load(Ordering::SeqCst);
        let persist = match (keep, request.head.version) {
            (false, _) => Persist::Close,
            (true, Version::Http11) => Persist::KeepAlive11,
            (true, Version::Http10) => Persist::KeepAlive10,
        };
        let bytes = encode(&reply, request.head.method == "HEAD", persist);
        let written = write_all_by(
            &mut conn.stream,
            &bytes,
            Instant::now() + CLIENT_WRITE_TIMEOUT,
        );
        if written.is_err() {
            // The client is gone or too slow: drop the connection here.
            continue;
        }
        if pool.stopping.load(Ordering::SeqCst) {
            conn.stream.shutdown_write();
            continue;
        }
        let keep = keep && written.is_ok();
        if pool.back.send(Back { conn, keep }).is_ok() {
            pool.waker.wake();
        }
    }
}

fn unavailable(e: &Error) -> Reply {
    Reply::message(502, &format!("central-auth proxy: {e}"))
}
