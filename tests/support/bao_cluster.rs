//! A real 3-node OpenBao cluster with integrated (Raft) storage, default
//! settings (standbys answer reads: `disable_standby_reads` is not set), and
//! persistent storage under `target/e2e-bao-cluster-<pid>/`: initialized with
//! one unseal key, unsealed, KV version 2 enabled at `secret/`. Nodes can be
//! paused (SIGSTOP), resumed, killed, restarted (and unsealed again) and asked
//! to step down, as clusters fail in production. Stopped and removed when
//! dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::bao::bao_bin;
use crate::ports::free_port_pair;

/// One node: its process (when running), API port and data directory.
struct Node {
    child: Option<Child>,
    port: u16,
    config: PathBuf,
}

/// A running cluster.
pub struct BaoCluster {
    nodes: Vec<Node>,
    bin: PathBuf,
    dir: PathBuf,
    unseal_key: String,
    /// The root token.
    pub root: String,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(2)))
        .http_status_as_error(false)
        .build()
        .into()
}

impl BaoCluster {
    /// Starts `n` nodes, initializes and unseals them, and waits until one is
    /// active, the others are standbys, and KV v2 at `secret/` takes writes.
    /// `None` when bao is missing outside CI.
    pub fn start(n: usize) -> Option<BaoCluster> {
        let bin = bao_bin()?;
        let dir = crate::workspace()
            .join("target")
            .join(format!("e2e-bao-cluster-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let ports: Vec<u16> = (0..n)
            .map(|_| loop {
                let p = free_port_pair().expect("free port");
                // Node i's cluster port is its API port plus one.
                if p > 1024 {
                    break p;
                }
            })
            .collect();
        let mut nodes = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let data = dir.join(format!("n{i}"));
            std::fs::create_dir_all(&data).expect("node dir");
            let config = dir.join(format!("n{i}.hcl"));
            std::fs::write(
                &config,
                format!(
                    "storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"n{i}\"\n  retry_join {{ leader_api_addr = \"http://127.0.0.1:{}\" }}\n}}\nlistener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{}\"\n  tls_disable = true\n}}\napi_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{}\"\ndisable_mlock = true\n",
                    data.display(),
                    ports[0],
                    port + 1,
                    port + 1
                ),
            )
            .expect("node config");
            nodes.push(Node {
                child: None,
                port: *port,
                config,
            });
        }
        let mut cluster = BaoCluster {
            nodes,
            bin,
            dir,
            unseal_key: String::new(),
            root: String::new(),
        };
        for i in 0..n {
            cluster.spawn(i);
        }
        cluster.wait_status(0, &[501, 503], Duration::from_secs(30));
        let out = cluster.cli_at(
            0,
            "",
            &[
                "operator",
                "init",
                "-key-shares=1",
                "-key-threshold=1",
                "-format=json",
            ],
        );
        assert!(out.status.success(), "init: {}", crate::text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("init json");
        cluster.unseal_key = v["unseal_keys_b64"][0].as_str().expect("key").to_owned();
        cluster.root = v["root_token"].as_str().expect("root").to_owned();
        cluster.unseal(0);
        cluster.wait_status(0, &[200], Duration::from_secs(30));
        for i in 1..n {
            cluster.unseal(i);
            cluster.wait_status(i, &[429], Duration::from_secs(60));
        }
        let out = cluster.cli(&["secrets", "enable", "-path=secret", "kv-v2"]);
        assert!(out.status.success(), "kv: {}", crate::text(&out.stderr));
        let t = Instant::now();
        while !cluster
            .cli(&["kv", "put", "secret/e2e-ready", "ok=1"])
            .status
            .success()
        {
            assert!(t.elapsed() < Duration::from_secs(30), "KV v2 never ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        // Standbys answer reads themselves; each must have applied the
        // mount's upgrade too.
        for i in 0..n {
            let root = cluster.root.clone();
            while !cluster
                .cli_at(i, &root, &["kv", "get", "secret/e2e-ready"])
                .status
                .success()
            {
                assert!(
                    t.elapsed() < Duration::from_secs(60),
                    "n{i}: KV v2 never ready"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Some(cluster)
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("n{i}.log")))
            .expect("node log");
        let child = Command::new(&self.bin)
            .arg("server")
            .arg(format!("-config={}", node.config.display()))
            .env("HOME", &self.dir)
            .env_remove("VAULT_ADDR")
            .env_remove("BAO_ADDR")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("bao server starts");
        node.child = Some(child);
    }

    fn unseal(&self, i: usize) {
        let t = Instant::now();
        loop {
            let out = self.cli_at(i, "", &["operator", "unseal", &self.unseal_key]);
            if out.status.success() {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "unseal n{i}: {}",
                crate::text(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `sys/health` of node `i` (0 when it does not answer).
    pub fn health(&self, i: usize) -> u16 {
        agent()
            .get(format!("{}/v1/sys/health", self.addr(i)))
            .call()
            .map_or(0, |r| r.status().as_u16())
    }

    fn wait_status(&self, i: usize, want: &[u16], bound: Duration) {
        let t = Instant::now();
        while !want.contains(&self.health(i)) {
            assert!(
                t.elapsed() < bound,
                "node n{i} never answered {want:?} (log {})",
                self.dir.join(format!("n{i}.log")).display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Node `i`'s address.
    pub fn addr(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.nodes[i].port)
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The active node, waiting up to `bound` for one (asked of every node
    /// that answers).
    pub fn leader(&self, bound: Duration) -> usize {
        let t = Instant::now();
        loop {
            for i in 0..self.len() {
                if self.health(i) == 200 {
                    return i;
                }
            }
            assert!(t.elapsed() < bound, "no active node within {bound:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Faults: pausing, killing, restarting a node, and failing over.
impl BaoCluster {
    fn signal(&self, i: usize, sig: &str) {
        if let Some(child) = &self.nodes[i].child {
            let ok = Command::new("kill")
                .args([sig, &child.id().to_string()])
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "kill {sig} n{i}");
        }
    }

    /// Pauses node `i` (SIGSTOP): it holds its connections and answers nothing.
    pub fn pause(&self, i: usize) {
        self.signal(i, "-STOP");
    }

    /// Resumes a paused node.
    pub fn resume(&self, i: usize) {
        self.signal(i, "-CONT");
    }

    /// Kills node `i` (SIGKILL); [`BaoCluster::restart`] reaps it.
    pub fn kill(&self, i: usize) {
        self.signal(i, "-KILL");
    }

    /// Restarts a killed node on its data and unseals it; waits until it is a
    /// member again (active or standby).
    pub fn restart(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.spawn(i);
        self.wait_status(i, &[503], Duration::from_secs(30));
        self.unseal(i);
        self.wait_status(i, &[200, 429], Duration::from_secs(60));
        self.wait_serving(i);
    }

    /// Kills every node (a whole-store outage).
    pub fn kill_all(&self) {
        for i in 0..self.len() {
            self.kill(i);
        }
    }

    /// Restarts every node on its data, unseals them, and waits for a leader.
    pub fn restart_all(&mut self) {
        for i in 0..self.len() {
            if let Some(mut child) = self.nodes[i].child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
            self.spawn(i);
        }
        for i in 0..self.len() {
            self.wait_status(i, &[503], Duration::from_secs(30));
            self.unseal(i);
        }
        self.leader(Duration::from_secs(60));
        for i in 0..self.len() {
            self.wait_status(i, &[200, 429], Duration::from_secs(60));
            self.wait_serving(i);
        }
    }

    /// Seals node `i` (as an operator would, or a restart without unseal).
    pub fn seal(&self, i: usize) {
        let out = self.cli_at(i, &self.root, &["operator", "seal"]);
        assert!(out.status.success(), "seal: {}", crate::text(&out.stderr));
        self.wait_status(i, &[503], Duration::from_secs(30));
    }

    /// Unseals a sealed node and waits until it is a member again.
    pub fn unseal_again(&self, i: usize) {
        self.unseal(i);
        self.wait_status(i, &[200, 429], Duration::from_secs(60));
        self.wait_serving(i);
    }

    /// Asks the active node to step down (a failover).
    pub fn step_down(&self, i: usize) {
        let out = self.cli_at(i, &self.root, &["operator", "step-down"]);
        assert!(
            out.status.success(),
            "step-down: {}",
            crate::text(&out.stderr)
        );
    }

    /// Runs the `bao` CLI against the active node with the root token.
    pub fn cli(&self, args: &[&str]) -> Output {
        let leader = self.leader(Duration::from_secs(30));
        self.cli_at(leader, &self.root, args)
    }

    /// Runs the `bao` CLI against node `i` with `token`.
    pub fn cli_at(&self, i: usize, token: &str, args: &[&str]) -> Output {
        Command::new(&self.bin)
            .args(args)
            .env("BAO_ADDR", self.addr(i))
            .env("BAO_TOKEN", token)
            .env("HOME", &self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("bao cli runs")
    }
}

/// KV and policy helpers, through the active node with the root token.
impl BaoCluster {
    /// `bao kv get` data of `secret/KEY` from the active node; `None` when
    /// there is none. A cluster settling after a fault (a new leader, a node
    /// back) is asked again for up to 30 s, so only an absent key is `None`.
    pub fn kv_get(&self, key: &str) -> Option<serde_json::Value> {
        let t = Instant::now();
        loop {
            let out = self.cli(&["kv", "get", "-format=json", &format!("secret/{key}")]);
            if out.status.success() {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
                return Some(v["data"]["data"].clone());
            }
            let why = crate::text(&out.stderr);
            if why.contains("No value found") {
                return None;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "kv get secret/{key}: {why}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Waits until node `i` serves KV reads (a restarted node answers
    /// `sys/health` before its mounts are ready).
    fn wait_serving(&self, i: usize) {
        let t = Instant::now();
        loop {
            let out = self.cli_at(i, &self.root, &["kv", "get", "secret/central-auth/_probe"]);
            let why = crate::text(&out.stderr);
            if out.status.success() || why.contains("No value found") {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(60),
                "node n{i} never served KV reads: {why}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Writes a policy and returns a token carrying only it.
    pub fn token_with_policy(&self, name: &str, hcl: &str) -> String {
        let file = self.dir.join(format!("{name}.hcl"));
        std::fs::write(&file, hcl).expect("write policy");
        let out = self.cli(&["policy", "write", name, file.to_str().expect("utf-8")]);
        assert!(out.status.success(), "policy: {}", crate::text(&out.stderr));
        let out = self.cli(&[
            "token",
            "create",
            "-format=json",
            &format!("-policy={name}"),
            "-no-default-policy",
        ]);
        assert!(out.status.success(), "token: {}", crate::text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["auth"]["client_token"]
            .as_str()
            .expect("token")
            .to_owned()
    }
}

impl Drop for BaoCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
