//! Fault soak: 16 workers make 500 token calls across several expiry cycles while
//! the simulator injects 5xx, 429 with Retry-After, slow answers and dropped
//! connections (some after rotating the pair). Every token handed out must be
//! accepted at that moment; refreshes must match expiry cycles plus recoveries.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use central_auth_e2e::*;

use crate::clients::ALL;

const CALLS: usize = 500;
const WORKERS: usize = 16;
const ACCESS_TTL: u64 = 3;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[test]
fn fault_soak_mixing_all_clients() {
    let home = TestHome::with(
        sim_with(ACCESS_TTL),
        &[ProfileOpts {
            with_password: true,
            min_valid: "1s",
            ..ProfileOpts::default()
        }],
    );
    home.import_download("test", 0);
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::new());
    let rejected = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    let tokens = Mutex::new(std::collections::HashSet::new());
    let done = std::sync::atomic::AtomicBool::new(false);
    let injected = AtomicUsize::new(0);
    let rotate_then_drops = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        // The fault injector: a fault on the token endpoint every 1.5 s.
        s.spawn(|| {
            let mut i = 0u32;
            while !done.load(Ordering::Relaxed) {
                // One pending fault at a time: refreshes are rare, so a queue of
                // faults would pile up against a single refresh.
                if !home.sim.pending_faults().is_empty() {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                let path_prefix = "/oauth2/token".to_owned();
                let fault = match i % 6 {
                    0 => Fault::Status {
                        path_prefix,
                        count: 1,
                        status: 503,
                        retry_after: None,
                    },
                    1 => Fault::Status {
                        path_prefix,
                        count: 1,
                        status: 429,
                        retry_after: Some(1),
                    },
                    2 => Fault::Delay {
                        path_prefix,
                        count: 1,
                        millis: 400,
                    },
                    3 => Fault::DropConnection {
                        path_prefix,
                        count: 1,
                    },
                    4 => Fault::Status {
                        path_prefix,
                        count: 1,
                        status: 502,
                        retry_after: None,
                    },
                    _ => {
                        rotate_then_drops.fetch_add(1, Ordering::Relaxed);
                        Fault::RotateThenDrop { count: 1 }
                    }
                };
                home.sim.inject(fault);
                injected.fetch_add(1, Ordering::Relaxed);
                i += 1;
                // Paced so that a retrying refresh meets at most one fault.
                std::thread::sleep(Duration::from_millis(1500));
            }
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (next, latencies, rejected, failures, tokens, home) =
                    (&next, &latencies, &rejected, &failures, &tokens, &home);
                s.spawn(move || loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= CALLS {
                        break;
                    }
                    let client = ALL[(n + w) % ALL.len()];
                    let t0 = Instant::now();
                    let out = client.run(home, &[]);
                    let took = t0.elapsed();
                    let token = (client.token_of)(&text(&out.stdout));
                    match token {
                        Some(t) if out.status.success() => {
                            if !home.sim.access_token_valid(&t) {
                                rejected.lock().unwrap().push(client.name);
                            }
                            tokens.lock().unwrap().insert(t);
                        }
                        _ => failures.lock().unwrap().push(format!(
                            "{}: {}",
                            client.name,
                            text(&out.stderr)
                        )),
                    }
                    latencies.lock().unwrap().push(took);
                    std::thread::sleep(Duration::from_millis(250));
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    let wall = start.elapsed();
    home.sim.clear_faults();
    let mut lat = latencies.into_inner().unwrap();
    lat.sort();
    let c = home.sim.counters();
    let distinct = tokens.into_inner().unwrap().len();
    // A token is renewed when less than min(1s, ttl/2) is left: every 2 s.
    let cycles = (wall.as_secs_f64() / (ACCESS_TTL as f64 - 1.0)).ceil() as u64 + 1;
    let rtd = rotate_then_drops.load(Ordering::Relaxed) as u64;
    let _ = writeln!(
        std::io::stderr(),
        "figures: fault soak: {CALLS} calls by {WORKERS} workers over {:.1}s, {} faults injected: p50 {} ms, p99 {} ms, max {} ms; refreshes {}, rejected refreshes {}, logins (recoveries) {} after {rtd} rotate-then-drops injected, token requests {}, expiry cycles <= {cycles}, distinct tokens handed out {distinct}, failed calls {}",
        wall.as_secs_f64(),
        injected.load(Ordering::Relaxed),
        percentile(&lat, 0.5).as_millis(),
        percentile(&lat, 0.99).as_millis(),
        lat.last().unwrap().as_millis(),
        c.refresh,
        c.refresh_rejected,
        c.login,
        c.token_requests,
        failures.lock().unwrap().len(),
    );
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "calls failed: {failures:#?}");
    let rejected = rejected.into_inner().unwrap();
    assert!(
        rejected.is_empty(),
        "tokens not accepted when handed out: {rejected:?}"
    );
    assert_eq!(lat.len(), CALLS);
    assert!(
        *lat.last().unwrap() < Duration::from_secs(60),
        "no caller waits past the lock bound"
    );
    // Every refresh that delivered its answer started a new cycle; those whose
    // answer was dropped after rotating were recovered by a login.
    assert!(
        c.refresh <= cycles + c.login,
        "refreshes {} exceed cycles {cycles} + recoveries {}",
        c.refresh,
        c.login
    );
    assert!(distinct as u64 <= c.refresh + c.login + 1);
    // The stampede counters, per cycle: a refresh token is only ever sent by the
    // one holder that read the record under the lock, so Central rejects it only
    // after a rotate-then-drop lost the answer, and each such loss costs exactly
    // one rejected refresh and one login. A caller deciding on a stale read would
    // send an already-rotated refresh token: rejected, with no login.
    assert!(c.refresh >= 1, "the soak crossed expiry cycles: {c:?}");
    assert_eq!(
        c.refresh_rejected, c.login,
        "every rejected refresh is a lost answer recovered by one login: {c:?}"
    );
    assert!(
        c.login <= rtd,
        "logins only recover rotate-then-drops ({rtd} injected): {c:?}"
    );
    // Every token request is accounted for: a refresh, a rejected refresh, a code
    // exchange, or a fault that answered in Central's place.
    assert!(
        c.token_requests <= c.refresh + c.refresh_rejected + c.code_exchange + c.faults_served,
        "token requests nobody accounts for: {c:?}"
    );
}
