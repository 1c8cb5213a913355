//! `cargo xtask bench`, fleet rows: the Vault / OpenBao store against a real
//! OpenBao dev server (from the `openbao` venv). A cached call (local cache
//! fresh), against the file store's cached call and `cat`; an uncached call
//! (`cache_ttl = "0s"`: local lock, lease, record read, release); and the wall
//! time of 4 machines × 16 processes on an expired token, which must refresh
//! exactly once, on the dev server and on a 3-node Raft cluster
//! (`bench_cluster`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{measure_interleaved, ms, percentile, Case};
use central_auth_e2e::ports::free_port_pair;
use central_auth_e2e::Home;

use crate::demo_home::{demo_home, import_download};
use crate::sim_process::{http, SimProcess};
use crate::util::{is_ci, say, Res};

/// Stampede rounds.
const ROUNDS: usize = 5;
const ROOT_TOKEN: &str = "bench-root";

/// An OpenBao dev server; killed on drop.
struct BaoProcess {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl BaoProcess {
    fn start(bin: &Path) -> Res<BaoProcess> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        // The dev server also listens on PORT+1 (cluster); find a free pair.
        let port = free_port_pair().map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .env("HOME", dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let bao = BaoProcess {
            child,
            addr: format!("127.0.0.1:{port}"),
            _dir: dir,
        };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(30) {
            if matches!(http(&bao.addr, "GET", "/v1/sys/health"), Ok((200, _))) {
                return Ok(bao);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the OpenBao dev server did not become ready in 30 s".into())
    }
}

impl Drop for BaoProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A demo home whose profile lives in the Vault store.
fn fleet_home(bin_dir: &Path, sim: &SimProcess, bao: &BaoProcess, extra: &str) -> Res<Home> {
    crate::bench_cluster::vault_home(
        bin_dir,
        sim,
        &format!("http://{}", bao.addr),
        ROOT_TOKEN,
        extra,
    )
}

/// Runs the fleet rows and prints their table. `cat` and the file store's cached
/// call come from the main table, for the ratios.
pub fn run(
    bin_dir: &Path,
    sim: &SimProcess,
    runs: usize,
    cat: Option<Duration>,
    file_cached: Option<Duration>,
) -> Res<()> {
    let bao_bin: PathBuf = crate::venv::venvs_dir().join("openbao/bin/bao");
    if !bao_bin.is_file() {
        let msg = format!(
            "{} is missing; `cargo xtask test` installs it (venv openbao)",
            bao_bin.display()
        );
        if is_ci() {
            return Err(msg);
        }
        say(format!("!!!!!! SKIPPED: fleet bench rows: {msg} !!!!!!"));
        return Ok(());
    }
    let bao = BaoProcess::start(&bao_bin)?;
    let file = demo_home(bin_dir, sim, "5m")?;
    import_download(&file, sim, 0)?;
    let cached = fleet_home(bin_dir, sim, &bao, "")?;
    let uncached = fleet_home(bin_dir, sim, &bao, "cache_ttl = \"0s\"\n")?;
    import_download(&cached, sim, 0)?;
    let homes = [
        (
            &file,
            "file store, cached (measured interleaved with the next)",
        ),
        (&cached, "vault store, cached (`cache_ttl` 30 s)"),
        (
            &uncached,
            "vault store, uncached (lock, lease, read, release)",
        ),
    ];
    for (home, _) in &homes {
        // Warm the local cache once.
        let _ = home.cmd("central-auth").arg("token").output();
    }
    let cases: Vec<Case> = homes
        .iter()
        .map(|(_, label)| Case {
            label: (*label).to_owned(),
            bin: Some("central-auth"),
            args: vec!["token".into()],
            env: vec![],
            stdin: vec![],
        })
        .collect();
    let rows: Vec<(&Home, &Case)> = homes.iter().map(|(h, _)| *h).zip(&cases).collect();
    let times = measure_interleaved(&rows, runs);
    let file_med = match &times[0] {
        Ok(t) => {
            let mut t = t.clone();
            t.sort();
            Some(percentile(&t, 50))
        }
        Err(_) => file_cached,
    };
    let mut rows = Vec::new();
    for ((_, label), result) in homes.iter().zip(times) {
        rows.push(match result {
            Ok(mut times) => {
                times.sort();
                let med = percentile(&times, 50);
                let ratio = |base: Option<Duration>| {
                    base.map_or("n/a".to_owned(), |b| {
                        format!("{:.2}×", med.as_secs_f64() / b.as_secs_f64().max(1e-9))
                    })
                };
                format!(
                    "| `central-auth token`, {label} | {} | {} | {} | {} |",
                    ms(med),
                    ms(percentile(&times, 90)),
                    ratio(file_med),
                    ratio(cat)
                )
            }
            Err(why) => format!("| `central-auth token`, {label} | {why} | | | |"),
        });
    }

    // 4 machines × 16 processes on an expired token.
    let machines = (0..4)
        .map(|_| fleet_home(bin_dir, sim, &bao, ""))
        .collect::<Res<Vec<_>>>()?;
    say(format!("fleet stampede 4 × 16: {ROUNDS} rounds"));
    let (mut walls, counts, mut bad) = crate::bench_cluster::stampede(&machines, sim, ROUNDS)?;
    drop(bao);
    let cluster = crate::bench_cluster::cluster_row(bin_dir, sim, &bao_bin);
    walls.sort();

    println!("Fleet store (OpenBao dev server on loopback), whole process spawn ({runs} runs):");
    println!();
    println!("| call | median | p90 | × file store cached | × cat |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!("{r}");
    }
    println!();
    println!("| fleet stampede (expired token) | median wall (dev server: {ROUNDS} rounds, cluster: 3) | refreshes per round |");
    println!("|---|---:|---|");
    println!(
        "| 4 machines × 16 `central-auth token` | {} | {} |",
        ms(percentile(&walls, 50)),
        counts.join(", ")
    );
    match cluster {
        Ok(row) => println!("{row}"),
        Err(e) => bad.push(format!("cluster stampede: {e}")),
    }
    println!();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}
