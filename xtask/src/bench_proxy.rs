//! `cargo xtask bench`, proxy part: the latency `central-auth proxy` adds per
//! request (p50, p99) against calling the simulator directly with the token, and
//! requests per second at saturation. The proxy runs with `--rate 100000` so its
//! budget does not hide its own cost.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::{say, DemoHome, Res, SimProcess};

/// Sequential requests per latency row.
const LATENCY_RUNS: usize = 500;
/// Concurrent clients and duration of the saturation run.
const SATURATION_CLIENTS: usize = 16;
const SATURATION_FOR: Duration = Duration::from_secs(3);
const PATH: &str = "/monitoring/v1/aps";

/// Measures and prints the proxy table.
pub fn run(home: &DemoHome, sim: &SimProcess) -> Res<()> {
    home.import_download(sim, 0)?;
    let token = home.token()?;
    let mut proxy = Proxy::start(home)?;
    let result = measure(&proxy.addr, &sim.addr, &token);
    proxy.stop();
    let (direct, proxied, rps) = result?;
    let added = |p: usize| {
        percentile(&proxied, p)
            .as_secs_f64()
            .max(percentile(&direct, p).as_secs_f64())
            - percentile(&direct, p).as_secs_f64()
    };
    println!();
    println!("`central-auth proxy`, {LATENCY_RUNS} sequential GET {PATH} (new connection each):");
    println!();
    println!("| path | p50 | p99 |");
    println!("|---|---:|---:|");
    println!(
        "| direct to the simulator, with the token | {} | {} |",
        ms(percentile(&direct, 50)),
        ms(percentile(&direct, 99))
    );
    println!(
        "| through the proxy, no credentials | {} | {} |",
        ms(percentile(&proxied, 50)),
        ms(percentile(&proxied, 99))
    );
    println!(
        "| added by the proxy | {:.2} ms | {:.2} ms |",
        added(50) * 1000.0,
        added(99) * 1000.0
    );
    println!();
    println!("Saturation: {SATURATION_CLIENTS} clients for {} s through the proxy: {rps:.0} requests/s (all 200)", SATURATION_FOR.as_secs());
    Ok(())
}

type Measured = (Vec<Duration>, Vec<Duration>, f64);

fn measure(proxy: &str, sim: &str, token: &str) -> Res<Measured> {
    say(format!(
        "proxy: {LATENCY_RUNS} direct and {LATENCY_RUNS} proxied requests"
    ));
    let mut direct = Vec::with_capacity(LATENCY_RUNS);
    let mut proxied = Vec::with_capacity(LATENCY_RUNS);
    for _ in 0..LATENCY_RUNS {
        direct.push(timed_get(sim, Some(token))?);
        proxied.push(timed_get(proxy, None)?);
    }
    direct.sort();
    proxied.sort();
    say(format!(
        "proxy: saturation with {SATURATION_CLIENTS} clients"
    ));
    let started = Instant::now();
    let counts: Vec<Res<usize>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..SATURATION_CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0;
                    while started.elapsed() < SATURATION_FOR {
                        timed_get(proxy, None)?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("client thread panicked".into()))
            })
            .collect()
    });
    let mut total = 0;
    for c in counts {
        total += c?;
    }
    Ok((
        direct,
        proxied,
        total as f64 / started.elapsed().as_secs_f64(),
    ))
}

/// One GET; fails unless the answer is 200.
fn timed_get(addr: &str, token: Option<&str>) -> Res<Duration> {
    let t = Instant::now();
    let io = |e: std::io::Error| format!("GET http://{addr}{PATH}: {e}");
    let mut s = TcpStream::connect(addr).map_err(io)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(io)?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {PATH} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .map_err(io)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(io)?;
    let status = crate::util::parse_response(&raw).map(|(s, _)| s);
    if status != Some(200) {
        return Err(format!("GET {PATH} via {addr}: status {status:?}"));
    }
    Ok(t.elapsed())
}

struct Proxy {
    child: Child,
    addr: String,
}

impl Proxy {
    fn start(home: &DemoHome) -> Res<Proxy> {
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
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
