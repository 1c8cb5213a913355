//! A fake Kubernetes API server for the end-to-end tests: a private CA and a
//! leaf for 127.0.0.1 made with the `openssl` CLI, and
//! `tests/fixtures/fake_apiserver.py` serving HTTPS with them. kubectl's exec
//! plugin tests use its resource routes (tokens checked with the simulator);
//! the fleet tests use its TokenReview endpoint, which reviews as
//! authenticated only the one service account JWT it minted at start.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{on_path, require_tool, text, FixtureServer};

/// Runs `c`, asserting it succeeded; its output.
pub fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed ({:?}): {}",
        out.status,
        text(&out.stderr)
    );
    out
}

/// A private test CA made with the openssl CLI in a directory: `ca.pem`,
/// `ca.key`, and one key pair (`leaf.key`, `leaf.csr`) that [`TestCa::leaf`]
/// signs into certificates with any SAN and validity.
pub struct TestCa {
    openssl: PathBuf,
    dir: PathBuf,
}

impl TestCa {
    /// Makes the CA and the leaf key in `dir`. `None` when openssl is missing
    /// (loud skip, a failure under CI).
    pub fn new(dir: &Path) -> Option<TestCa> {
        let ca = TestCa {
            openssl: require_tool("openssl", &on_path("openssl"))?,
            dir: dir.to_path_buf(),
        };
        ca.ssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=e2e-ca",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        ca.ssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
        ]);
        Some(ca)
    }

    /// Signs `NAME.pem` for the leaf key: a server certificate with
    /// `subjectAltName=SAN`, valid for `days` (negative: already expired).
    pub fn leaf(&self, name: &str, san: &str, days: &str) {
        std::fs::write(
            self.dir.join(format!("{name}.ext")),
            format!("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName={san}\n"),
        )
        .unwrap();
        self.ssl(&[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            days,
            "-extfile",
            &format!("{name}.ext"),
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// The CA certificate as one line of base64 (`certificate-authority-data`).
    pub fn ca_base64(&self) -> String {
        text(&self.ssl(&["base64", "-A", "-in", "ca.pem"]).stdout)
            .trim()
            .to_owned()
    }

    fn ssl(&self, args: &[&str]) -> Output {
        run_ok(
            Command::new(&self.openssl)
                .current_dir(&self.dir)
                .args(args)
                .stdin(Stdio::null()),
        )
    }
}

/// CA (`ca.pem`) + leaf (`leaf.pem`, `leaf.key`; SAN IP:127.0.0.1) made with the
/// openssl CLI in `dir`; returns the CA as base64 for
/// `certificate-authority-data`. `None` when openssl is missing (loud skip).
pub fn make_certs(dir: &Path) -> Option<String> {
    let ca = TestCa::new(dir)?;
    ca.leaf("leaf", "IP:127.0.0.1,DNS:localhost", "2");
    Some(ca.ca_base64())
}

/// The fake API server (certificates from [`make_certs`] in the same
/// directory); killed on drop.
pub struct ApiServer {
    /// Killed on drop.
    #[allow(dead_code)]
    server: FixtureServer,
    /// Its port on 127.0.0.1.
    pub port: u16,
    log: PathBuf,
}

/// One request the fake API server saw.
#[derive(Debug)]
pub struct Seen {
    /// The request path.
    pub path: String,
    /// The bearer token of a resource request (never a reviewed JWT).
    pub token: Option<String>,
    /// Accepted (resource request) or reviewed as authenticated (TokenReview).
    pub ok: bool,
    /// A TokenReview.
    pub review: bool,
    /// A TokenReview whose caller authenticated with the reviewed JWT itself.
    pub self_bearer: bool,
}

impl ApiServer {
    /// Serves the resource routes, accepting tokens `sim_url` calls valid.
    pub fn start(dir: &Path, sim_url: &str) -> Option<ApiServer> {
        ApiServer::start_with(dir, &["--sim-url".into(), sim_url.into()])
    }

    /// Serves TokenReview for one service account: mints its JWT into
    /// `jwt_file` (0600) and reviews only that JWT as authenticated.
    pub fn token_reviewer(
        dir: &Path,
        jwt_file: &Path,
        namespace: &str,
        name: &str,
    ) -> Option<ApiServer> {
        ApiServer::start_with(
            dir,
            &[
                "--issue-jwt".into(),
                jwt_file.into(),
                "--sa-namespace".into(),
                namespace.into(),
                "--sa-name".into(),
                name.into(),
            ],
        )
    }

    fn start_with(dir: &Path, extra: &[OsString]) -> Option<ApiServer> {
        let log = dir.join("apiserver.log");
        let (cert, key) = (dir.join("leaf.pem"), dir.join("leaf.key"));
        let mut args: Vec<OsString> = vec![
            "--cert".into(),
            cert.into(),
            "--key".into(),
            key.into(),
            "--log".into(),
            log.clone().into(),
        ];
        args.extend(extra.iter().cloned());
        let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let server = FixtureServer::start("fake_apiserver.py", &refs)?;
        let port = server.port;
        Some(ApiServer { server, port, log })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        let Ok(log) = std::fs::read_to_string(&self.log) else {
            return Vec::new();
        };
        log.lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                Seen {
                    path: v["path"].as_str().unwrap().to_owned(),
                    token: v["token"].as_str().map(str::to_owned),
                    ok: v["ok"].as_bool().unwrap(),
                    review: v["review"].as_bool().unwrap_or(false),
                    self_bearer: v["self_bearer"].as_bool().unwrap_or(false),
                }
            })
            .collect()
    }
}
