//! What the owner's real clients send, seen by a recording server standing
//! where the proxy will: curl, pycentral 1.4.3 and centralcli 10.0.4 send a
//! loopback `Host` and neither `Origin` nor `Sec-Fetch-*`, so the proxy's
//! browser refusals leave them working.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use central_auth_e2e::recorder::{Recorded, Recorder};
use central_auth_e2e::*;

use super::figures;

/// Asserts every request looks like a non-browser client's, and returns a
/// one-line description of the first.
fn assert_client_like(who: &str, rec: &Recorder, reqs: &[Recorded]) -> String {
    assert!(!reqs.is_empty(), "{who} sent nothing: {:?}", rec.requests());
    let host = format!("127.0.0.1:{}", rec.port());
    for r in reqs {
        assert_eq!(r.host(), Some(host.as_str()), "{who}: {}", r.summary());
        assert_eq!(r.origin(), None, "{who}: {}", r.summary());
        assert!(
            r.headers
                .iter()
                .all(|(n, _)| !n.to_ascii_lowercase().starts_with("sec-fetch-")),
            "{who}: {:?}",
            r.headers
        );
    }
    let r = &reqs[0];
    format!(
        "{who}: {} {} Host={:?} User-Agent={:?} Connection={:?} Authorization={}",
        r.method,
        r.target,
        r.host(),
        r.header("user-agent"),
        r.header("connection"),
        if r.header("authorization").is_some() {
            "yes"
        } else {
            "no"
        }
    )
}

#[test]
fn owner_clients_send_no_browser_headers() {
    let Some(curl) = require_tool("curl", &[PathBuf::from("/usr/bin/curl")]) else {
        return;
    };
    let Some(pycentral) = venv_bin("pycentral", "python") else {
        return;
    };
    let Some(cencli) = venv_bin("centralcli", "cencli") else {
        return;
    };
    let mut lines = Vec::new();

    let rec = Recorder::start();
    let out = Command::new(curl)
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!(
            "{}/configuration/v2/groups?limit=20&offset=0",
            rec.url()
        ))
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "200", "{}", text(&out.stderr));
    lines.push(assert_client_like("curl", &rec, &rec.requests()));

    // pycentral with the recorder as its base URL, as `central-auth proxy
    // --exec` will hand it over.
    let rec = Recorder::start();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(pycentral)
        .current_dir(dir.path())
        .env("E2E_CENTRAL_INFO", "{}")
        .env("CENTRAL_BASE_URL", rec.url())
        .env("CENTRAL_ACCESS_TOKEN", "placeholder")
        .arg(workspace().join("tests/fixtures/pycentral_client.py"))
        .args([rec.url().as_str(), "token"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(r#""first": 200"#));
    let reqs = rec.requests();
    // pycentral puts the parameters in the URL and passes them to requests
    // again (base.py `command` and `requestUrl`): every one arrives twice, so
    // a strict proxy must not refuse repeated query parameters.
    assert_eq!(
        reqs[0].target,
        "/configuration/v2/groups?limit=20&offset=0&limit=20&offset=0"
    );
    lines.push(assert_client_like("pycentral 1.4.3", &rec, &reqs));

    // cencli with its config's base_url at the recorder and a placeholder
    // token. It first fills its group cache; the recorder's answers are not
    // Central's, so it stops there: what it sent is what counts.
    let rec = Recorder::start();
    let home = tempfile::tempdir().unwrap();
    let c = SimConfig::default();
    let conf = home.path().join(".config").join("centralcli");
    std::fs::create_dir_all(conf.join(".cache")).unwrap();
    std::fs::write(
        conf.join("config.yaml"),
        format!(
            "workspaces:\n  default:\n    classic:\n      base_url: {}\n      customer_id: {}\n      client_id: {}\n",
            rec.url(),
            c.customer_id,
            c.client_id
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join(".cache")
            .join(format!("tok_{}_{}.json", c.customer_id, c.client_id)),
        r#"{"access_token": "placeholder", "refresh_token": null}"#,
    )
    .unwrap();
    let _ = Command::new(cencli)
        .args(["show", "aps"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let reqs = rec.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "GET" && r.target.starts_with("/configuration/v2/groups")),
        "{reqs:?}"
    );
    lines.push(assert_client_like("centralcli 10.0.4", &rec, &reqs));

    figures(&format!(
        "owner clients, first request each:\n  {}",
        lines.join("\n  ")
    ));
}
