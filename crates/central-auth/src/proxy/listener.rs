//! The loopback listener: a bounded pool of worker threads fed through a
//! bounded queue, a blocking accept loop, and a clean drain on stop. SIGTERM and
//! SIGINT set a flag; a watcher thread that looks at it every 100 ms then wakes
//! the blocked `accept` by connecting to the listener itself.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use central_auth_core::{Broker, Error};

use super::handler::{serve, Shared};
use super::response::{write, Reply};

/// Worker threads (each holds at most one connection).
pub const WORKERS: usize = 32;
/// Accepted connections waiting for a worker; beyond this the proxy answers 503.
pub const QUEUE: usize = 64;
/// How often the watcher looks at the stop flag.
const POLL: Duration = Duration::from_millis(100);

/// Binds `addr`, which must be a loopback address.
pub fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    if !addr.ip().is_loopback() {
        return Err(Error::bad_input(format!(
            "--listen {addr} is not a loopback address; use 127.0.0.1:PORT or [::1]:PORT (the proxy adds your token to every request, so it never listens beyond this machine)"
        )));
    }
    TcpListener::bind(addr).map_err(|e| {
        Error::bad_input(format!(
            "cannot listen on {addr}: {e}; pick another --listen port"
        ))
    })
}

/// Serves until `stop` is set, then lets the workers finish their requests.
/// `open_broker` opens one broker per worker thread (a broker is not shared
/// across threads; the store lock makes them agree).
pub fn run(
    listener: TcpListener,
    shared: Arc<Shared>,
    profile: &str,
    open_broker: fn() -> Result<Broker, Error>,
    stop: Arc<AtomicBool>,
) -> Result<(), Error> {
    let local = listener
        .local_addr()
        .map_err(|e| Error::unavailable(format!("cannot read the listening address: {e}")))?;
    let watcher_stop = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("proxy-stop".to_owned())
        .spawn(move || {
            while !watcher_stop.load(Ordering::SeqCst) {
                std::thread::sleep(POLL);
            }
            // Wake the blocked accept; the loop sees the flag and stops.
            let _ = TcpStream::connect(local);
        })
        .map_err(|e| Error::unavailable(format!("cannot start the signal watcher: {e}")))?;
    let (tx, rx) = sync_channel::<TcpStream>(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    let mut workers = Vec::with_capacity(WORKERS);
    for i in 0..WORKERS {
        let rx = Arc::clone(&rx);
        let shared = Arc::clone(&shared);
        let profile = profile.to_owned();
        let handle = std::thread::Builder::new()
            .name(format!("proxy-{i}"))
            .spawn(move || worker(&rx, &shared, &profile, open_broker))
            .map_err(|e| Error::unavailable(format!("cannot start a worker thread: {e}")))?;
        workers.push(handle);
    }
    loop {
        let accepted = listener.accept();
        if stop.load(Ordering::SeqCst) {
            break;
        }
        match accepted {
            Ok((stream, _)) => {
                if let Err(TrySendError::Full(mut s) | TrySendError::Disconnected(mut s)) =
                    tx.try_send(stream)
                {
                    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                    let busy = Reply::message(
                        503,
                        "central-auth proxy: too many requests in flight; retry shortly",
                    )
                    .with_header("Retry-After", "1");
                    let _ = write(&mut s, &busy, false);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                super::log(&format!("proxy: accept failed: {e}"));
                std::thread::sleep(POLL);
            }
        }
    }
    drop(listener);
    drop(tx);
    for w in workers {
        let _ = w.join();
    }
    shared.quota.flush()
}

fn worker(
    rx: &Mutex<Receiver<TcpStream>>,
    shared: &Shared,
    profile: &str,
    open_broker: fn() -> Result<Broker, Error>,
) {
    let broker = match open_broker() {
        Ok(b) => b,
        Err(e) => {
            super::log(&format!("proxy: worker cannot open the broker: {e}"));
            return;
        }
    };
    let Ok(profile) = broker.profile(Some(profile)) else {
        return;
    };
    loop {
        let next = rx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .recv();
        match next {
            Ok(stream) => serve(shared, &broker, profile, stream),
            Err(_) => return,
        }
    }
}
