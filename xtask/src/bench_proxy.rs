//! `cargo xtask bench`, proxy part: the latency `central-auth proxy` adds per
//! request (p50, p99) against calling the simulator directly with the token,
//! with a new connection per request and with keep-alive (one connection for
//! all), requests per second at saturation, and the per-connection owner
//! check (`NETLINK_SOCK_DIAG` and the `/proc/net/tcp` fallback) and the strict
//! head parse timed on their own. The proxy runs with `--rate 100000` so its
//! budget does not hide its own cost.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::Home;

use crate::demo_home::{import_download, token};
use crate::sim_process::SimProcess;
use crate::util::{say, Res};

/// Sequential requests per latency row.
const LATENCY_RUNS: usize = 500;
/// Concurrent clients and duration of each saturation run.
const SATURATION_CLIENTS: usize = 16;
const SATURATION_FOR: Duration = Duration::from_secs(3);
/// Owner lookups and head parses timed.
const LOOKUPS: usize = 2000;
const PARSES: usize = 20_000;
const PATH: &str = "/monitoring/v1/aps";

/// Measures and prints the proxy tables.
pub fn run(home: &Home, sim: &SimProcess) -> Res<()> {
    import_download(home, sim, 0)?;
    let token = token(home)?;
    let mut proxy = Proxy::start(home)?;
    let result = measure(&proxy.addr, &sim.addr, &token);
    proxy.stop();
    let m = result?;
    let (diag, procfs, sockets) = owner_lookups()?;
    let parse = head_parse();
    let p50 = |d: &[Duration]| percentile(d, 50);
    let added = |a: &[Duration], b: &[Duration], p: usize| {
        percentile(a, p).as_secs_f64() * 1000.0 - percentile(b, p).as_secs_f64() * 1000.0
    };
    println!();
    println!(
        "`central-auth proxy`, {LATENCY_RUNS} sequential GET {PATH} per row (rows interleaved):"
    );
    println!();
    println!("| path | p50 | p99 |");
    println!("|---|---:|---:|");
    for (label, d) in [
        (
            "direct to the simulator, new connection each",
            &m.direct_new,
        ),
        ("through the proxy, new connection each", &m.proxy_new),
        ("direct to the simulator, keep-alive", &m.direct_kept),
        ("through the proxy, keep-alive", &m.proxy_kept),
    ] {
        println!(
            "| {label} | {} | {} |",
            ms(percentile(d, 50)),
            ms(percentile(d, 99))
        );
    }
    println!(
        "| added by the proxy, new connection each | {:.3} ms | {:.3} ms |",
        added(&m.proxy_new, &m.direct_new, 50),
        added(&m.proxy_new, &m.direct_new, 99)
    );
    println!(
        "| added by the proxy, keep-alive (goal ≤ 0.2 ms p50) | {:.3} ms | {:.3} ms |",
        added(&m.proxy_kept, &m.direct_kept, 50),
        added(&m.proxy_kept, &m.direct_kept, 99)
    );
    println!();
    println!(
        "Saturation, {SATURATION_CLIENTS} clients for {} s through the proxy (all 200): {:.0} requests/s with a new connection each, {:.0} requests/s with keep-alive",
        SATURATION_FOR.as_secs(),
        m.rps_new,
        m.rps_kept
    );
    println!();
    println!("Per connection or request, timed on their own ({LOOKUPS} owner lookups of a live loopback connection with {sockets} TCP sockets in the table; {PARSES} parses of a curl-like head):");
    println!();
    println!("| step | p50 | p99 |");
    println!("|---|---:|---:|");
    println!(
        "| owner check, NETLINK_SOCK_DIAG (used) | {} | {} |",
        us(p50(&diag)),
        us(percentile(&diag, 99))
    );
    println!(
        "| owner check, /proc/net/tcp (fallback) | {} | {} |",
        us(p50(&procfs)),
        us(percentile(&procfs, 99))
    );
    println!(
        "| strict head parse (central-auth-http1) | {} | {} |",
        us(p50(&parse)),
        us(percentile(&parse, 99))
    );
    println!(
        "| owner check + strict parse (goal ≤ 0.1 ms p50) | {} | |",
        us(p50(&diag) + p50(&parse))
    );
    Ok(())
}

struct Measured {
    direct_new: Vec<Duration>,
    proxy_new: Vec<Duration>,
    direct_kept: Vec<Duration>,
    proxy_kept: Vec<Duration>,
    rps_new: f64,
    rps_kept: f64,
}

fn measure(proxy: &str, sim: &str, token: &str) -> Res<Measured> {
    say(format!(
        "proxy: {LATENCY_RUNS} requests per row, direct and proxied, new connection and keep-alive"
    ));
    let mut m = Measured {
        direct_new: Vec::with_capacity(LATENCY_RUNS),
        proxy_new: Vec::with_capacity(LATENCY_RUNS),
        direct_kept: Vec::with_capacity(LATENCY_RUNS),
        proxy_kept: Vec::with_capacity(LATENCY_RUNS),
        rps_new: 0.0,
        rps_kept: 0.0,
    };
    let mut direct = KeptAlive::open(sim, Some(token))?;
    let mut proxied = KeptAlive::open(proxy, None)?;
    for _ in 0..LATENCY_RUNS {
        m.direct_new.push(timed_get(sim, Some(token))?);
        m.proxy_new.push(timed_get(proxy, None)?);
        m.direct_kept.push(direct.get()?);
        m.proxy_kept.push(proxied.get()?);
    }
    for d in [
        &mut m.direct_new,
        &mut m.proxy_new,
        &mut m.direct_kept,
        &mut m.proxy_kept,
    ] {
        d.sort();
    }
    say(format!(
        "proxy: saturation with {SATURATION_CLIENTS} clients"
    ));
    m.rps_new = saturate(|| timed_get(proxy, None).map(|_| ()))?;
    m.rps_kept = {
        let started = Instant::now();
        let counts: Vec<Res<usize>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..SATURATION_CLIENTS)
                .map(|_| {
                    s.spawn(|| {
                        let mut c = KeptAlive::open(proxy, None)?;
                        let mut n = 0;
                        while started.elapsed() < SATURATION_FOR {
                            c.get()?;
                            n += 1;
                        }
                        Ok(n)
                    })
                })
                .collect();
            join_all(handles)
        });
        sum(counts)? as f64 / started.elapsed().as_secs_f64()
    };
    Ok(m)
}

fn saturate(one: impl Fn() -> Res<()> + Sync) -> Res<f64> {
    let started = Instant::now();
    let counts: Vec<Res<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..SATURATION_CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0;
                    while started.elapsed() < SATURATION_FOR {
                        one()?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        join_all(handles)
    });
    Ok(sum(counts)? as f64 / started.elapsed().as_secs_f64())
}

fn join_all(handles: Vec<std::thread::ScopedJoinHandle<'_, Res<usize>>>) -> Vec<Res<usize>> {
    handles
        .into_iter()
        .map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("client thread panicked".into()))
        })
        .collect()
}

fn sum(counts: Vec<Res<usize>>) -> Res<usize> {
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    Ok(total)
}

fn request(addr: &str, token: Option<&str>, close: bool) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let connection = if close { "Connection: close\r\n" } else { "" };
    format!("GET {PATH} HTTP/1.1\r\nHost: {addr}\r\n{auth}{connection}\r\n")
}

/// One GET on a new connection; fails unless the answer is 200.
fn timed_get(addr: &str, token: Option<&str>) -> Res<Duration> {
    let t = Instant::now();
    let io = |e: std::io::Error| format!("GET http://{addr}{PATH}: {e}");
    let mut s = TcpStream::connect(addr).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io)?;
    s.write_all(request(addr, token, true).as_bytes())
        .map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    let status = crate::sim_process::parse_response(&raw).map(|(s, _)| s);
    if status != Some(200) {
        return Err(format!("GET {PATH} via {addr}: status {status:?}"));
    }
    Ok(t.elapsed())
}

/// One connection kept open for every request, as a pooling client keeps
/// it: reopened (and that request pays the connect) when the server said
/// `Connection: close` (the proxy does after 100 requests).
struct KeptAlive {
    addr: String,
    token: Option<String>,
    stream: TcpStream,
    buf: Vec<u8>,
    closing: bool,
}

fn connect(addr: &str) -> Res<TcpStream> {
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

impl KeptAlive {
    fn open(addr: &str, token: Option<&str>) -> Res<KeptAlive> {
        Ok(KeptAlive {
            addr: addr.to_owned(),
            token: token.map(str::to_owned),
            stream: connect(addr)?,
            buf: Vec::new(),
            closing: false,
        })
    }

    /// One GET; fails unless 200.
    fn get(&mut self) -> Res<Duration> {
        let t = Instant::now();
        if self.closing {
            self.stream = connect(&self.addr)?;
            self.buf.clear();
            self.closing = false;
        }
        let req = request(&self.addr, self.token.as_deref(), false);
        let io = |e: std::io::Error| format!("keep-alive GET: {e}");
        self.stream.write_all(req.as_bytes()).map_err(io)?;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some((end, len, status, close)) = head(&self.buf) {
                if self.buf.len() >= end + len {
                    self.buf.drain(..end + len);
                    self.closing = close;
                    if status != 200 {
                        return Err(format!("keep-alive GET via {}: {status}", self.addr));
                    }
                    return Ok(t.elapsed());
                }
            }
            let n = self.stream.read(&mut chunk).map_err(io)?;
            if n == 0 {
                return Err(format!("{} closed the kept-alive connection", self.addr));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// The end of the head, the body length, the status and whether the server
/// closes the connection, once the head is in.
fn head(buf: &[u8]) -> Option<(usize, usize, u16, bool)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    let len = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let close = text.lines().any(|l| l == "connection: close");
    Some((end, len, status, close))
}

/// Times the owner lookup of a live loopback connection both ways; also
/// returns how many TCP sockets the kernel's table held.
fn owner_lookups() -> Res<(Vec<Duration>, Vec<Duration>, usize)> {
    use central_auth::peer::{procfs, sock_diag::SockDiag, TcpPeer};
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let _client = TcpStream::connect(local).map_err(|e| e.to_string())?;
    let (accepted, peer): (TcpStream, SocketAddr) = listener.accept().map_err(|e| e.to_string())?;
    let server = accepted.local_addr().map_err(|e| e.to_string())?;
    let mut diag = SockDiag::open().map_err(|e| format!("NETLINK_SOCK_DIAG: {e}"))?;
    let mut by_diag = Vec::with_capacity(LOOKUPS);
    let mut by_procfs = Vec::with_capacity(LOOKUPS);
    for _ in 0..LOOKUPS {
        let t = Instant::now();
        let a = diag.lookup(peer, server).map_err(|e| e.to_string())?;
        by_diag.push(t.elapsed());
        let t = Instant::now();
        let b = procfs::lookup(peer, server).map_err(|e| e.to_string())?;
        by_procfs.push(t.elapsed());
        if !matches!(a, TcpPeer::Uid(_)) || a != b {
            return Err(format!("owner lookups disagree: {a:?} / {b:?}"));
        }
    }
    by_diag.sort();
    by_procfs.sort();
    let sockets = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.lines().count().saturating_sub(1))
        .sum();
    Ok((by_diag, by_procfs, sockets))
}

/// Times the strict parse of the head curl sends.
fn head_parse() -> Vec<Duration> {
    let raw = format!(
        "GET {PATH}?limit=20&offset=0 HTTP/1.1\r\nHost: 127.0.0.1:8470\r\nUser-Agent: curl/8.14.1\r\nAccept: */*\r\n\r\n"
    );
    let limits = central_auth_http1::Limits::default();
    let mut out = Vec::with_capacity(PARSES);
    for _ in 0..PARSES {
        let t = Instant::now();
        let parsed = central_auth_http1::parse_head(std::hint::black_box(raw.as_bytes()), &limits);
        std::hint::black_box(&parsed);
        out.push(t.elapsed());
    }
    out.sort();
    out
}

struct Proxy {
    child: Child,
    addr: String,
}

impl Proxy {
    fn start(home: &Home) -> Res<Proxy> {
        let mut child = home
            .cmd("central-auth")
            .args([
                "proxy",
                "--profile",
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--rate",
                "100000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start central-auth proxy: {e}"))?;
        let mut line = String::new();
        if let Some(out) = child.stdout.take() {
            let _ = BufReader::new(out).read_line(&mut line);
        }
        match line.trim().strip_prefix("listening on http://") {
            Some(addr) => Ok(Proxy {
                addr: addr.to_owned(),
                child,
            }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "central-auth proxy did not announce its address ({line:?})"
                ))
            }
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}
