//! Slow and hostile clients, cheap enough to open by the hundred: connections
//! that send nothing ([`open_idle`]), connections that send a valid-looking
//! request head one byte at a time, forever ([`open_trickle`], one background
//! thread for all of them), over TCP or a Unix socket; and [`timed_request`],
//! a well-behaved request whose answer and wait a test can look at.
//!
//! Every handle closes its connections when dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::raw_http::Target;

/// How long connecting may take before a helper gives up (panics).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The deadline of [`timed_request`].
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// A connection of either kind.
#[derive(Debug)]
pub enum Conn {
    /// TCP.
    Tcp(TcpStream),
    /// A Unix stream socket.
    Unix(UnixStream),
}

impl Conn {
    /// Connects to `target`; panics (naming the target) when it cannot.
    pub fn open(target: &Target) -> Conn {
        match target {
            Target::Tcp(addr) => Conn::Tcp(
                TcpStream::connect_timeout(addr, CONNECT_TIMEOUT)
                    .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}")),
            ),
            Target::Unix(path) => Conn::Unix(
                UnixStream::connect(path)
                    .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", path.display())),
            ),
        }
    }

    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) {
        let _ = match self {
            Conn::Tcp(s) => s.set_read_timeout(read).and(s.set_write_timeout(write)),
            Conn::Unix(s) => s.set_read_timeout(read).and(s.set_write_timeout(write)),
        };
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.read(buf),
            Conn::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tcp(s) => s.write(buf),
            Conn::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Tcp(s) => s.flush(),
            Conn::Unix(s) => s.flush(),
        }
    }
}

/// Connections that were opened and send nothing; closed on drop.
#[derive(Debug)]
pub struct Idle {
    conns: Vec<Conn>,
}

impl Idle {
    /// How many are open (as opened; a server may have closed its end).
    pub fn len(&self) -> usize {
        self.conns.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.conns.is_empty()
    }

    /// How many the server has closed by now (a read sees end of file or an
    /// error right away rather than blocking).
    pub fn closed_by_server(&mut self) -> usize {
        let mut closed = 0;
        for c in &mut self.conns {
            c.set_timeouts(Some(Duration::from_millis(1)), None);
            let mut b = [0u8; 512];
            match c.read(&mut b) {
                Ok(_) => closed += 1,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => closed += 1,
            }
        }
        closed
    }
}

/// `n` TCP connections to `addr` that send nothing.
pub fn open_idle(addr: SocketAddr, n: usize) -> Idle {
    open_idle_to(&Target::Tcp(addr), n)
}

/// `n` Unix-socket connections to `path` that send nothing.
pub fn open_idle_unix(path: &Path, n: usize) -> Idle {
    open_idle_to(&Target::Unix(path.to_path_buf()), n)
}

/// `n` connections to `target` that send nothing.
pub fn open_idle_to(target: &Target, n: usize) -> Idle {
    Idle {
        conns: (0..n).map(|_| Conn::open(target)).collect(),
    }
}

/// The head every trickling connection sends: a plausible request, then header
/// lines without end (it never sends the blank line that would finish it).
const TRICKLE_HEAD: &[u8] =
    b"GET /configuration/v2/groups?limit=20&offset=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: e2e-trickle\r\nAccept: */*\r\n";
const TRICKLE_FILLER: &[u8] = b"X-Trickle: aaaaaaaaaaaaaaaaaaaa\r\n";

/// The byte a trickling connection sends at position `pos`.
pub fn trickle_byte(pos: u64) -> u8 {
    let head = TRICKLE_HEAD.len() as u64;
    if pos < head {
        TRICKLE_HEAD[pos as usize]
    } else {
        TRICKLE_FILLER[((pos - head) % TRICKLE_FILLER.len() as u64) as usize]
    }
}

/// Connections that each send one byte of a never-ending request head every
/// `every`, from one background thread; stops and closes them on drop.
#[derive(Debug)]
pub struct Trickle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
    sent: Arc<AtomicU64>,
    open: Arc<AtomicUsize>,
    rounds: Arc<AtomicU64>,
}

impl Trickle {
    /// Bytes sent so far, over all connections.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// Connections still open: a write that failed (the server closed or reset
    /// it) drops one.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Rounds (one byte on every open connection) completed so far.
    pub fn rounds(&self) -> u64 {
        self.rounds.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` rounds are done (or `limit` passed); returns
    /// whether they were.
    pub fn wait_rounds(&self, n: u64, limit: Duration) -> bool {
        let start = Instant::now();
        while self.rounds() < n {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

impl Drop for Trickle {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `n` TCP connections to `addr`, each sending one byte every `every`.
pub fn open_trickle(addr: SocketAddr, n: usize, every: Duration) -> Trickle {
    open_trickle_to(&Target::Tcp(addr), n, every)
}

/// `n` Unix-socket connections to `path`, each sending one byte every `every`.
pub fn open_trickle_unix(path: &Path, n: usize, every: Duration) -> Trickle {
    open_trickle_to(&Target::Unix(path.to_path_buf()), n, every)
}

/// `n` connections to `target`, each sending one byte every `every`. All are
/// connected before this returns; the first byte goes out right away.
pub fn open_trickle_to(target: &Target, n: usize, every: Duration) -> Trickle {
    let mut conns: Vec<(Conn, u64)> = (0..n).map(|_| (Conn::open(target), 0)).collect();
    for (c, _) in &conns {
        c.set_timeouts(None, Some(Duration::from_secs(1)));
    }
    let (tx, rx) = channel::<()>();
    let sent = Arc::new(AtomicU64::new(0));
    let open = Arc::new(AtomicUsize::new(n));
    let rounds = Arc::new(AtomicU64::new(0));
    let thread = {
        let (sent, open, rounds) = (Arc::clone(&sent), Arc::clone(&open), Arc::clone(&rounds));
        std::thread::Builder::new()
            .name("e2e-trickle".into())
            .spawn(move || loop {
                conns.retain_mut(|(c, pos)| {
                    if c.write_all(&[trickle_byte(*pos)]).is_err() {
                        open.fetch_sub(1, Ordering::SeqCst);
                        return false;
                    }
                    *pos += 1;
                    sent.fetch_add(1, Ordering::SeqCst);
                    true
                });
                rounds.fetch_add(1, Ordering::SeqCst);
                match rx.recv_timeout(every) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
            })
            .expect("trickle thread")
    };
    Trickle {
        stop: Some(tx),
        thread: Some(thread),
        sent,
        open,
        rounds,
    }
}

/// Sends `raw` to `addr` on a fresh connection and reads the answer: its status
/// (0 when none came within [`REQUEST_DEADLINE`], or the connection closed
/// first) and how long the whole exchange took.
pub fn timed_request(addr: SocketAddr, raw: &[u8]) -> (u16, Duration) {
    timed_request_to(&Target::Tcp(addr), raw, REQUEST_DEADLINE)
}

/// [`timed_request`] over a Unix socket.
pub fn timed_request_unix(path: &Path, raw: &[u8]) -> (u16, Duration) {
    timed_request_to(&Target::Unix(path.to_path_buf()), raw, REQUEST_DEADLINE)
}

/// [`timed_request`] to any target with a given deadline. The clock starts
/// before connecting (a full accept backlog counts); the answer is complete at
/// the end of its `Content-Length` body, or at close without one.
pub fn timed_request_to(target: &Target, raw: &[u8], deadline: Duration) -> (u16, Duration) {
    let start = Instant::now();
    let status = exchange(target, raw, start + deadline).unwrap_or(0);
    (status, start.elapsed())
}

fn exchange(target: &Target, raw: &[u8], deadline: Instant) -> Option<u16> {
    let left = || deadline.checked_duration_since(Instant::now());
    let mut conn = match target {
        Target::Tcp(addr) => Conn::Tcp(TcpStream::connect_timeout(addr, left()?).ok()?),
        Target::Unix(path) => Conn::Unix(UnixStream::connect(path).ok()?),
    };
    let t = left()?;
    conn.set_timeouts(Some(t), Some(t));
    conn.write_all(raw).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        conn.set_timeouts(Some(left()?), None);
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let length = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse::<usize>().ok())?
    });
    // Read the body too, so the wait covers the whole answer.
    let mut body = buf.len() - head_end;
    while length.is_none_or(|l| body < l) {
        let Some(t) = left() else { break };
        conn.set_timeouts(Some(t), None);
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body += n,
        }
    }
    Some(status)
}
