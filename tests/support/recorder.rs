//! A recording HTTP server on loopback (std only): it answers every request and
//! logs what arrived, so a test can say exactly what a browser, a client or the
//! proxy sent, and whether anything arrived at all. The log is the ground truth
//! of "this reached the server" that a page's own view (no-cors responses are
//! opaque) cannot give.
//!
//! It reads leniently (bare LF, any header), one request per connection
//! (`Connection: close`), bodies by `Content-Length` or chunked. With
//! [`RecorderOpts::cors`] it answers CORS preflights with "anything goes",
//! so a browser's cross-site `DELETE` goes on to arrive too. It listens on
//! `127.0.0.1:0` ([`Recorder::start`]) or a Unix socket ([`Recorder::unix`]).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One request as it arrived.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The method (`GET`, `OPTIONS`, ...).
    pub method: String,
    /// The request target as sent (`/path?query` or absolute form).
    pub target: String,
    /// Every header line in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked).
    pub body: Vec<u8>,
    /// The peer's address (TCP only).
    pub peer: Option<SocketAddr>,
}

impl Recorded {
    /// The first header of that name, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `Host`.
    pub fn host(&self) -> Option<&str> {
        self.header("host")
    }

    /// `Origin`.
    pub fn origin(&self) -> Option<&str> {
        self.header("origin")
    }

    /// `Sec-Fetch-Site`.
    pub fn sec_fetch_site(&self) -> Option<&str> {
        self.header("sec-fetch-site")
    }

    /// `Content-Type`.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// One line for a failure message: method, target, Host, Origin,
    /// Sec-Fetch-Site, Content-Type.
    pub fn summary(&self) -> String {
        format!(
            "{} {} Host={:?} Origin={:?} Sec-Fetch-Site={:?} Content-Type={:?}",
            self.method,
            self.target,
            self.host(),
            self.origin(),
            self.sec_fetch_site(),
            self.content_type()
        )
    }
}

/// How the recorder answers.
#[derive(Clone, Debug)]
pub struct RecorderOpts {
    /// Status of every non-preflight answer.
    pub status: u16,
    /// Answer `OPTIONS` preflights 204 with `Access-Control-Allow-*` for any
    /// origin, method and header, and add `Access-Control-Allow-Origin: *`
    /// to every answer.
    pub cors: bool,
}

impl Default for RecorderOpts {
    fn default() -> Self {
        RecorderOpts {
            status: 200,
            cors: false,
        }
    }
}

/// Where a recorder listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `127.0.0.1:PORT`.
    Tcp(SocketAddr),
    /// A Unix socket path.
    Unix(PathBuf),
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// The running recorder; stops on drop.
pub struct Recorder {
    endpoint: Endpoint,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    /// A recorder on `127.0.0.1:0` answering 200 without CORS.
    pub fn start() -> Recorder {
        Recorder::with(RecorderOpts::default())
    }

    /// A recorder on `127.0.0.1:0` with these options.
    pub fn with(opts: RecorderOpts) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("recorder binds 127.0.0.1:0");
        let addr = listener.local_addr().expect("recorder address");
        Recorder::serve_on(Listener::Tcp(listener), Endpoint::Tcp(addr), opts)
    }

    /// A recorder on a new Unix socket at `path` (its mode follows the umask;
    /// set it afterwards).
    pub fn unix(path: &Path, opts: RecorderOpts) -> Recorder {
        let listener = UnixListener::bind(path)
            .unwrap_or_else(|e| panic!("recorder binds {}: {e}", path.display()));
        Recorder::serve_on(
            Listener::Unix(listener),
            Endpoint::Unix(path.to_path_buf()),
            opts,
        )
    }

    fn serve_on(listener: Listener, endpoint: Endpoint, opts: RecorderOpts) -> Recorder {
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (Arc::clone(&log), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("e2e-recorder".into())
                .spawn(move || accept_loop(&listener, &log, &stop, &opts))
                .expect("recorder thread")
        };
        Recorder {
            endpoint,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// Where it listens.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Its TCP address; panics for a Unix-socket recorder.
    pub fn addr(&self) -> SocketAddr {
        match &self.endpoint {
            Endpoint::Tcp(addr) => *addr,
            Endpoint::Unix(p) => panic!("the recorder listens on {}, not TCP", p.display()),
        }
    }

    /// Its TCP port; panics for a Unix-socket recorder.
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// `http://127.0.0.1:PORT`; panics for a Unix-socket recorder.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().expect("recorder log").clone()
    }

    /// How many requests arrived so far.
    pub fn count(&self) -> usize {
        self.log.lock().expect("recorder log").len()
    }

    /// The requests whose target contains `needle` (e.g. a marker parameter).
    pub fn matching(&self, needle: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.target.contains(needle))
            .collect()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        match &self.endpoint {
            Endpoint::Tcp(addr) => {
                let _ = TcpStream::connect_timeout(addr, Duration::from_secs(1));
            }
            Endpoint::Unix(path) => {
                let _ = UnixStream::connect(path);
            }
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// An accepted connection: its reading half, its writing half, its TCP peer.
type Accepted = (
    Box<dyn Read + Send>,
    Box<dyn Write + Send>,
    Option<SocketAddr>,
);

fn accept_loop(
    listener: &Listener,
    log: &Arc<Mutex<Vec<Recorded>>>,
    stop: &AtomicBool,
    opts: &RecorderOpts,
) {
    loop {
        let conn: std::io::Result<Accepted> = match listener {
            Listener::Tcp(l) => l.accept().and_then(|(s, peer)| {
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                s.set_write_timeout(Some(Duration::from_secs(10)))?;
                Ok((Box::new(s.try_clone()?) as _, Box::new(s) as _, Some(peer)))
            }),
            Listener::Unix(l) => l.accept().and_then(|(s, _)| {
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                s.set_write_timeout(Some(Duration::from_secs(10)))?;
                Ok((Box::new(s.try_clone()?) as _, Box::new(s) as _, None))
            }),
        };
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok((reader, writer, peer)) = conn else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let (log, opts) = (Arc::clone(log), opts.clone());
        let _ = std::thread::Builder::new()
            .name("e2e-recorder-conn".into())
            .spawn(move || serve(reader, writer, peer, &log, &opts));
    }
}

fn serve(
    reader: Box<dyn Read + Send>,
    mut writer: Box<dyn Write + Send>,
    peer: Option<SocketAddr>,
    log: &Mutex<Vec<Recorded>>,
    opts: &RecorderOpts,
) {
    let mut reader = BufReader::new(reader);
    let Some(mut rec) = read_request(&mut reader) else {
        return;
    };
    rec.peer = peer;
    let preflight = opts.cors && rec.method == "OPTIONS";
    let n = {
        let mut log = log.lock().expect("recorder log");
        log.push(rec);
        log.len()
    };
    let body = format!("{{\"recorded\":{n}}}");
    let mut head = if preflight {
        "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: GET, HEAD, POST, PUT, PATCH, DELETE\r\nAccess-Control-Allow-Headers: *\r\nAccess-Control-Max-Age: 0\r\n".to_owned()
    } else {
        format!(
            "HTTP/1.1 {} Recorded\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            opts.status,
            body.len()
        )
    };
    if opts.cors && !preflight {
        head.push_str("Access-Control-Allow-Origin: *\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = writer.write_all(head.as_bytes());
    if !preflight {
        let _ = writer.write_all(body.as_bytes());
    }
    let _ = writer.flush();
}

/// Reads one request leniently: lines end in LF with an optional CR.
fn read_request(r: &mut impl BufRead) -> Option<Recorded> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end_matches(['\r', '\n']).splitn(3, ' ');
    let method = parts.next()?.to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            break;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':').unwrap_or((h, ""));
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    let mut rec = Recorded {
        method,
        target,
        headers,
        ..Recorded::default()
    };
    let chunked = rec
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        rec.body = read_chunked(r).unwrap_or_default();
    } else if let Some(len) = rec.header("content-length").and_then(|v| v.parse().ok()) {
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_ok() {
            rec.body = body;
        }
    }
    Some(rec)
}

fn read_chunked(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        r.read_line(&mut size).ok()?;
        let size = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            let mut trailer = String::new();
            let _ = r.read_line(&mut trailer);
            return Some(body);
        }
        let mut chunk = vec![0; size + 2];
        r.read_exact(&mut chunk).ok()?;
        chunk.truncate(size);
        body.extend(chunk);
    }
}
