//! `cargo xtask bench`, the fleet stampede: 4 machines × 16 `central-auth
//! token` at once on an expired token, which must refresh exactly once; on the
//! dev server, and on a 3-node OpenBao Raft cluster with default settings
//! (standbys answer reads) with the machines spread over the nodes.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use central_auth_e2e::bao_cluster::BaoCluster;
use central_auth_e2e::Home;

use crate::demo_home::{demo_home, import_download};
use crate::measure::{ms, percentile};
use crate::sim_process::{one_refresh, SimProcess};
use crate::util::{say, Res};

/// Cluster stampede rounds (each start of a cluster costs seconds, the rounds
/// do not).
const CLUSTER_ROUNDS: usize = 3;

/// Runs `rounds` stampedes over `machines` (the first imports an expired
/// token each round): the wall times, the refreshes of each round, and what
/// went wrong.
pub(crate) fn stampede(
    machines: &[Home],
    sim: &SimProcess,
    rounds: usize,
) -> Res<(Vec<Duration>, Vec<String>, Vec<String>)> {
    let mut walls = Vec::new();
    let mut counts = Vec::new();
    let mut bad = Vec::new();
    for _ in 0..rounds {
        // Rounds as if `cache_ttl` apart: a fresh cache would rightly keep
        // serving the previous round's (still valid) token.
        for m in machines {
            let _ = std::fs::remove_dir_all(m.path().join("state/fleet"));
        }
        import_download(&machines[0], sim, 2 * 3600)?;
        let before = sim.counters()?;
        let t = Instant::now();
        let children = (0..64)
            .map(|i| {
                machines[i % machines.len()]
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
    Ok((walls, counts, bad))
}

/// The cluster row of the stampede table: a 3-node cluster started under
/// `target/`, 4 machines spread over its nodes.
pub(crate) fn cluster_row(bin_dir: &Path, sim: &SimProcess, bao_bin: &Path) -> Res<String> {
    if !bao_bin.is_file() {
        return Err(format!("{} is missing", bao_bin.display()));
    }
    say(format!(
        "fleet stampede on a 3-node cluster: {CLUSTER_ROUNDS} rounds"
    ));
    let cluster = BaoCluster::start(3).ok_or("bao is missing")?;
    let machines = (0..4)
        .map(|i| vault_home(bin_dir, sim, &cluster.addr(i % 3), &cluster.root, ""))
        .collect::<Res<Vec<_>>>()?;
    let (walls, counts, bad) = stampede(&machines, sim, CLUSTER_ROUNDS)?;
    if !bad.is_empty() {
        return Err(bad.join("; "));
    }
    Ok(format!(
        "| 4 machines × 16 `central-auth token`, 3-node Raft cluster (machines spread over the nodes) | {} | {} |",
        ms(percentile(&walls, 50)),
        counts.join(", ")
    ))
}

/// A demo home whose profile lives in the Vault store at `address`, with the
/// Vault token `token` in a file.
pub(crate) fn vault_home(
    bin_dir: &Path,
    sim: &SimProcess,
    address: &str,
    token: &str,
    extra: &str,
) -> Res<Home> {
    let home = demo_home(bin_dir, sim, "5m")?;
    let token_file = home.path().join("vault-token");
    std::fs::write(&token_file, token).map_err(|e| format!("cannot write the token file: {e}"))?;
    let config = format!(
        "{}store = \"team\"\n\n[stores.team]\nkind = \"vault\"\naddress = \"{address}\"\ntoken_file = \"{}\"\n{extra}",
        home.config()?,
        token_file.display()
    );
    std::fs::write(home.path().join("config.toml"), config)
        .map_err(|e| format!("cannot write config.toml: {e}"))?;
    Ok(home)
}
