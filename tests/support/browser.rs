//! A web page as the attacker: `tests/fixtures/browser_attack.py` drives
//! Debian's headless Chromium (Python playwright from the `playwright` venv)
//! with `evil.example` mapped to 127.0.0.1, as a DNS rebinding leaves it, and
//! from a page at `http://evil.example:ATTACKER_PORT/` tries each of
//! [`ATTEMPTS`] against a loopback target port.
//!
//! What the page saw is reported, but it is not the ground truth (a no-cors
//! answer is opaque to the page): [`attack`] calls back after each attempt, when
//! the browser has its answer, so the test reads the target's own counters (the
//! simulator's, the proxy's, or a [`crate::recorder::Recorder`]'s) then.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::{require_tool, venv_bin, workspace};

/// Every attempt, in the order the fixture runs them. Each request carries
/// `e2e_attempt=NAME` in its query.
///
/// | name | request(s) the browser makes | page sees |
/// |---|---|---|
/// | `cross_site_get` | `GET http://127.0.0.1:T/configuration/v2/groups`, `Origin: http://evil.example:A`, `Sec-Fetch-Site: cross-site` | the answer only with CORS |
/// | `simple_post` | no-cors `POST` `Content-Type: text/plain`, body `x`, `Origin` | opaque (status 0) |
/// | `preflight_delete` | `OPTIONS` preflight (and the `DELETE` if allowed) to `/configuration/v2/groups` | error unless allowed |
/// | `img_encoded_token` | `<img>` `GET /monitoring/v1/aps?%61ccess_token=x`, no `Origin`, `Sec-Fetch-Site: cross-site` | load or error |
/// | `img_token` | the same with `access_token=x` | load or error |
/// | `form_post` | form `POST`, `application/x-www-form-urlencoded`, `access_token=x`, `Origin` | nothing |
/// | `rebind_navigate` | the page navigates to `http://evil.example:T/configuration/v2/groups`: `Host: evil.example:T` | the status |
/// | `rebind_fetch` | from a page whose origin is `http://evil.example:T`: same-origin `fetch` `GET`, `Host: evil.example:T` | status and body: a read |
/// | `rebind_delete` | the same origin, `DELETE` (same-origin: no preflight), `Origin: http://evil.example:T` | the status |
pub const ATTEMPTS: [&str; 9] = [
    "cross_site_get",
    "simple_post",
    "preflight_delete",
    "img_encoded_token",
    "img_token",
    "form_post",
    "rebind_navigate",
    "rebind_fetch",
    "rebind_delete",
];

/// The fixture script.
pub fn script() -> PathBuf {
    workspace().join("tests/fixtures/browser_attack.py")
}

/// One attempt as the page saw it.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// One of [`ATTEMPTS`].
    pub name: String,
    /// The method of the attack request (`DELETE` for `preflight_delete`,
    /// although the browser may only send the `OPTIONS`).
    pub method: String,
    /// The URL the page aimed at.
    pub url: String,
    /// What the page could observe: `settled` (`resolved`/`rejected`,
    /// `load`/`error`, `navigated`/`failed`, `timeout`), and `status`, `type`,
    /// `body_bytes`, `error`, `page_origin` where they apply.
    pub seen: serde_json::Value,
}

impl Attempt {
    /// The status the page could read, if any (0 for an opaque answer).
    pub fn status(&self) -> Option<u64> {
        self.seen["status"].as_u64()
    }

    /// The marker this attempt's requests carry in their query.
    pub fn marker(&self) -> String {
        marker(&self.name)
    }
}

/// `e2e_attempt=NAME`: find an attempt's requests in a recorder's log.
pub fn marker(name: &str) -> String {
    format!("e2e_attempt={name}")
}

/// The whole run.
#[derive(Clone, Debug)]
pub struct BrowserReport {
    /// `http://evil.example:PORT`: the attacker page's origin.
    pub attacker: String,
    /// The browser's version.
    pub browser: String,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
}

impl BrowserReport {
    /// The attempt of that name; panics if it did not run.
    pub fn attempt(&self, name: &str) -> &Attempt {
        self.attempts
            .iter()
            .find(|a| a.name == name)
            .unwrap_or_else(|| panic!("attempt {name} did not run"))
    }
}

/// Runs every attempt of [`ATTEMPTS`] against `127.0.0.1:target_port` and
/// `evil.example:target_port`, calling `after_each` once each attempt's
/// requests are over. `None` after a visible skip (a failure under CI) when
/// Chromium or the playwright venv is missing.
pub fn attack(target_port: u16, after_each: impl FnMut(&Attempt)) -> Option<BrowserReport> {
    attack_with(target_port, &ATTEMPTS, after_each)
}

/// [`attack`] with only the named attempts (in the given order).
pub fn attack_with(
    target_port: u16,
    attempts: &[&str],
    mut after_each: impl FnMut(&Attempt),
) -> Option<BrowserReport> {
    for a in attempts {
        assert!(
            ATTEMPTS.contains(a),
            "unknown attempt {a}; known: {ATTEMPTS:?}"
        );
    }
    let chromium = require_tool(
        "chromium (apt-get install -y chromium; `cargo xtask test` installs it)",
        &[PathBuf::from("/usr/bin/chromium")],
    )?;
    let python = venv_bin("playwright", "python")?;
    let home = tempfile::Builder::new()
        .prefix("central-auth-e2e-browser-")
        .tempdir()
        .expect("temp HOME for the browser");
    let mut child = Command::new(python)
        .arg(script())
        .arg(target_port.to_string())
        .args(attempts)
        .env("E2E_CHROMIUM", &chromium)
        .env("HOME", home.path())
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("browser_attack.py starts");
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut next = || -> serde_json::Value {
        for line in lines.by_ref() {
            let line = line.expect("browser_attack.py stdout");
            if line.starts_with('{') {
                return serde_json::from_str(&line).expect("browser_attack.py prints JSON");
            }
            eprintln!("browser_attack.py: {line}");
        }
        panic!("browser_attack.py ended early (see its stderr above)");
    };
    let ready = next();
    assert_eq!(ready["ready"], true, "{ready}");
    let mut report = BrowserReport {
        attacker: ready["attacker"].as_str().unwrap_or_default().to_owned(),
        browser: ready["browser"].as_str().unwrap_or_default().to_owned(),
        attempts: Vec::new(),
    };
    loop {
        let v = next();
        if v["done"] == true {
            break;
        }
        let attempt = Attempt {
            name: v["attempt"].as_str().unwrap_or_default().to_owned(),
            method: v["method"].as_str().unwrap_or_default().to_owned(),
            url: v["url"].as_str().unwrap_or_default().to_owned(),
            seen: v["seen"].clone(),
        };
        after_each(&attempt);
        report.attempts.push(attempt);
        stdin
            .write_all(b"next\n")
            .expect("browser_attack.py waits for the next line");
    }
    drop(stdin);
    let status = child.wait().expect("browser_attack.py exits");
    assert!(status.success(), "browser_attack.py failed: {status}");
    assert_eq!(
        report.attempts.len(),
        attempts.len(),
        "every attempt ran: {:?}",
        report.attempts
    );
    Some(report)
}
