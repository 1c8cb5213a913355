//! Secret-leak audit: every command and helper, on success and failure paths, with
//! `-v`. stdout, stderr and every file written outside the token store are scanned
//! for each secret (client secret, password, access and refresh tokens, auth code,
//! session cookie). The only allowed place is the protocol output of a command whose
//! job is to print the token. A finding names the command and the stream.
//!
//! `central-auth -v proxy` is audited the same way: its stdout and `-v` stderr
//! over requests carrying a client's own token (header and `access_token` query),
//! a token Central killed (reject, refresh, retry) and a dead chain, and every
//! file it writes (the quota file).
//!
//! Every output and every file snapshot is kept and scanned once, at the end,
//! against the final secret list: a command's own freshly minted tokens (say, the
//! new refresh token a `-v refresh` might log) are only known after it ran.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};

use central_auth_e2e::*;

use crate::clients::ALL;

/// One captured command: its name, stdout, stderr, and the token its protocol
/// output may carry on stdout.
struct Capture {
    what: String,
    stdout: String,
    stderr: String,
    token_allowed_on_stdout: Option<String>,
}

/// Everything the commands printed and every file state seen under the home.
/// Nothing is judged while the commands run: a command's own freshly minted
/// tokens join the secret list only after it ran, so each capture is scanned at
/// the end against the final list (every secret known by then, including every
/// token the simulator ever issued).
struct Audit {
    secrets: Vec<(String, String)>,
    captures: Vec<Capture>,
    /// Distinct (path, content) snapshots of the files under the home.
    files: std::collections::BTreeSet<(std::path::PathBuf, Vec<u8>)>,
}

impl Audit {
    /// Keeps a command's output and snapshots the home's files after it.
    fn capture(
        &mut self,
        home: &TestHome,
        what: &str,
        out: &Output,
        token_allowed_on_stdout: Option<&str>,
    ) {
        self.captures.push(Capture {
            what: what.to_owned(),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
            token_allowed_on_stdout: token_allowed_on_stdout
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
        });
        self.snapshot_files(home);
    }

    /// Every file under the home except the token records themselves.
    fn snapshot_files(&mut self, home: &TestHome) {
        let store = home.path().join("state").join("profiles");
        for (path, bytes) in tree(home.path()) {
            let in_store = path.parent().and_then(|d| d.parent()) == Some(store.as_path())
                && path.file_name().is_some_and(|n| n == "token.json");
            if !in_store {
                self.files.insert((path, bytes));
            }
        }
    }

    /// Scans every capture and file snapshot against the final secret list.
    fn findings(&self) -> Vec<String> {
        let mut findings = Vec::new();
        for (name, secret) in &self.secrets {
            if secret.len() < 6 {
                continue;
            }
            let secret = secret.as_str();
            for c in &self.captures {
                let allowed = c.token_allowed_on_stdout.as_deref() == Some(secret);
                if c.stdout.contains(secret) && !allowed {
                    findings.push(format!("{}: stdout shows the {name}", c.what));
                }
                if c.stderr.contains(secret) {
                    findings.push(format!("{}: stderr shows the {name}", c.what));
                }
            }
            for (path, bytes) in &self.files {
                if String::from_utf8_lossy(bytes).contains(secret) {
                    findings.push(format!("file {} holds the {name}", path.display()));
                }
            }
        }
        findings.sort();
        findings.dedup();
        findings
    }
}

/// One HTTP/1.1 request to the proxy at `addr`; returns the status code.
fn proxy_get(addr: &str, target: &str, authorization: Option<&str>) -> u16 {
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let auth = authorization
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Runs `central-auth -v proxy` for profile `test`, lets `requests` use its
/// address, stops it with SIGTERM and captures its streams and the home's files.
fn audit_proxy(home: &TestHome, audit: &mut Audit, what: &str, requests: impl FnOnce(&str)) {
    let mut child = home
        .cmd("central-auth")
        .args([
            "-v",
            "proxy",
            "--profile",
            "test",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim_end()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("{what}: first line {first:?}"))
        .to_owned();
    let mut err = child.stderr.take().unwrap();
    let drain = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err.read_to_end(&mut buf);
        buf
    });
    requests(&addr);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut rest = Vec::new();
    let _ = stdout.read_to_end(&mut rest);
    let out = Output {
        status,
        stdout: [first.into_bytes(), rest].concat(),
        stderr: drain.join().unwrap(),
    };
    assert!(out.status.success(), "{what}: {}", text(&out.stderr));
    audit.capture(home, what, &out, None);
}

fn record_secrets(home: &TestHome, audit: &mut Audit) {
    if let Ok(bytes) = std::fs::read(home.record_path("test")) {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for key in ["access_token", "refresh_token"] {
            if let Some(s) = v[key].as_str() {
                audit.secrets.push((key.replace('_', " "), s.to_owned()));
            }
        }
    }
}

#[test]
fn no_command_leaks_a_secret() {
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            with_password: true,
            ..ProfileOpts::default()
        }],
    );
    let cfg = SimConfig::default();
    let download = home.import_download("test", 7250);
    let mut audit = Audit {
        secrets: vec![
            ("client secret".into(), cfg.client_secret.clone()),
            ("password".into(), cfg.password.clone()),
            (
                "imported access token".into(),
                download["access_token"].as_str().unwrap().to_owned(),
            ),
            (
                "imported refresh token".into(),
                download["refresh_token"].as_str().unwrap().to_owned(),
            ),
        ],
        captures: Vec::new(),
        files: Default::default(),
    };

    // Success paths, verbose: refresh, login (auth code and cookies travel), status.
    let out = home.cli(&["-v", "token"]);
    record_secrets(&home, &mut audit);
    let token = text(&out.stdout).trim().to_owned();
    audit.capture(&home, "central-auth -v token (refresh)", &out, Some(&token));
    let out = home.cli(&["-v", "login"]);
    audit.capture(&home, "central-auth -v login", &out, None);
    record_secrets(&home, &mut audit);
    for args in [
        &["-v", "status"][..],
        &["-v", "status", "--json"],
        &["-v", "status", "--all"],
        &["-v", "profiles"],
        &["-v", "doctor"],
        &["-v", "keepalive", "--older-than", "0s"],
        &["-v", "refresh"],
    ] {
        let out = home.cli(args);
        audit.capture(
            &home,
            &format!("central-auth {}", args.join(" ")),
            &out,
            None,
        );
        record_secrets(&home, &mut audit);
    }
    // The auth codes, session cookies and CSRF tokens handed out during logins.
    let login_secrets = home.sim.issued_login_secrets();
    assert!(login_secrets.len() >= 3, "the login ran");
    for s in login_secrets {
        audit
            .secrets
            .push(("auth code or session cookie".into(), s));
    }
    for client in ALL {
        let out = client.run(&home, &["-v"]);
        let token = (client.token_of)(&text(&out.stdout)).unwrap_or_default();
        assert!(
            out.status.success(),
            "{}: {}",
            client.name,
            text(&out.stderr)
        );
        audit.capture(
            &home,
            &format!("{} -v (cached)", client.name),
            &out,
            Some(&token),
        );
    }
    let out = home
        .cmd("central-auth")
        .args(["-v", "exec", "--", "sh", "-c", "echo done"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    audit.capture(&home, "central-auth -v exec", &out, None);

    // The proxy: a client sending its own token (in the header: replaced; in
    // the query: refused, and neither the answer nor the log repeats it), then
    // a token Central killed (reject, one refresh, the retry).
    audit_proxy(&home, &mut audit, "central-auth -v proxy", |addr| {
        let stored = home.token("test");
        assert_eq!(proxy_get(addr, "/monitoring/v1/aps", None), 200);
        assert_eq!(
            proxy_get(addr, "/monitoring/v1/aps?limit=1", Some(&stored)),
            200
        );
        let target = format!("/monitoring/v1/aps?access_token={stored}&limit=1");
        assert_eq!(proxy_get(addr, &target, Some(&stored)), 400);
        home.sim.expire_access_tokens();
        assert_eq!(proxy_get(addr, "/monitoring/v2/aps", Some(&stored)), 200);
    });
    record_secrets(&home, &mut audit);
    assert!(
        home.profile_dir("test").join("quota.json").exists(),
        "the proxy wrote its quota file"
    );

    // Failure paths: dead chain without a password, wrong password, bad client secret.
    home.sim.revoke_all();
    home.write_config(&[ProfileOpts::default()]);
    for client in ALL {
        let out = client.run(&home, &["-v"]);
        // A still-valid cached token may be printed: that is the protocol output.
        let token = (client.token_of)(&text(&out.stdout)).unwrap_or_default();
        audit.capture(
            &home,
            &format!("{} -v (revoked)", client.name),
            &out,
            Some(&token),
        );
    }
    let out = home.cli(&["-v", "refresh"]);
    audit.capture(&home, "central-auth -v refresh (revoked)", &out, None);
    audit_proxy(
        &home,
        &mut audit,
        "central-auth -v proxy (revoked)",
        |addr| {
            home.sim.expire_access_tokens();
            let status = proxy_get(addr, "/monitoring/v1/aps", Some("client-own-token-123456"));
            assert!(
                status >= 500,
                "a dead chain is the proxy's 5xx, got {status}"
            );
        },
    );
    audit.secrets.push((
        "client's own token".into(),
        "client-own-token-123456".into(),
    ));
    let out = home
        .cmd("central-auth")
        .args(["-v", "login", "--password-stdin"])
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(b"not-the-password-123\n")?;
            c.wait_with_output()
        })
        .unwrap();
    audit
        .secrets
        .push(("wrong password".into(), "not-the-password-123".into()));
    audit.capture(&home, "central-auth -v login (wrong password)", &out, None);
    let out = home
        .cmd("central-auth")
        .args(["-v", "refresh"])
        .env("E2E_CLIENT_SECRET", "wrong-secret-456789")
        .output()
        .unwrap();
    audit
        .secrets
        .push(("wrong client secret".into(), "wrong-secret-456789".into()));
    audit.capture(
        &home,
        "central-auth -v refresh (wrong client secret)",
        &out,
        None,
    );

    // The final list: also every token the simulator ever issued, including pairs
    // rotated away within one command that never reached the store.
    for t in home.sim.issued_tokens() {
        audit.secrets.push(("token issued by Central".into(), t));
    }
    audit.snapshot_files(&home);
    let findings = audit.findings();
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "figures: secret-leak audit: {} runs, {} file snapshots, {} secrets tracked, rescanned at the end: {} findings\n",
            audit.captures.len(),
            audit.files.len(),
            audit.secrets.len(),
            findings.len()
        )
        .as_bytes(),
    );
    assert!(findings.is_empty(), "{findings:#?}");
}
