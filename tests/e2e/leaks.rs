//! Secret-leak audit: every command and helper, on success and failure paths, with
//! `-v`. stdout, stderr and every file written outside the token store are scanned
//! for each secret (client secret, password, access and refresh tokens, auth code,
//! session cookie). The only allowed place is the protocol output of a command whose
//! job is to print the token. A finding names the command and the stream.

use std::process::{Output, Stdio};

use central_auth_e2e::*;

use crate::clients::ALL;

struct Audit {
    secrets: Vec<(String, String)>,
    findings: Vec<String>,
    runs: usize,
}

impl Audit {
    fn scan(&mut self, what: &str, out: &Output, token_allowed_on_stdout: Option<&str>) {
        self.runs += 1;
        for (name, secret) in &self.secrets {
            if secret.len() < 6 {
                continue;
            }
            let stdout = text(&out.stdout);
            let allowed = token_allowed_on_stdout == Some(secret.as_str());
            if stdout.contains(secret.as_str()) && !allowed {
                self.findings
                    .push(format!("{what}: stdout shows the {name}"));
            }
            if text(&out.stderr).contains(secret.as_str()) {
                self.findings
                    .push(format!("{what}: stderr shows the {name}"));
            }
        }
    }

    fn scan_files(&mut self, home: &TestHome) {
        let store = home.path().join("state").join("profiles");
        for (path, bytes) in tree(home.path()) {
            let in_store = path.parent().and_then(|d| d.parent()) == Some(store.as_path())
                && path.file_name().is_some_and(|n| n == "token.json");
            if in_store {
                continue;
            }
            let content = String::from_utf8_lossy(&bytes);
            for (name, secret) in &self.secrets {
                if content.contains(secret.as_str()) {
                    self.findings
                        .push(format!("file {} holds the {name}", path.display()));
                }
            }
        }
    }
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
        findings: Vec::new(),
        runs: 0,
    };

    // Success paths, verbose: refresh, login (auth code and cookies travel), status.
    let out = home.cli(&["-v", "token"]);
    record_secrets(&home, &mut audit);
    let token = text(&out.stdout).trim().to_owned();
    audit.scan("central-auth -v token (refresh)", &out, Some(&token));
    let out = home.cli(&["-v", "login"]);
    audit.scan("central-auth -v login", &out, None);
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
        audit.scan(&format!("central-auth {}", args.join(" ")), &out, None);
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
        audit.scan(&format!("{} -v (cached)", client.name), &out, Some(&token));
    }
    let out = home
        .cmd("central-auth")
        .args(["-v", "exec", "--", "sh", "-c", "echo done"])
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    audit.scan("central-auth -v exec", &out, None);

    // Failure paths: dead chain without a password, wrong password, bad client secret.
    home.sim.revoke_all();
    home.write_config(&[ProfileOpts::default()]);
    for client in ALL {
        let out = client.run(&home, &["-v"]);
        // A still-valid cached token may be printed: that is the protocol output.
        let token = (client.token_of)(&text(&out.stdout)).unwrap_or_default();
        audit.scan(&format!("{} -v (revoked)", client.name), &out, Some(&token));
    }
    let out = home.cli(&["-v", "refresh"]);
    audit.scan("central-auth -v refresh (revoked)", &out, None);
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
    audit.scan("central-auth -v login (wrong password)", &out, None);
    let out = home
        .cmd("central-auth")
        .args(["-v", "refresh"])
        .env("E2E_CLIENT_SECRET", "wrong-secret-456789")
        .output()
        .unwrap();
    audit
        .secrets
        .push(("wrong client secret".into(), "wrong-secret-456789".into()));
    audit.scan("central-auth -v refresh (wrong client secret)", &out, None);

    audit.scan_files(&home);
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "figures: secret-leak audit: {} runs, {} secrets tracked, {} findings\n",
            audit.runs,
            audit.secrets.len(),
            audit.findings.len()
        )
        .as_bytes(),
    );
    assert!(audit.findings.is_empty(), "{:#?}", audit.findings);
}
