//! kubectl end-to-end: `central-auth-kube` as the exec credential plugin of a real
//! kubectl (a versioned Google Cloud SDK binary such as `kubectl.1.33`) and of the
//! Python `kubernetes` client, against a fake HTTPS API server
//! (`tests/fixtures/fake_apiserver.py`) that accepts only tokens `central-sim`
//! considers valid and logs every token it sees. kubectl only runs exec plugins
//! for `https://` servers, so each test makes a private CA and leaf with the
//! `openssl` CLI. The plugin's own protocol edge cases run against the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use central_auth_e2e::kube::{make_certs, run_ok, ApiServer};
use central_auth_e2e::*;

const PLUGIN: &str = "central-auth-kube";
const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// A real kubectl: the newest versioned binary of the Google Cloud SDK (the
/// `/usr/bin/kubectl` dispatcher is a wrapper), else `kubectl` on PATH.
pub(crate) fn kubectl() -> Option<PathBuf> {
    let sdk = Path::new("/usr/lib/google-cloud-sdk/bin");
    let mut candidates: Vec<PathBuf> = (27..=40)
        .rev()
        .map(|minor| sdk.join(format!("kubectl.1.{minor}")))
        .collect();
    candidates.extend(on_path("kubectl"));
    require_tool("kubectl", &candidates)
}

/// The oldest versioned kubectl present (v1beta1 coverage), else [`kubectl`].
fn oldest_kubectl() -> Option<PathBuf> {
    let sdk = Path::new("/usr/lib/google-cloud-sdk/bin");
    (20..=40)
        .map(|minor| sdk.join(format!("kubectl.1.{minor}")))
        .find(|p| p.exists())
        .or_else(kubectl)
}

/// How the kubeconfig's exec entry and cluster look.
pub(crate) struct KubeOpts<'a> {
    api_version: &'a str,
    args: &'a [&'a str],
    /// `spec.cluster.config` via the cluster extension `client.authentication.k8s.io/exec`.
    cluster_profile: Option<&'a str>,
}

/// The kubeconfig the tests use (`docs/kubectl.md` shows the same).
fn kubeconfig(server: &str, ca_data: &str, o: &KubeOpts<'_>) -> String {
    let args = o
        .args
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let extension = match o.cluster_profile {
        Some(p) => format!(
            "    extensions:\n    - name: client.authentication.k8s.io/exec\n      extension:\n        profile: {p}\n"
        ),
        None => String::new(),
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: central-lab
  cluster:
    server: {server}
    certificate-authority-data: {ca_data}
{extension}users:
- name: central
  user:
    exec:
      apiVersion: {api}
      command: {plugin}
      args: [{args}]
      interactiveMode: Never
      provideClusterInfo: true
      installHint: \"install central-auth-kube, then run `central-auth login`\"
contexts:
- name: central-lab
  context:
    cluster: central-lab
    user: central
    namespace: default
current-context: central-lab
",
        api = o.api_version,
        plugin = bin(PLUGIN).display(),
    )
}

/// Everything one kubectl test needs.
pub(crate) struct Kube {
    pub(crate) home: TestHome,
    scratch: tempfile::TempDir,
    server: ApiServer,
    kubectl: PathBuf,
    /// The CA for `certificate-authority-data`.
    ca: String,
}

impl Kube {
    /// `None` when kubectl, openssl or python3 is missing (skipped loudly).
    pub(crate) fn new(home: TestHome, opts: &KubeOpts<'_>) -> Option<Kube> {
        let kubectl = kubectl()?;
        Kube::with_tool(home, opts, kubectl)
    }

    pub(crate) fn with_tool(home: TestHome, opts: &KubeOpts<'_>, kubectl: PathBuf) -> Option<Kube> {
        let scratch = tempfile::Builder::new()
            .prefix("central-auth-kube-e2e-")
            .tempdir()
            .unwrap();
        let ca = make_certs(scratch.path())?;
        let server = ApiServer::start(scratch.path(), &home.sim.url())?;
        std::fs::write(
            scratch.path().join("kubeconfig"),
            kubeconfig(&server.url(), &ca, opts),
        )
        .unwrap();
        Some(Kube {
            home,
            scratch,
            server,
            kubectl,
            ca,
        })
    }

    fn kubeconfig_path(&self) -> PathBuf {
        self.scratch.path().join("kubeconfig")
    }

    /// `HOME=<temp> kubectl --kubeconfig ... --cache-dir ... ARGS`.
    pub(crate) fn kubectl(&self, args: &[&str]) -> Output {
        let mut c = Command::new(&self.kubectl);
        self.home.apply_env(&mut c);
        c.env_remove("KUBECONFIG")
            .arg(format!("--kubeconfig={}", self.kubeconfig_path().display()))
            .arg(format!(
                "--cache-dir={}",
                self.scratch.path().join("kcache").display()
            ))
            .arg("--request-timeout=20s")
            .args(args);
        c.output().unwrap()
    }

    pub(crate) fn kubectl_ok(&self, args: &[&str]) -> Output {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed ({:?}): {}",
            out.status,
            text(&out.stderr)
        );
        out
    }

    /// Asserts every request reached the server with `token` and was accepted.
    pub(crate) fn assert_all_seen_with(&self, token: &str) {
        let seen = self.server.seen();
        assert!(!seen.is_empty(), "the fake API server saw no request");
        for s in &seen {
            assert_eq!(s.token.as_deref(), Some(token), "{s:?}");
            assert!(s.ok, "{s:?}");
        }
    }
}

pub(crate) fn get_version(k: &Kube) {
    let out = k.kubectl_ok(&["get", "--raw", "/version"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["gitVersion"], "v1.33.0-fake");
}

pub(crate) fn exec_entry(api_version: &str) -> KubeOpts<'_> {
    KubeOpts {
        api_version,
        args: &["--profile", "test"],
        cluster_profile: None,
    }
}

#[test]
fn kubectl_v1_gets_version_and_pods_with_the_stored_token() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let Some(k) = Kube::new(home, &exec_entry(V1)) else {
        return;
    };
    let stored = k.home.token("test");
    get_version(&k);
    let out = k.kubectl_ok(&["get", "pods"]);
    assert!(
        text(&out.stderr).contains("No resources found in default namespace"),
        "{}",
        text(&out.stderr)
    );
    k.assert_all_seen_with(&stored);
    let paths: Vec<String> = k.server.seen().into_iter().map(|s| s.path).collect();
    assert!(
        paths.iter().any(|p| p == "/api/v1/namespaces/default/pods"),
        "{paths:?}"
    );
    let c = k.home.sim.counters();
    assert_eq!(
        (c.refresh, c.login),
        (0, 0),
        "a valid token needs no refresh"
    );
}

#[test]
fn kubectl_v1beta1_gets_version() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let Some(kubectl) = oldest_kubectl() else {
        return;
    };
    let Some(k) = Kube::with_tool(home, &exec_entry(V1BETA1), kubectl) else {
        return;
    };
    let stored = k.home.token("test");
    get_version(&k);
    k.kubectl_ok(&["get", "pods"]);
    k.assert_all_seen_with(&stored);
}

#[test]
fn expired_token_is_refreshed_exactly_once() {
    let home = TestHome::new();
    let download = home.import_download("test", 7300);
    let old = download["access_token"].as_str().unwrap().to_owned();
    let Some(k) = Kube::new(home, &exec_entry(V1)) else {
        return;
    };
    // Four kubectl processes at once: one refresh for all of them.
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..4).map(|_| s.spawn(|| get_version(&k))).collect();
        for r in runs {
            r.join().unwrap();
        }
    });
    assert_one_refresh(
        &k.home.sim.counters(),
        "4 kubectl at once on an expired token",
    );
    // A second kubectl process reuses the refreshed token.
    k.kubectl_ok(&["get", "pods"]);
    assert_one_refresh(
        &k.home.sim.counters(),
        "a second kubectl: refreshed once, not per call",
    );
    let fresh = k.home.token("test");
    assert_ne!(fresh, old);
    k.assert_all_seen_with(&fresh);
}

#[test]
fn cluster_extension_picks_the_profile_and_a_missing_login_is_explained() {
    let profiles = [
        ProfileOpts {
            name: "first".into(),
            ..ProfileOpts::default()
        },
        ProfileOpts {
            name: "lab".into(),
            ..ProfileOpts::default()
        },
    ];
    let home = TestHome::with(sim_with(7200), &profiles);
    home.import_download("lab", 0);
    let opts = KubeOpts {
        api_version: V1,
        args: &[],
        cluster_profile: Some("lab"),
    };
    let Some(k) = Kube::new(home, &opts) else {
        return;
    };
    get_version(&k);
    let lab = k.home.token("lab");
    k.assert_all_seen_with(&lab);

    // Without the extension the default profile `first` is used, which holds no
    // token: kubectl fails and shows the plugin's one line saying what to run.
    let plain = KubeOpts {
        cluster_profile: None,
        ..opts
    };
    std::fs::write(
        k.kubeconfig_path(),
        kubeconfig(&k.server.url(), &k.ca, &plain),
    )
    .unwrap();
    let before = k.server.seen().len();
    let out = k.kubectl(&["get", "--raw", "/version"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("central-auth-kube: profile \"first\": no token is stored; run `central-auth login --profile first`"),
        "{err}"
    );
    assert!(err.contains("exit code 3"), "{err}");
    assert_eq!(k.server.seen().len(), before, "no request without a token");
}

#[test]
fn python_kubernetes_client_gets_the_token() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let Some(python) = venv_bin("kubernetes", "python") else {
        return;
    };
    let Some(k) = Kube::with_tool(home, &exec_entry(V1), python.clone()) else {
        return;
    };
    let script = r#"
import json, sys
from kubernetes import client, config
cfg = client.Configuration()
config.load_kube_config(config_file=sys.argv[1], client_configuration=cfg)
v = client.VersionApi(client.ApiClient(cfg)).get_code()
print(json.dumps({"git_version": v.git_version, "bearer": cfg.api_key["BearerToken"]}))
"#;
    let mut c = Command::new(&python);
    k.home.apply_env(&mut c);
    c.env_remove("KUBECONFIG")
        .arg("-c")
        .arg(script)
        .arg(k.kubeconfig_path());
    let out = run_ok(&mut c);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stored = k.home.token("test");
    assert_eq!(v["git_version"], "v1.33.0-fake");
    assert_eq!(v["bearer"], format!("Bearer {stored}"));
    k.assert_all_seen_with(&stored);
}

/// The binary run directly, as kubectl would, for the protocol's edges.
#[test]
fn plugin_protocol_edges() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let stored = home.token("test");
    let run = |info: Option<&str>, args: &[&str]| {
        let mut c = home.cmd(PLUGIN);
        c.args(args);
        match info {
            Some(i) => c.env("KUBERNETES_EXEC_INFO", i),
            None => c.env_remove("KUBERNETES_EXEC_INFO"),
        };
        c.output().unwrap()
    };

    // No KUBERNETES_EXEC_INFO: a v1 answer.
    let out = run(None, &["--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["apiVersion"], V1);
    assert_eq!(v["kind"], "ExecCredential");
    assert_eq!(v["status"]["token"], stored.as_str());
    let ts = v["status"]["expirationTimestamp"].as_str().unwrap();
    let parsed =
        time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(ts.len() == 20 && ts.ends_with('Z'), "{ts}");
    assert!(parsed > time::OffsetDateTime::now_utc() + time::Duration::minutes(100));

    // v1beta1, interactive: the same version back, stdin untouched.
    let beta = format!(
        r#"{{"kind":"ExecCredential","apiVersion":"{V1BETA1}","spec":{{"interactive":true}}}}"#
    );
    let out = run(Some(&beta), &["--profile", "test"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["apiVersion"], V1BETA1);

    // Unknown version: exit 2, one line on stderr, nothing on stdout.
    let alpha = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}"#;
    let out = run(Some(alpha), &["--profile", "test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("central-auth-kube: KUBERNETES_EXEC_INFO asks for apiVersion \"client.authentication.k8s.io/v1alpha1\""), "{err}");
    assert!(!err.contains(&stored));

    // Malformed JSON: exit 2.
    let out = run(Some("{oops"), &["--profile", "test"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());

    // Bad flag: exit 2, one line.
    let out = run(None, &["--profil", "test"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );

    // --help documents the exit codes.
    let out = run(None, &["--help"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("Exit codes:"));
}
