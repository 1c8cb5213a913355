//! TCP accept loop and per-connection threads.
//!
//! One thread per connection; each reads requests in a loop (keep-alive)
//! and hands them to the handler. A request the reader refuses is answered
//! with the status it names, reported to the refusal hook, and ends the
//! connection. A handler may answer
//! [`Outcome::Drop`](crate::http::Outcome::Drop) to close the socket
//! without writing anything, after it has done its work. Stopping sets a
//! flag, connects to the listener to unblock `accept`, shuts down every
//! open connection and joins the threads.

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use central_auth_http1::RequestError;

use crate::http::{read_request, write_response, Outcome, ReadError, Request, Response};

/// Request handler shared by all connection threads.
pub type Handler = Arc<dyn Fn(&Request) -> Outcome + Send + Sync>;

/// Called for each request the reader refused and the server answered.
pub type OnRefused = Arc<dyn Fn(&RequestError) + Send + Sync>;

/// What the server calls.
#[derive(Clone)]
pub struct Hooks {
    /// Answers each request.
    pub handler: Handler,
    /// Hears of each refused request.
    pub refused: OnRefused,
}

/// Idle keep-alive connections are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    next_id: AtomicU64,
    conns: Mutex<HashMap<u64, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts accepting on `listener`.
    pub fn start(listener: TcpListener, hooks: Hooks) -> std::io::Result<Server> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let sh = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("central-sim-accept".into())
            .spawn(move || accept_loop(listener, sh, hooks))?;
        Ok(Server {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server (idempotent, best effort).
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.accept.take() {
            // Unblock accept(); failure means the listener is already gone.
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = h.join();
        }
        for (_, s) in lock(&self.shared.conns).drain() {
            let _ = s.shutdown(Shutdown::Both);
        }
        let workers: Vec<_> = lock(&self.shared.workers).drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, hooks: Hooks) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else {
            continue;
        };
        let id = shared.next_id.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.conns).insert(id, clone);
        }
        let sh = Arc::clone(&shared);
        let h = hooks.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("central-sim-conn-{id}"))
            .spawn(move || {
                serve_connection(stream, &sh, &h);
                lock(&sh.conns).remove(&id);
            });
        if let Ok(handle) = spawned {
            let mut workers = lock(&shared.workers);
            workers.retain(|w| !w.is_finished());
            workers.push(handle);
        }
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared, hooks: &Hooks) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let req = match read_request(&mut reader, &mut writer) {
            Ok(r) => r,
            Err(ReadError::Refused(e)) => {
                if let Some(status) = e.status() {
                    (hooks.refused)(&e);
                    let body = serde_json::json!({ "message": e.message() });
                    let resp = Response::json_value(status, &body)
                        .with_header("Content-Type", "application/json");
                    let _ = write_response(&mut writer, &resp, false);
                }
                break;
            }
            Err(ReadError::Eof | ReadError::Io(_)) => break,
        };
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let keep_alive = req.keep_alive();
        match (hooks.handler)(&req) {
            Outcome::Respond(resp) => {
                if write_response(&mut writer, &resp, keep_alive).is_err() || !keep_alive {
                    break;
                }
            }
            Outcome::Drop => break,
        }
    }
    let _ = writer.flush();
    let _ = writer.shutdown(Shutdown::Both);
}
