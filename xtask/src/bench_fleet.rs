//! `cargo xtask bench`, fleet rows: the Vault / OpenBao store against a real
//! OpenBao dev server (from the `openbao` venv). A cached call (local cache
//! fresh), against the file store's cached call and `cat`; an uncached call
//! (`cache_ttl = "0s"`: local lock, lease, record read, release); and the wall
//! time of 4 machines × 16 processes on an expired token, which must refresh
//! exactly once.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{measure_interleaved, ms, percentile, Case};
use central_auth_e2e::ports::free_port_pair;
use central_auth_e2e::Home;

use crate::demo_home::{demo_home, import_download};
use crate::sim_process::{http, one_refresh, SimProcess};
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
    let home = demo_home(bin_dir, sim, "5m")?;
    let token_file = home.path().join("vault-token");
    std::fs::write(&token_file, ROOT_TOKEN)
        .map_err(|e| format!("cannot write the token file: {e}"))?;
    let config = format!(
        "{}store = \"team\"\n\n[stores.team]\nkind = \"vault\"\naddress = \"http://{}\"\ntoken_file = \"{}\"\n{extra}",
        home.config()?,
        bao.addr,
        token_file.display()
    );
    std::fs::write(home.path().join("config.toml"), config)
        .map_err(|e| format!("cannot write config.toml: {e}"))?;
    Ok(home)
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
    let mut walls = Vec::new();
    let mut counts = Vec::new();
    let mut bad = Vec::new();
    say(format!("fleet stampede 4 × 16: {ROUNDS} rounds"));
    for _ in 0..ROUNDS {
        // Rounds as if `cache_ttl` apart: a fresh cache would rightly keep
        // serving the previous round's (still valid) token.
        for m in &machines {
            let _ = std::fs::remove_dir_all(m.path().join("state/fleet"));
        }
        import_download(&machines[0], sim, 2 * 3600)?;
        let before = sim.counters()?;
        let t = Instant::now();
        let children = (0..64)
            .map(|i| {
                machines[i % 4]
                    .cmd("central-auth")
                    .arg("token")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot start central-auth: {e}"))
            })
            .collect::<Res<Vec<_>>>()?;
        let mut tokens = Vec::new();
        for c in children {
            let out = c.wait_with_output().map_err(|e| e.to_string())?;
            if !out.status.success() {
                bad.push(format!(
                    "a fleet caller failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            tokens.push(out.stdout);
        }
        walls.push(t.elapsed());
        let after = sim.counters()?;
        let n = after["refresh"].as_u64().unwrap_or(0) - before["refresh"].as_u64().unwrap_or(0);
        if let Err(e) = one_refresh(&before, &after) {
            bad.push(format!("fleet stampede: {e}"));
        }
        if tokens.iter().any(|t| *t != tokens[0]) {
            bad.push("fleet stampede: callers printed different tokens".to_owned());
        }
        counts.push(n.to_string());
    }
    walls.sort();

    println!("Fleet store (OpenBao dev server on loopback), whole process spawn ({runs} runs):");
    println!();
    println!("| call | median | p90 | × file store cached | × cat |");
    println!("|---|---:|---:|---:|---:|");
    for r in &rows {
        println!("{r}");
    }
    println!();
    println!("| fleet stampede (expired token) | median wall of {ROUNDS} | refreshes per round |");
    println!("|---|---:|---|");
    println!(
        "| 4 machines × 16 `central-auth token` | {} | {} |",
        ms(percentile(&walls, 50)),
        counts.join(", ")
    );
    println!();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(bad.join("; "))
    }
}
