//! Client keep-alive: several requests on one connection (sequential and
//! pipelined), `Connection: close` honoured, HTTP/1.0 closed unless it asks
//! for keep-alive, at most 100 requests per connection, and Python's
//! `requests.Session` reusing one connection for all its calls.

use std::process::Command;

use central_auth_e2e::slow_clients::Conn;
use central_auth_e2e::*;

use super::{figures, reached, Answers, Proxy};

#[test]
fn one_connection_serves_many_requests() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &["--rate", "100000"]);
    let host = proxy.addr().to_string();
    let get = |path: &str, extra: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n").into_bytes()
    };
    let before = reached(&home);

    // Sequential requests on one connection.
    let mut conn = Answers::new(Conn::open(&proxy.target));
    for i in 0..5 {
        conn.send(&get("/monitoring/v1/aps", ""));
        let (status, answer) = conn.next();
        assert_eq!(status, 200, "request {i}: {answer}");
        assert!(!answer.contains("Connection: close"), "{answer}");
    }
    // Three pipelined in one write, then one with Connection: close.
    let mut burst = Vec::new();
    for path in [
        "/monitoring/v1/aps",
        "/configuration/v2/groups",
        "/monitoring/v2/aps",
    ] {
        burst.extend(get(path, ""));
    }
    conn.send(&burst);
    for i in 0..3 {
        let (status, answer) = conn.next();
        assert_eq!(status, 200, "pipelined {i}: {answer}");
    }
    conn.send(&get("/monitoring/v1/aps", "Connection: close\r\n"));
    let (status, answer) = conn.next();
    assert_eq!(status, 200);
    assert!(answer.contains("Connection: close"), "{answer}");
    let (status, rest) = conn.next();
    assert_eq!(
        (status, rest.as_str()),
        (0, ""),
        "closed after Connection: close"
    );
    assert_eq!(reached(&home), before + 9);

    // HTTP/1.0: closed unless it asks to keep the connection.
    let mut conn = Answers::new(Conn::open(&proxy.target));
    conn.send(b"GET /monitoring/v1/aps HTTP/1.0\r\n\r\n");
    let (status, answer) = conn.next();
    assert_eq!(status, 200);
    assert!(answer.contains("Connection: close"), "{answer}");
    let mut conn = Answers::new(Conn::open(&proxy.target));
    for _ in 0..2 {
        conn.send(b"GET /monitoring/v1/aps HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let (status, answer) = conn.next();
        assert_eq!(status, 200);
        assert!(answer.contains("Connection: keep-alive"), "{answer}");
    }

    // At most 100 requests per connection: the 100th says close.
    let mut conn = Answers::new(Conn::open(&proxy.target));
    for i in 1..=100 {
        conn.send(&get("/monitoring/v1/aps", ""));
        let (status, answer) = conn.next();
        assert_eq!(status, 200, "request {i}");
        assert_eq!(
            answer.contains("Connection: close"),
            i == 100,
            "request {i}: {answer}"
        );
    }
    let (status, _) = conn.next();
    assert_eq!(status, 0, "closed after 100 requests");
}

/// Python `requests.Session`: 10 calls, counting the connections urllib3
/// opened (client side) and those the proxy accepted (its `-v` log).
const SESSION: &str = r#"
import json, sys, requests
url = sys.argv[1]
s = requests.Session()
codes = [s.get(url + "/monitoring/v1/aps").status_code for _ in range(10)]
pools = list(s.get_adapter(url).poolmanager.pools._container.values())
print(json.dumps({"codes": codes, "pools": len(pools), "connections": sum(p.num_connections for p in pools), "requests": sum(p.num_requests for p in pools)}))
"#;

#[test]
fn a_requests_session_reuses_one_connection() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &["--rate", "100000"]);
    let out = Command::new(python)
        .args(["-c", SESSION, &proxy.url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["codes"], serde_json::json!(vec![200; 10]), "{v}");
    assert_eq!(v["connections"], 1, "{v}");
    assert_eq!(v["requests"], 10, "{v}");
    let out = proxy.stop();
    let log = text(&out.stderr);
    assert_eq!(
        log.matches("proxy: GET /monitoring/v1/aps -> 200").count(),
        10,
        "{log}"
    );
    figures(
        "requests.Session through the proxy: 10 GETs on 1 connection (urllib3's count), all 200",
    );
}
