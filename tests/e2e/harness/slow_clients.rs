//! Slow and hostile clients (`slow_clients`) against a naive server like
//! today's proxy: trickling connections starve it while they run, idle ones make
//! the owner wait out its read timeout; the same helpers over a Unix socket.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use central_auth_e2e::raw_http::Target;
use central_auth_e2e::slow_clients::{
    open_idle, open_idle_unix, open_trickle, open_trickle_unix, timed_request_to,
    timed_request_unix, trickle_byte,
};

use super::figures;

/// A naive server like today's proxy: a fixed pool of worker threads, each
/// holding one connection; a bounded queue of accepted connections, 503
/// beyond it; a read timeout per read, not per request.
struct NaiveServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    events: Arc<Mutex<Events>>,
}

const NAIVE_WORKERS: usize = 32;
const NAIVE_QUEUE: usize = 64;

impl NaiveServer {
    fn start(read_timeout: Duration) -> NaiveServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel::<TcpStream>(NAIVE_QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let events = Arc::new(Mutex::new(Events::default()));
        for _ in 0..NAIVE_WORKERS {
            let (rx, events) = (Arc::clone(&rx), Arc::clone(&events));
            std::thread::spawn(move || naive_worker(&rx, read_timeout, &events));
        }
        let (acc, st) = (Arc::clone(&accepted), Arc::clone(&stop));
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                acc.fetch_add(1, Ordering::SeqCst);
                if let Err(TrySendError::Full(mut s) | TrySendError::Disconnected(mut s)) =
                    tx.try_send(conn)
                {
                    let _ = s.write_all(
                        b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                }
            }
        });
        NaiveServer {
            addr,
            accepted,
            stop,
            events,
        }
    }

    fn wait_accepted(&self, n: usize) {
        let start = Instant::now();
        while self.accepted.load(Ordering::SeqCst) < n {
            assert!(start.elapsed() < Duration::from_secs(10), "not accepted");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for NaiveServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// What a naive server's workers saw, for assertions on causes rather than
/// on durations (a loaded machine stretches those).
#[derive(Default)]
struct Events {
    /// When the first worker began reading a connection.
    first_read: Option<Instant>,
    /// How many reads timed out.
    timeouts: usize,
    /// For each 200 answered: how many reads had timed out before it.
    answered_after_timeouts: Vec<usize>,
}

/// One worker of the naive server: takes the next accepted connection, reads
/// its head with a per-read timeout, answers 200 when the head is complete.
fn naive_worker(rx: &Mutex<Receiver<TcpStream>>, read_timeout: Duration, events: &Mutex<Events>) {
    loop {
        let next = rx.lock().unwrap().recv();
        let Ok(mut s) = next else { return };
        let _ = s.set_read_timeout(Some(read_timeout));
        events
            .lock()
            .unwrap()
            .first_read
            .get_or_insert_with(Instant::now);
        let mut head = Vec::new();
        let mut b = [0u8; 1024];
        let complete = loop {
            match s.read(&mut b) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    events.lock().unwrap().timeouts += 1;
                    break false;
                }
                Ok(0) | Err(_) => break false,
                Ok(n) => head.extend_from_slice(&b[..n]),
            }
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                break true;
            }
        };
        if complete {
            {
                let mut e = events.lock().unwrap();
                let timeouts = e.timeouts;
                e.answered_after_timeouts.push(timeouts);
            }
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        }
    }
}

const OWNER_GET: &[u8] =
    b"GET /configuration/v2/groups HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

#[test]
fn trickling_clients_starve_a_naive_server_while_they_run() {
    let server = NaiveServer::start(Duration::from_secs(10));
    let target = Target::Tcp(server.addr);
    let (status, alone) = timed_request_to(&target, OWNER_GET, Duration::from_secs(5));
    assert_eq!(status, 200);

    // 100 connections, a byte each every second: more often than the 10 s
    // read timeout, so no read ever times out.
    let trickle = open_trickle(server.addr, 100, Duration::from_secs(1));
    server.wait_accepted(101);
    assert!(trickle.wait_rounds(2, Duration::from_secs(10)));
    let (first, first_wait) = timed_request_to(&target, OWNER_GET, Duration::from_secs(3));
    // Past the per-read timeout: still starved, the timeout never fires.
    std::thread::sleep(Duration::from_secs(11).saturating_sub(first_wait));
    let (later, later_wait) = timed_request_to(&target, OWNER_GET, Duration::from_secs(3));
    for (status, wait) in [(first, first_wait), (later, later_wait)] {
        assert!(
            status != 200,
            "a naive server answered the owner 200 in {wait:?} under 100 trickling connections"
        );
    }
    // Up to 32 held by workers and 64 queued (how many workers took one before
    // the queue filled depends on scheduling); the rest were answered 503 and
    // closed, which the trickle saw as failed writes.
    let held = trickle.open();
    assert!(
        (NAIVE_QUEUE..=NAIVE_WORKERS + NAIVE_QUEUE).contains(&held),
        "{trickle:?}"
    );
    let sent = trickle.bytes_sent();
    let rounds = trickle.rounds();

    // Dropping the handle closes them: the workers are free again.
    drop(trickle);
    let start = Instant::now();
    let (after, after_wait) = loop {
        let (s, d) = timed_request_to(&target, OWNER_GET, Duration::from_secs(3));
        if s == 200 || start.elapsed() > Duration::from_secs(10) {
            break (s, d);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(after, 200);
    figures(&format!(
        "naive server (32 workers, queue 64, 10 s per-read timeout): owner alone {} ms; under 100 trickling connections (1 byte/s, {rounds} rounds, {sent} bytes, {held} held open by the server): owner got {first} in {} ms, and {later} in {} ms 11 s later; after the trickle stopped: {after} in {} ms (within {} ms of stopping)",
        alone.as_millis(),
        first_wait.as_millis(),
        later_wait.as_millis(),
        after_wait.as_millis(),
        start.elapsed().as_millis()
    ));
}

#[test]
fn idle_clients_make_a_naive_server_wait_out_its_read_timeout() {
    let timeout = Duration::from_secs(10);
    let server = NaiveServer::start(timeout);
    let target = Target::Tcp(server.addr);
    // 40 idle connections: 32 hold every worker, 8 wait in the queue; the
    // owner's request queues behind them until the first read timeouts.
    let mut idle = open_idle(server.addr, 40);
    server.wait_accepted(40);
    std::thread::sleep(Duration::from_millis(100));
    let (status, waited) = timed_request_to(&target, OWNER_GET, Duration::from_secs(30));
    let answered = Instant::now();
    assert_eq!(status, 200);
    // Causes, not durations: the queue is first in, first out, so the owner
    // was served by the ninth worker whose idle connection timed out (the
    // first eight took the queued idle ones), and no earlier than one read
    // timeout after the first worker began reading.
    let (first_read, answered_after) = {
        let e = server.events.lock().unwrap();
        (
            e.first_read.expect("a worker read"),
            e.answered_after_timeouts.clone(),
        )
    };
    assert_eq!(
        answered_after.len(),
        1,
        "one request answered: {answered_after:?}"
    );
    assert!(
        answered_after[0] > 40 - NAIVE_WORKERS,
        "the owner was answered after {} read timeouts; it queued behind {} idle connections",
        answered_after[0],
        40 - NAIVE_WORKERS
    );
    let since_first_read = answered.duration_since(first_read);
    // (A kernel timer may fire a tick early.)
    assert!(
        since_first_read >= timeout - Duration::from_millis(50),
        "the owner was answered {since_first_read:?} after the first read began, within the {timeout:?} read timeout"
    );
    // The server times the other held ones out too and closes them (each
    // worker's timeout runs from when it took its connection).
    let start = Instant::now();
    while idle.closed_by_server() < NAIVE_WORKERS {
        assert!(start.elapsed() < Duration::from_secs(15), "{idle:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(idle.len(), 40);
    drop(idle);
    figures(&format!(
        "naive server (32 workers, {} s per-read timeout): owner's request behind 40 idle connections answered {status} after {} ms ({} ms after the first read began, after {} read timeouts)",
        timeout.as_secs(),
        waited.as_millis(),
        since_first_read.as_millis(),
        answered_after[0]
    ));
}

#[test]
fn slow_clients_work_over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let every = Duration::from_millis(50);
    let trickle = open_trickle_unix(&path, 3, every);
    let idle = open_idle_unix(&path, 2);
    let mut accepted: Vec<_> = (0..5).map(|_| listener.accept().unwrap().0).collect();
    assert!(trickle.wait_rounds(10, Duration::from_secs(10)));
    // Trickling ones send the head a byte at a time; idle ones send nothing.
    let mut got = Vec::new();
    for s in &mut accepted {
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        got.push(buf[..n].to_vec());
    }
    let sending: Vec<&Vec<u8>> = got.iter().filter(|g| !g.is_empty()).collect();
    assert_eq!(sending.len(), 3, "three trickle, two idle");
    for g in sending {
        let expected: Vec<u8> = (0..g.len() as u64).map(trickle_byte).collect();
        assert_eq!(g, &expected);
        assert!(g.len() >= 5 && g.starts_with(b"GET /"), "{g:?}");
    }
    // Dropping the handles closes every connection.
    drop(trickle);
    drop(idle);
    for s in &mut accepted {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
    }
    // timed_request over the socket: a real answer and its wait.
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    });
    let (status, took) = timed_request_unix(&path, OWNER_GET);
    assert_eq!(status, 204);
    assert!(took < Duration::from_secs(30));
}
