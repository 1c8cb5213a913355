//! The owner's real clients still work through the proxy: curl on TCP and on
//! the Unix socket, pycentral 1.4.3 with the proxy as its base URL (with a
//! placeholder token, and through the central-auth provider, whose real
//! token the proxy replaces), including after Central killed the token.
//! centralcli through the proxy: `cencli::cencli_through_the_proxy_never_sees_a_killed_token`.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use central_auth_e2e::*;

use super::{curl, figures, Proxy};

#[test]
fn curl_works_on_tcp_and_on_the_unix_socket() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let (code, body) = curl(&format!("{}/monitoring/v1/aps", proxy.url), &[]);
    assert_eq!(code, 200, "{body}");
    drop(proxy);
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let sock = dir.path().join("central.sock");
    let _proxy = Proxy::start_unix(&home, &sock, &[]);
    let sock = sock.to_str().unwrap();
    let (code, body) = curl(
        "http://localhost/monitoring/v1/aps",
        &["--unix-socket", sock],
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("ap-hq-lobby"), "{body}");
    // curl sends its URL's host; on the socket any Host is fine.
    let (code, _) = curl(
        "http://central.invalid/configuration/v2/groups",
        &["--unix-socket", sock],
    );
    assert_eq!(code, 200);
    // But never a browser's headers.
    let (code, _) = curl(
        "http://localhost/configuration/v2/groups",
        &["--unix-socket", sock, "-H", "Origin: http://evil.example"],
    );
    assert_eq!(code, 403);
}

/// pycentral 1.4.3 with `base_url` at the proxy; `TOKEN` is what it sends
/// (a placeholder, or the provider's real one).
const DIRECT: &str = r#"
import json, os, sys
from pycentral.base import ArubaCentralBase
conn = ArubaCentralBase(central_info={"base_url": sys.argv[1], "token": {"access_token": "placeholder"}}, ssl_verify=False)
codes = [conn.command(apiMethod="GET", apiPath="/configuration/v2/groups", apiParams={"limit": 20, "offset": 0})["code"]]
codes.append(conn.command(apiMethod="GET", apiPath="/monitoring/v1/aps")["code"])
print(json.dumps({"codes": codes}))
"#;

const PROVIDER: &str = r#"
import json, sys
from central_auth_pycentral import CentralAuthBase
conn = CentralAuthBase(profile="test", central_info={"base_url": sys.argv[1]})
print(json.dumps({"codes": [conn.command(apiMethod="GET", apiPath="/monitoring/v1/aps")["code"]]}))
"#;

fn run_python(
    home: &TestHome,
    python: &std::path::Path,
    script: &str,
    url: &str,
) -> serde_json::Value {
    let cwd = tempfile::tempdir().unwrap();
    let mut c = Command::new(python);
    home.apply_env(&mut c);
    let out = c
        .current_dir(cwd.path())
        .env("PYTHONPATH", workspace().join("python"))
        .env("CENTRAL_AUTH_ANSIBLE", bin("central-auth-ansible"))
        .args(["-c", script, url])
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap();
    serde_json::from_str(line).unwrap()
}

#[test]
fn pycentral_works_with_the_proxy_as_its_base_url_directly_and_through_the_provider() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let v = run_python(&home, &python, DIRECT, &proxy.url);
    assert_eq!(v["codes"], serde_json::json!([200, 200]), "{v}");
    let v = run_python(&home, &python, PROVIDER, &proxy.url);
    assert_eq!(v["codes"], serde_json::json!([200]), "{v}");
    // After Central killed the token: the proxy refreshes once and retries;
    // pycentral (with its placeholder) never sees the 401.
    home.sim.expire_access_tokens();
    let v = run_python(&home, &python, DIRECT, &proxy.url);
    assert_eq!(v["codes"], serde_json::json!([200, 200]), "{v}");
    let c = home.sim.counters();
    assert_one_refresh(&c, "pycentral through the proxy after a killed token");
    // The provider hands out the refreshed token; the proxy replaces it anyway.
    let v = run_python(&home, &python, PROVIDER, &proxy.url);
    assert_eq!(v["codes"], serde_json::json!([200]), "{v}");
    assert_eq!(home.sim.counters().refresh, 1);
    figures("pycentral 1.4.3 with base_url at the proxy: placeholder token 200, provider 200, after a killed token 1 refresh and 200");
}
