//! End-to-end tests of the simulator over real TCP with a tiny std-only
//! HTTP/1.1 client.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use central_sim::{Counters, Fault, Sim, SimConfig};
use serde_json::{json, Value};

// ---------------------------------------------------------------- client

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(sim: &Sim) -> Conn {
        let addr = sim.url().trim_start_matches("http://").to_string();
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: sim\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut bytes = req.into_bytes();
        bytes.extend_from_slice(body);
        self.writer.write_all(&bytes).unwrap();
    }

    fn read(&mut self) -> std::io::Result<Resp> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .expect("content-length always present");
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body)?;
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    fn call(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.send(method, target, headers, body);
        self.read().unwrap()
    }
}

fn call(sim: &Sim, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut h = headers.to_vec();
    h.push(("Connection", "close"));
    Conn::open(sim).call(method, target, &h, body)
}

fn try_call(sim: &Sim, method: &str, target: &str, body: &[u8]) -> std::io::Result<Resp> {
    let mut c = Conn::open(sim);
    c.send(method, target, &[("Connection", "close")], body);
    c.read()
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    format!("Basic {encoded}")
}

// ---------------------------------------------------------------- helpers

fn start(cfg: SimConfig) -> Sim {
    Sim::start(SimConfig {
        rate_limit_second: 10_000,
        rate_limit_day: 1_000_000,
        ..cfg
    })
    .unwrap()
}

fn sim() -> Sim {
    start(SimConfig::default())
}

const LOGIN: &str = "/oauth2/authorize/central/api/login?client_id=sim-client";
const AUTHZ: &str =
    "/oauth2/authorize/central/api?client_id=sim-client&response_type=code&scope=all";

fn cookie(resp: &Resp, name: &str) -> String {
    resp.headers_all("set-cookie")
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

/// Steps 1 and 2; returns the auth code.
fn get_code(sim: &Sim) -> String {
    let login = call(
        sim,
        "POST",
        LOGIN,
        &[("Content-Type", "application/json")],
        br#"{"username":"admin@example.com","password":"sim-password"}"#,
    );
    assert_eq!(login.status, 200, "{}", login.text());
    let csrf = cookie(&login, "csrftoken");
    let session = cookie(&login, "session");
    let cookie_hdr = format!("csrftoken={csrf}; session={session}");
    let r = call(
        sim,
        "POST",
        AUTHZ,
        &[
            ("Content-Type", "application/json"),
            ("x-csrf-token", &csrf),
            ("Cookie", &cookie_hdr),
        ],
        br#"{"customer_id":"sim-customer"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["auth_code"].as_str().unwrap().to_string()
}

fn exchange(sim: &Sim, code: &str) -> Resp {
    call(
        sim,
        "POST",
        &format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=authorization_code&code={code}"),
        &[],
        b"",
    )
}

/// Full login; returns (access, refresh).
fn login_pair(sim: &Sim) -> (String, String) {
    let code = get_code(sim);
    let r = exchange(sim, &code);
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    (
        j["access_token"].as_str().unwrap().to_string(),
        j["refresh_token"].as_str().unwrap().to_string(),
    )
}

fn refresh(sim: &Sim, rt: &str) -> Resp {
    call(
        sim,
        "POST",
        &format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=refresh_token&refresh_token={rt}"),
        &[],
        b"",
    )
}

fn api(sim: &Sim, token: &str) -> Resp {
    call(
        sim,
        "GET",
        "/configuration/v2/groups?limit=1&offset=0",
        &[("authorization", &format!("Bearer {token}"))],
        b"",
    )
}

const INVALID_TOKEN: &str =
    r#"{"error":"invalid_token","error_description":"The access token is invalid or has expired"}"#;
const INVALID_REFRESH: &str =
    r#"{"error":"invalid_request","error_description":"Invalid refresh_token"}"#;
const INVALID_CLIENT: &str =
    r#"{"error":"invalid_client","error_description":"Invalid client authentication"}"#;
const INVALID_CODE: &str = r#"{"error":"invalid_request","error_description":"Invalid code"}"#;

fn assert_common_headers(r: &Resp) {
    for h in [
        "X-RateLimit-Limit-day",
        "X-RateLimit-Remaining-day",
        "X-RateLimit-Limit-second",
        "X-RateLimit-Remaining-second",
        "Date",
        "X-Request-Start",
    ] {
        assert!(r.header(h).is_some(), "missing {h} in {:?}", r.headers);
    }
    assert_eq!(r.header("via"), Some("kong/0.14.1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("Date").unwrap().ends_with(" GMT"));
    assert!(r.header("X-Request-Start").unwrap().starts_with("t="));
}

// ---------------------------------------------------------------- tests

#[test]
fn full_three_step_flow_then_api_call() {
    let sim = sim();
    let login = call(
        &sim,
        "POST",
        LOGIN,
        &[("Content-Type", "application/json")],
        br#"{"username":"admin@example.com","password":"sim-password"}"#,
    );
    assert_eq!(login.status, 200);
    assert_eq!(login.json()["status"], json!(true));
    let cookies = login.headers_all("set-cookie");
    assert_eq!(cookies.len(), 2);
    assert!(cookies[0].starts_with("csrftoken=") && cookies[0].ends_with("; Secure; Path=/"));
    assert!(
        cookies[1].starts_with("session=") && cookies[1].ends_with("; Secure; HttpOnly; Path=/")
    );
    assert_common_headers(&login);

    let code = get_code(&sim);
    let r = exchange(&sim, &code);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let j = r.json();
    assert_eq!(j["token_type"], "bearer");
    assert_eq!(j["expires_in"], 7200);
    assert!(j.get("state").is_none());
    let at = j["access_token"].as_str().unwrap();
    assert_eq!(at.len(), 32);
    assert!(at.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(j["refresh_token"].as_str().unwrap().len(), 32);
    assert!(sim.access_token_valid(at));

    let r = api(&sim, at);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"data":[["default"]],"total":3}));
    assert_common_headers(&r);
    // access_token query parameter, duplicated query keys, other APIs.
    let r = call(
        &sim,
        "GET",
        &format!("/configuration/v2/groups?limit=5&limit=5&offset=1&access_token={at}"),
        &[],
        b"",
    );
    assert_eq!(r.json(), json!({"data":[["campus"],["branch"]],"total":3}));
    let r = call(
        &sim,
        "GET",
        "/monitoring/v1/aps",
        &[("Authorization", &format!("bEaReR {at}"))],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["count"], 3);
    let r = call(
        &sim,
        "GET",
        "/auditlogs/v1/events",
        &[("Authorization", &format!("Bearer {at}"))],
        b"",
    );
    assert_eq!(
        (r.json()["total"].clone(), r.json()["count"].clone()),
        (json!(3), json!(3))
    );

    let c = sim.counters();
    assert_eq!(
        (
            c.login,
            c.authorize,
            c.code_exchange,
            c.api_ok,
            c.token_requests
        ),
        (2, 1, 1, 4, 1)
    );
    let log = sim.token_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].grant_type.as_str(), log[0].status, log[0].dropped),
        ("authorization_code", 200, false)
    );
}

#[test]
fn api_auth_errors_and_unknown_path() {
    let sim = sim();
    let r = call(
        &sim,
        "GET",
        "/configuration/v2/groups?limit=1&offset=0",
        &[],
        b"",
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        r.text(),
        r#"{"error":"invalid_request","error_description":"The access token is missing"}"#
    );
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer realm="service""#)
    );
    let r = api(&sim, "nope");
    assert_eq!(r.status, 401);
    assert_eq!(r.text(), INVALID_TOKEN);
    assert_eq!(
        r.header("www-authenticate"),
        Some(
            r#"Bearer realm="service" error="invalid_token" error_description="The access token is invalid or has expired""#
        )
    );
    assert_common_headers(&r);
    let r = call(&sim, "GET", "/nothing/here", &[], b"");
    assert_eq!(r.status, 404);
    assert_eq!(
        r.text(),
        r#"{"message":"no route and no API found with those values"}"#
    );
    assert_eq!(sim.counters().api_unauthorized, 2);
}

#[test]
fn login_and_authorize_failures() {
    let sim = start(SimConfig {
        login_failure_status: 403,
        ..SimConfig::default()
    });
    let r = call(
        &sim,
        "POST",
        LOGIN,
        &[("Content-Type", "application/json")],
        br#"{"username":"admin@example.com","password":"bad"}"#,
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json(),
        json!({"status": false, "message": "Invalid username or password"})
    );
    let r = call(
        &sim,
        "POST",
        "/oauth2/authorize/central/api/login?client_id=other",
        &[("Content-Type", "application/json")],
        br#"{"username":"admin@example.com","password":"sim-password"}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), INVALID_CLIENT);
    // Authorize without session / with wrong CSRF.
    let r = call(
        &sim,
        "POST",
        AUTHZ,
        &[("Content-Type", "application/json")],
        br#"{"customer_id":"sim-customer"}"#,
    );
    assert_eq!(r.status, 401);
    let login = call(
        &sim,
        "POST",
        LOGIN,
        &[("Content-Type", "application/json")],
        br#"{"username":"admin@example.com","password":"sim-password"}"#,
    );
    let session = format!("session={}", cookie(&login, "session"));
    let r = call(
        &sim,
        "POST",
        AUTHZ,
        &[("X-CSRF-Token", "wrong"), ("Cookie", &session)],
        br#"{"customer_id":"sim-customer"}"#,
    );
    assert_eq!(r.status, 401);
    let csrf = cookie(&login, "csrftoken");
    let r = call(
        &sim,
        "POST",
        AUTHZ,
        &[
            ("X-CSRF-Token", &csrf),
            ("Cookie", &session),
            ("Content-Type", "application/json"),
        ],
        br#"{"customer_id":"other"}"#,
    );
    assert_eq!(r.status, 400);
    // scope=read works too.
    let r = call(
        &sim,
        "POST",
        "/oauth2/authorize/central/api?client_id=sim-client&response_type=code&scope=read",
        &[
            ("X-CSRF-Token", &csrf),
            ("Cookie", &session),
            ("Content-Type", "application/json"),
        ],
        br#"{"customer_id":"sim-customer"}"#,
    );
    assert_eq!(r.status, 200);
    let c = sim.counters();
    assert_eq!((c.login, c.login_failed, c.authorize), (1, 1, 1));
}

#[test]
fn refresh_rotates_and_kills_old_pair() {
    let sim = sim();
    let (at, rt) = login_pair(&sim);
    let r = refresh(&sim, &rt);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let j = r.json();
    let (at2, rt2) = (
        j["access_token"].as_str().unwrap(),
        j["refresh_token"].as_str().unwrap(),
    );
    assert_ne!(at2, at);
    assert_ne!(rt2, rt);
    assert_eq!(j["token_type"], "bearer");
    assert_eq!(j["expires_in"], 7200);
    // Old access token dies with the rotation.
    let r = api(&sim, &at);
    assert_eq!((r.status, r.text()), (401, INVALID_TOKEN.to_string()));
    assert!(!sim.access_token_valid(&at));
    assert_eq!(api(&sim, at2).status, 200);
    // Reusing the old refresh token: exact Kong answer.
    let r = refresh(&sim, &rt);
    assert_eq!(r.status, 400);
    assert_eq!(r.text(), INVALID_REFRESH);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    // state is echoed.
    let r = call(
        &sim,
        "POST",
        &format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=refresh_token&refresh_token={rt2}&state=xyz"),
        &[],
        b"",
    );
    assert_eq!(r.json()["state"], "xyz");
    let c = sim.counters();
    assert_eq!((c.refresh, c.refresh_rejected), (2, 1));
}

#[test]
fn client_auth_params_vs_basic_and_bad_grant() {
    let sim = sim();
    let (_, rt) = login_pair(&sim);
    let r = call(&sim, "POST", &format!("/oauth2/token?client_id=sim-client&client_secret=bad&grant_type=refresh_token&refresh_token={rt}"), &[], b"");
    assert_eq!((r.status, r.text()), (400, INVALID_CLIENT.to_string()));
    assert!(r.header("www-authenticate").is_none());
    let bad = basic("sim-client", "bad");
    let r = call(
        &sim,
        "POST",
        "/oauth2/token",
        &[
            ("Authorization", &bad),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("grant_type=refresh_token&refresh_token={rt}").as_bytes(),
    );
    assert_eq!((r.status, r.text()), (401, INVALID_CLIENT.to_string()));
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="OAuth2.0""#)
    );
    // Unsupported grant with good credentials.
    let r = call(
        &sim,
        "POST",
        "/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=password",
        &[],
        b"",
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r#"{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}"#
    );
    // Good Basic + form body works.
    let good = basic("sim-client", "sim-secret");
    let r = call(
        &sim,
        "POST",
        "/oauth2/token",
        &[
            ("Authorization", &good),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        format!("grant_type=refresh_token&refresh_token={rt}").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sim.counters().refresh, 1);
}

#[test]
fn token_parameters_merge_json_form_and_empty_body() {
    let sim = sim();
    // JSON body (XSOAR style).
    let code = get_code(&sim);
    let body = json!({"client_id":"sim-client","client_secret":"sim-secret","grant_type":"authorization_code","code":code}).to_string();
    let r = call(
        &sim,
        "POST",
        "/oauth2/token",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    // Query parameters plus Content-Type: application/json with no body.
    let r = call(
        &sim,
        "POST",
        &format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=refresh_token&refresh_token={rt}"),
        &[("Content-Type", "application/json")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    // Form body split across query and body.
    let r = call(
        &sim,
        "POST",
        "/oauth2/token?client_id=sim-client&grant_type=refresh_token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        format!("client_secret=sim-secret&refresh_token={rt}").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    // Empty body, no Content-Type, no Content-Length (pycentral style).
    let mut c = Conn::open(&sim);
    let target = format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=refresh_token&refresh_token={rt}");
    c.writer
        .write_all(
            format!("POST {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    let r = c.read().unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(sim.counters().refresh, 3);
    // Secrets seen in query strings: two in each of the two query-string
    // refreshes; none from the JSON or form bodies.
    assert_eq!(sim.counters().secrets_in_query, 4);
}

#[test]
fn code_is_single_use_and_expires_after_300s() {
    let sim = sim();
    let code = get_code(&sim);
    assert_eq!(exchange(&sim, &code).status, 200);
    let r = exchange(&sim, &code);
    assert_eq!((r.status, r.text()), (400, INVALID_CODE.to_string()));
    assert_eq!(r.header("cache-control"), Some("no-store"));

    let code = get_code(&sim);
    sim.advance_clock(Duration::from_secs(299));
    assert_eq!(exchange(&sim, &code).status, 200);

    let code = get_code(&sim);
    sim.advance_clock(Duration::from_secs(301));
    let r = exchange(&sim, &code);
    assert_eq!((r.status, r.text()), (400, INVALID_CODE.to_string()));
    assert_eq!(sim.counters().code_exchange, 2);
}

#[test]
fn refresh_token_idle_expiry() {
    let sim = start(SimConfig {
        refresh_ttl: Duration::from_secs(1000),
        ..SimConfig::default()
    });
    let (_, rt) = login_pair(&sim);
    sim.advance_clock(Duration::from_secs(900));
    let r = refresh(&sim, &rt);
    assert_eq!(r.status, 200);
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_string();
    // The rotation started a fresh idle clock.
    sim.advance_clock(Duration::from_secs(900));
    assert!(sim.refresh_token_valid(&rt2));
    sim.advance_clock(Duration::from_secs(101));
    assert!(!sim.refresh_token_valid(&rt2));
    let r = refresh(&sim, &rt2);
    assert_eq!((r.status, r.text()), (400, INVALID_REFRESH.to_string()));
}

#[test]
fn access_expiry_revocation_and_clock() {
    let sim = sim();
    let (at, rt) = login_pair(&sim);
    let before = api(&sim, &at);
    sim.advance_clock(Duration::from_secs(7201));
    let after = api(&sim, &at);
    assert_eq!(after.status, 401);
    let parse = |r: &Resp| {
        time::OffsetDateTime::parse(
            r.header("Date").unwrap(),
            &time::format_description::well_known::Rfc2822,
        )
        .unwrap()
    };
    assert!(parse(&after) - parse(&before) >= time::Duration::seconds(7200));

    let r = refresh(&sim, &rt);
    let j = r.json();
    let at2 = j["access_token"].as_str().unwrap().to_string();
    let rt2 = j["refresh_token"].as_str().unwrap().to_string();
    sim.expire_access_tokens();
    assert_eq!(api(&sim, &at2).text(), INVALID_TOKEN);
    sim.revoke_all();
    assert_eq!(refresh(&sim, &rt2).text(), INVALID_REFRESH);
}

#[test]
fn rate_limit_day_and_second() {
    let sim = Sim::start(SimConfig {
        rate_limit_second: 1000,
        rate_limit_day: 3,
        ..SimConfig::default()
    })
    .unwrap();
    for i in 0..3 {
        let r = call(&sim, "GET", "/auditlogs/v1/events", &[], b"");
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("X-RateLimit-Remaining-day"),
            Some((2 - i).to_string().as_str())
        );
    }
    let r = call(&sim, "GET", "/auditlogs/v1/events", &[], b"");
    assert_eq!(r.status, 429);
    assert_eq!(r.text(), r#"{"message":"API rate limit exceeded"}"#);
    assert_eq!(r.header("X-RateLimit-Remaining-day"), Some("0"));
    assert_eq!(r.header("X-RateLimit-Limit-day"), Some("3"));
    assert_eq!(r.header("X-RateLimit-Limit-second"), Some("1000"));
    assert_common_headers(&r);
    // /_sim/ is not counted and still carries the headers.
    let r = call(&sim, "GET", "/_sim/counters", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["rate_limited"], 1);
    assert_eq!(r.header("X-RateLimit-Remaining-day"), Some("0"));
    // The next simulated day resets the daily window.
    sim.advance_clock(Duration::from_secs(86_400));
    assert_eq!(
        call(&sim, "GET", "/auditlogs/v1/events", &[], b"").status,
        401
    );

    // Per-second limit (default 7): burst on one keep-alive connection at
    // the start of a wall-clock second.
    let sim = Sim::start(SimConfig::default()).unwrap();
    for attempt in 0..5 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        std::thread::sleep(
            Duration::from_nanos(u64::from(1_000_000_000 - now.subsec_nanos()))
                + Duration::from_millis(5),
        );
        let start = Instant::now();
        let mut c = Conn::open(&sim);
        let statuses: Vec<Resp> = (0..8)
            .map(|_| c.call("GET", "/nothing", &[], b""))
            .collect();
        if start.elapsed() > Duration::from_millis(900) {
            assert!(
                attempt < 4,
                "machine too slow to test the per-second window"
            );
            sim.reset_rate_limits();
            continue;
        }
        assert!(statuses[..7].iter().all(|r| r.status == 404));
        assert_eq!(
            statuses[6].header("X-RateLimit-Remaining-second"),
            Some("0")
        );
        assert_eq!(
            statuses[0].header("X-RateLimit-Remaining-second"),
            Some("6")
        );
        assert_eq!(statuses[7].status, 429);
        assert_eq!(
            statuses[7].header("X-RateLimit-Remaining-second"),
            Some("0")
        );
        assert_eq!(statuses[7].header("X-RateLimit-Limit-second"), Some("7"));
        break;
    }
}

#[test]
fn fault_status_and_quota() {
    let sim = sim();
    sim.inject(Fault::Status {
        path_prefix: "/oauth2/token".into(),
        count: 2,
        status: 503,
        retry_after: None,
    });
    let code = get_code(&sim); // not affected: other path
    for _ in 0..2 {
        let r = exchange(&sim, &code);
        assert_eq!(r.status, 503);
        assert!(r.json().get("message").is_some());
        assert_common_headers(&r);
    }
    assert_eq!(
        exchange(&sim, &code).status,
        200,
        "fault used up, code not consumed by faults"
    );

    sim.inject(Fault::Status {
        path_prefix: "/configuration".into(),
        count: 1,
        status: 429,
        retry_after: Some(3),
    });
    let r = call(&sim, "GET", "/configuration/v2/groups", &[], b"");
    assert_eq!(r.status, 429);
    assert_eq!(r.text(), r#"{"message":"API rate limit exceeded"}"#);
    assert_eq!(r.header("X-RateLimit-Remaining-second"), Some("0"));
    assert_eq!(r.header("Retry-After"), Some("3"));
    assert!(r.header("X-RateLimit-Remaining-day").unwrap() != "0");

    sim.inject(Fault::QuotaExhausted {
        path_prefix: "/".into(),
        count: 1,
    });
    let r = call(&sim, "GET", "/monitoring/v1/aps", &[], b"");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("X-RateLimit-Remaining-day"), Some("0"));
    assert_ne!(r.header("X-RateLimit-Remaining-second"), Some("0"));
    assert_eq!(
        call(&sim, "GET", "/monitoring/v1/aps", &[], b"").status,
        401
    );

    let c = sim.counters();
    assert_eq!((c.faults_served, c.rate_limited), (4, 0));
    let log = sim.token_log();
    assert_eq!(
        log.iter().map(|l| l.status).collect::<Vec<_>>(),
        vec![503, 503, 200]
    );
}

#[test]
fn fault_delay_and_drop_connection() {
    let sim = sim();
    sim.inject(Fault::Delay {
        path_prefix: "/auditlogs".into(),
        count: 1,
        millis: 300,
    });
    let t = Instant::now();
    assert_eq!(
        call(&sim, "GET", "/auditlogs/v1/events", &[], b"").status,
        401
    );
    assert!(t.elapsed() >= Duration::from_millis(300));

    sim.inject(Fault::DropConnection {
        path_prefix: "/oauth2/token".into(),
        count: 1,
    });
    let code = get_code(&sim);
    let target = format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=authorization_code&code={code}");
    assert!(try_call(&sim, "POST", &target, b"").is_err());
    // Not processed: the code still works.
    assert_eq!(try_call(&sim, "POST", &target, b"").unwrap().status, 200);
    let log = sim.token_log();
    assert!(log[0].dropped && log[0].status == 0);
    assert_eq!(sim.counters().token_requests, 2);
    assert_eq!(sim.counters().faults_served, 2);
}

#[test]
fn fault_rotate_then_drop() {
    let sim = sim();
    let (at, rt) = login_pair(&sim);
    sim.inject(Fault::RotateThenDrop { count: 1 });
    let target = format!("/oauth2/token?client_id=sim-client&client_secret=sim-secret&grant_type=refresh_token&refresh_token={rt}");
    let err = try_call(&sim, "POST", &target, b"").expect_err("connection must drop");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ),
        "{err:?}"
    );
    assert_eq!(sim.counters().refresh, 1);
    assert!(!sim.access_token_valid(&at));
    assert!(!sim.refresh_token_valid(&rt));
    let r = refresh(&sim, &rt);
    assert_eq!((r.status, r.text()), (400, INVALID_REFRESH.to_string()));
    let c = sim.counters();
    assert_eq!((c.refresh, c.refresh_rejected, c.faults_served), (1, 1, 1));
    let log = sim.token_log();
    assert_eq!(log.len(), 3);
    assert!(log[1].dropped && log[1].status == 200 && log[1].grant_type == "refresh_token");
}

#[test]
fn client_credentials_both_paths() {
    let sim = start(SimConfig {
        gl_client_id: "gl-id".into(),
        gl_client_secret: "gl-secret".into(),
        gl_ttl: Duration::from_secs(900),
        ..SimConfig::default()
    });
    let r = call(
        &sim,
        "POST",
        "/as/token.oauth2",
        &[
            ("Authorization", &basic("gl-id", "gl-secret")),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Accept", "application/json"),
        ],
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let j = r.json();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 900);
    let tok = j["access_token"].as_str().unwrap().to_string();
    assert_eq!(tok.split('.').count(), 3);
    assert!(tok
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    assert_eq!(api(&sim, &tok).status, 200);

    let r = call(
        &sim,
        "POST",
        "/authorization/v2/oauth2/ws-123/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"grant_type=client_credentials&client_id=gl-id&client_secret=gl-secret",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let r = call(
        &sim,
        "POST",
        "/as/token.oauth2",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"grant_type=client_credentials&client_id=gl-id&client_secret=wrong",
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"], "invalid_client");
    sim.advance_clock(Duration::from_secs(901));
    assert_eq!(api(&sim, &tok).status, 401);
    let c = sim.counters();
    assert_eq!(
        (
            c.client_credentials,
            c.client_credentials_rejected,
            c.token_requests
        ),
        (2, 1, 3)
    );
    assert!(sim
        .token_log()
        .iter()
        .all(|l| l.grant_type == "client_credentials"));
}

#[test]
fn download_token_shape() {
    let sim = sim();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let t = sim.download_token();
    let obj = t.as_object().unwrap();
    let mut keys: Vec<_> = obj.keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "appname",
            "authenticated_userid",
            "created_at",
            "credential_id",
            "expires_in",
            "id",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    assert_eq!(t["appname"], "nms");
    assert_eq!(t["authenticated_userid"], "admin@example.com");
    assert_eq!(t["scope"], "all");
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 7200);
    let created = t["created_at"].as_u64().unwrap();
    assert!(
        created >= before && created < before + 60_000,
        "milliseconds"
    );
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(api(&sim, at).status, 200);
    let r = refresh(&sim, t["refresh_token"].as_str().unwrap());
    assert_eq!(r.status, 200);
    assert_eq!(
        sim.counters().refresh,
        1,
        "download itself is not a refresh"
    );
}

#[test]
fn keep_alive_two_requests_one_connection() {
    let sim = sim();
    let (at, _) = login_pair(&sim);
    let mut c = Conn::open(&sim);
    let auth = format!("Bearer {at}");
    let a = c.call(
        "GET",
        "/configuration/v2/groups?limit=20&offset=0",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(a.header("connection"), Some("keep-alive"));
    let b = c.call(
        "GET",
        "/monitoring/v1/aps",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!((a.status, b.status), (200, 200));
    // A POST with a body on the same connection, then Connection: close.
    let d = c.call(
        "POST",
        "/_sim/valid",
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(d.status, 404);
    let e = c.call(
        "GET",
        &format!("/_sim/valid?token={at}"),
        &[("Connection", "close")],
        b"",
    );
    assert_eq!(e.json(), json!({"valid": true}));
    assert_eq!(e.header("connection"), Some("close"));
    assert!(c.read().is_err(), "server closes after Connection: close");
}

#[test]
fn control_endpoints() {
    let sim = sim();
    let (at, rt) = login_pair(&sim);
    let r = call(&sim, "GET", "/_sim/counters", &[], b"");
    let c: Counters = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(c, sim.counters());
    assert_common_headers(&r);

    let fault =
        json!({"Status":{"path_prefix":"/monitoring","count":1,"status":500,"retry_after":null}})
            .to_string();
    assert_eq!(
        call(
            &sim,
            "POST",
            "/_sim/faults",
            &[("Content-Type", "application/json")],
            fault.as_bytes()
        )
        .status,
        200
    );
    assert_eq!(
        call(&sim, "GET", "/_sim/faults", &[], b"")
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(call(&sim, "DELETE", "/_sim/faults", &[], b"").status, 200);
    assert!(sim.pending_faults().is_empty());
    assert_eq!(
        call(&sim, "POST", "/_sim/faults", &[], b"{\"Nope\":{}}").status,
        400
    );

    assert_eq!(
        call(&sim, "GET", &format!("/_sim/valid?token={at}"), &[], b"").json()["valid"],
        true
    );
    call(&sim, "POST", "/_sim/expire-access", &[], b"");
    assert_eq!(
        call(&sim, "GET", &format!("/_sim/valid?token={at}"), &[], b"").json()["valid"],
        false
    );
    call(&sim, "POST", "/_sim/revoke-all", &[], b"");
    assert_eq!(refresh(&sim, &rt).status, 400);
    let t = call(&sim, "POST", "/_sim/download-token", &[], b"").json();
    assert_eq!(t["appname"], "nms");
    let at2 = t["access_token"].as_str().unwrap();
    call(&sim, "POST", "/_sim/advance-clock?seconds=7200", &[], b"");
    assert!(!sim.access_token_valid(at2));
    let log = call(&sim, "GET", "/_sim/token-log", &[], b"").json();
    assert_eq!(log.as_array().unwrap().len(), 2);
    assert_eq!(log[1]["grant_type"], "refresh_token");
    assert_eq!(log[1]["status"], 400);
    assert_eq!(
        call(&sim, "POST", "/_sim/rate-limits?second=1", &[], b"").status,
        200
    );
}

#[test]
fn binary_prints_url_and_refuses_non_loopback() {
    let exe = env!("CARGO_BIN_EXE_central-sim");
    let mut child = std::process::Command::new(exe)
        .args(["--listen", "127.0.0.1:0", "--client-id", "cid"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let url = line
        .trim()
        .strip_prefix("central-sim listening on http://127.0.0.1:")
        .expect(&line);
    assert!(url.parse::<u16>().unwrap() > 0);

    let out = std::process::Command::new(exe)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("central-sim: ") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn drop_stops_the_server() {
    let sim = sim();
    let addr = sim.url().trim_start_matches("http://").to_string();
    let mut idle = Conn::open(&sim);
    let _ = idle.call("GET", "/_sim/counters", &[], b"");
    sim.shutdown();
    assert!(idle.read().is_err());
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn concurrent_refreshes_of_one_token_rotate_once() {
    let sim = sim();
    let (_, rt) = login_pair(&sim);
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| s.spawn(|| refresh(&sim, &rt).status))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 15);
    let c = sim.counters();
    assert_eq!(
        (c.refresh, c.refresh_rejected, c.token_requests),
        (1, 15, 17)
    );
    assert_eq!(sim.token_log().len(), 17);
}

// ---------------------------------------------------------------- API Gateway

fn refresh_as(sim: &Sim, id: &str, secret: &str, rt: &str) -> Resp {
    call(
        sim,
        "POST",
        &format!("/oauth2/token?client_id={id}&client_secret={secret}&grant_type=refresh_token&refresh_token={rt}"),
        &[],
        b"",
    )
}

fn s(v: &Value) -> String {
    v.as_str().unwrap().to_string()
}

#[test]
fn gateway_apps_tokens_download_and_revoke_over_http() {
    let sim = sim();
    // "+ Add Apps & Token": a new app with its own client and a first token.
    let r = call(
        &sim,
        "POST",
        "/_sim/apps",
        &[("Content-Type", "application/json")],
        br#"{"name":"ci-bot","token_name":"first"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let created = r.json();
    let (cid, csecret) = (
        s(&created["app"]["client_id"]),
        s(&created["app"]["client_secret"]),
    );
    assert_ne!(cid, "sim-client");
    assert_eq!(created["token"]["status"], "active");
    assert_eq!(created["token"]["app"], "ci-bot");
    let first = s(&created["token"]["id"]);
    // A second token on the same app (form body, as the page sends it).
    let r = call(
        &sim,
        "POST",
        "/_sim/apps/ci-bot/tokens",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"name=second",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let second = s(&r.json()["id"]);
    let apps = call(&sim, "GET", "/_sim/apps", &[], b"").json();
    assert_eq!(apps[0]["name"], "default");
    assert_eq!(apps[1]["name"], "ci-bot");
    assert_eq!(apps[1]["tokens"], 2);

    // Download: the exact ten fields, created_at in ms, as an attachment.
    let r = call(
        &sim,
        "GET",
        &format!("/_sim/tokens/{first}/download"),
        &[],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Disposition"),
        Some("attachment; filename=\"token_first.json\"")
    );
    let d1 = r.json();
    let mut keys: Vec<&String> = d1.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "access_token",
            "appname",
            "authenticated_userid",
            "created_at",
            "credential_id",
            "expires_in",
            "id",
            "refresh_token",
            "scope",
            "token_type"
        ]
    );
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let created_at = d1["created_at"].as_u64().unwrap();
    assert!(created_at.abs_diff(now_ms) < 60_000, "created_at is in ms");
    assert_eq!(
        (d1["appname"].clone(), d1["id"].clone()),
        (json!("nms"), json!(first))
    );
    let d2 = call(
        &sim,
        "POST",
        &format!("/_sim/tokens/{second}/download"),
        &[],
        b"",
    )
    .json();
    assert_eq!(api(&sim, &s(&d1["access_token"])).status, 200);
    assert_eq!(api(&sim, &s(&d2["access_token"])).status, 200);

    // Only the owning client may refresh; a refresh rotates within the chain.
    let r = refresh(&sim, &s(&d1["refresh_token"]));
    assert_eq!((r.status, r.text()), (400, INVALID_CLIENT.to_string()));
    let r = refresh_as(&sim, &cid, &csecret, &s(&d1["refresh_token"]));
    assert_eq!(r.status, 200, "{}", r.text());
    let rotated = r.json();
    let info = call(&sim, "GET", &format!("/_sim/tokens/{first}"), &[], b"").json();
    assert_eq!(
        (info["refresh_used"].clone(), info["refreshes"].clone()),
        (json!(true), json!(1))
    );
    // A new download gives the chain's newest pair.
    let d1b = call(
        &sim,
        "GET",
        &format!("/_sim/tokens/{first}/download"),
        &[],
        b"",
    )
    .json();
    assert_eq!(d1b["refresh_token"], rotated["refresh_token"]);

    // Revoke the first token: its chain dies, the second token lives on.
    let r = call(
        &sim,
        "POST",
        &format!("/_sim/tokens/{first}/revoke"),
        &[],
        b"",
    );
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("revoked"))
    );
    assert_eq!(
        api(&sim, &s(&rotated["access_token"])).text(),
        INVALID_TOKEN
    );
    let r = refresh_as(&sim, &cid, &csecret, &s(&rotated["refresh_token"]));
    assert_eq!(r.text(), INVALID_REFRESH);
    assert_eq!(api(&sim, &s(&d2["access_token"])).status, 200);
    assert_eq!(
        refresh_as(&sim, &cid, &csecret, &s(&d2["refresh_token"])).status,
        200
    );
    let r = call(
        &sim,
        "GET",
        &format!("/_sim/tokens/{first}/download"),
        &[],
        b"",
    );
    assert_eq!(r.status, 410, "{}", r.text());

    // The list keeps revoked and expired tokens.
    sim.advance_clock(Duration::from_secs(16 * 24 * 3600));
    let list = call(&sim, "GET", "/_sim/apps/ci-bot/tokens", &[], b"").json();
    let statuses: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["revoked", "expired"]);
    assert_eq!(
        call(&sim, "GET", "/_sim/tokens", &[], b"")
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Errors are one clear line with a fitting status.
    let r = call(&sim, "POST", "/_sim/apps", &[], b"name=ci-bot");
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(
        call(&sim, "POST", "/_sim/apps", &[], b"name=a%20b").status,
        400
    );
    assert_eq!(
        call(&sim, "GET", "/_sim/apps/nope/tokens", &[], b"").status,
        404
    );
    let r = call(&sim, "POST", "/_sim/tokens/nope/revoke", &[], b"");
    assert_eq!(r.status, 404);
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("GET /_sim/tokens"));
}

#[test]
fn gateway_in_process_and_login_tokens_are_listed() {
    let sim = sim();
    let (app, t1) = sim.create_app("ops", None).unwrap();
    assert_eq!(t1.name, "token-1");
    let t2 = sim.add_token("ops", Some("nightly")).unwrap();
    let d1 = sim.download(&t1.id).unwrap();
    let d2 = sim.download(&t2.id).unwrap();
    assert!(sim.access_token_valid(d1["access_token"].as_str().unwrap()));
    // The three-step login adds a token to the default app.
    let (at, _) = login_pair(&sim);
    let mine = sim.tokens(Some("default")).unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].name, "oauth-login");
    // The legacy download-token endpoint and revoke-all still work.
    let legacy = sim.download_token();
    assert_eq!(sim.tokens(Some("default")).unwrap().len(), 2);
    sim.revoke_token(&t1.id).unwrap();
    assert!(!sim.access_token_valid(d1["access_token"].as_str().unwrap()));
    assert!(!sim.refresh_token_valid(d1["refresh_token"].as_str().unwrap()));
    assert!(sim.access_token_valid(d2["access_token"].as_str().unwrap()));
    assert!(sim.access_token_valid(&at));
    assert_eq!(
        sim.token_info(&t1.id).unwrap().status,
        central_sim::TokenStatus::Revoked
    );
    sim.expire_access_tokens();
    assert_eq!(
        sim.token_info(&t2.id).unwrap().status,
        central_sim::TokenStatus::AccessExpired
    );
    sim.revoke_all();
    assert!(!sim.refresh_token_valid(legacy["refresh_token"].as_str().unwrap()));
    assert!(sim.tokens(None).unwrap().iter().all(|t| t.revoked));
    assert_eq!(app.application, "nms");
    assert!(matches!(
        sim.download(&t2.id),
        Err(central_sim::GatewayError::Revoked(_))
    ));
}

#[test]
fn rate_limits_count_per_client_app() {
    let sim = Sim::start(SimConfig {
        rate_limit_second: 1000,
        rate_limit_day: 2,
        ..SimConfig::default()
    })
    .unwrap();
    let (_, a) = sim.create_app("a", None).unwrap();
    let (_, b) = sim.create_app("b", None).unwrap();
    let ta = s(&sim.download(&a.id).unwrap()["access_token"]);
    let tb = s(&sim.download(&b.id).unwrap()["access_token"]);
    assert_eq!(api(&sim, &ta).status, 200);
    assert_eq!(api(&sim, &ta).status, 200);
    assert_eq!(api(&sim, &ta).status, 429, "app a spent its day");
    let r = api(&sim, &tb);
    assert_eq!(r.status, 200, "app b has its own bucket");
    assert_eq!(r.header("X-RateLimit-Remaining-day"), Some("1"));
}

#[test]
fn oauth_calls_count_unless_the_flag_is_off() {
    for (flag, expect) in [(true, 429), (false, 200)] {
        let sim = Sim::start(SimConfig {
            rate_limit_second: 1000,
            rate_limit_day: 1,
            rate_limit_oauth: flag,
            ..SimConfig::default()
        })
        .unwrap();
        let d = sim.download_token();
        let r = refresh(&sim, d["refresh_token"].as_str().unwrap());
        assert_eq!(r.status, 200, "{}", r.text());
        let at = r.json()["access_token"].as_str().unwrap().to_string();
        assert_eq!(api(&sim, &at).status, expect, "rate_limit_oauth={flag}");
    }
}

#[test]
fn inventory_paths_paginate_and_filter() {
    let sim = sim();
    let at = sim.download_token()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |path: &str| {
        let r = call(
            &sim,
            "GET",
            path,
            &[("Authorization", &format!("Bearer {at}"))],
            b"",
        );
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.json()
    };
    let aps = get("/monitoring/v2/aps?limit=2&offset=1&calculate_total=true");
    assert_eq!(
        (aps["count"].clone(), aps["total"].clone()),
        (json!(2), json!(3))
    );
    assert_eq!(aps["aps"][0]["serial"], "CNSIMAP002");
    let sw = get("/monitoring/v1/switches?group=branch");
    assert_eq!(sw["switches"][0]["name"], "sw-branch-01");
    assert_eq!(sw["total"], 1);
    assert_eq!(
        get("/monitoring/v2/mobility_controllers")["mcs"][0]["serial"],
        "CNSIMGW001"
    );
    assert_eq!(
        get("/monitoring/v1/gateways")["gateways"][0]["serial"],
        "CNSIMGW001"
    );
    let wl = get("/monitoring/v1/clients/wireless?site=HQ");
    assert_eq!(wl["total"], 3);
    assert_eq!(wl["clients"][0]["associated_device_name"], "ap-hq-lobby");
    assert_eq!(
        get("/monitoring/v1/clients/wired")["clients"][0]["interface_port"],
        "1/1/7"
    );
    assert_eq!(
        get("/monitoring/v2/networks")["networks"][0]["essid"],
        "Corp-WiFi"
    );
    let sites = get("/central/v2/sites");
    assert_eq!(sites["sites"][0]["associated_device_count"], 4);
    assert_eq!(get("/central/v2/labels")["labels"][1]["label_name"], "lab");
    assert_eq!(
        get("/central/v1/notifications")["notifications"][0]["severity"],
        "Major"
    );
    let tmpl = get("/configuration/v2/groups/template_info?groups=campus,branch");
    assert_eq!(tmpl["data"][1]["group"], "branch");
    let props = get("/configuration/v1/groups/properties?groups=branch");
    assert_eq!(
        props["data"][0]["properties"]["GwNetworkRole"],
        "BranchGateway"
    );
    // A path Central does not have keeps Kong's 404 body.
    let r = call(
        &sim,
        "GET",
        "/monitoring/v9/nothing",
        &[("Authorization", &format!("Bearer {at}"))],
        b"",
    );
    assert_eq!(
        (r.status, r.text()),
        (
            404,
            r#"{"message":"no route and no API found with those values"}"#.to_string()
        )
    );
    // Without a token the new paths answer Kong's 401.
    assert_eq!(call(&sim, "GET", "/central/v2/sites", &[], b"").status, 401);
}

#[test]
fn gateway_page_renders_and_its_forms_act() {
    let sim = sim();
    let r = call(&sim, "GET", "/_sim/", &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("text/html; charset=utf-8"));
    assert!(r.text().contains("+ Add Apps &amp; Token"));
    assert!(r.text().contains("No tokens yet"));
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let r = call(
        &sim,
        "POST",
        "/_sim/ui/apps",
        &form,
        b"name=web&token_name=one",
    );
    assert_eq!((r.status, r.header("Location")), (303, Some("/_sim/")));
    let id = sim.tokens(Some("web")).unwrap()[0].id.clone();
    let page = call(&sim, "GET", "/_sim", &[], b"").text();
    assert!(page.contains(&format!("/_sim/tokens/{id}/download")));
    assert!(page.contains(r#"data-status="active""#));
    let r = call(
        &sim,
        "POST",
        &format!("/_sim/ui/tokens/{id}/revoke"),
        &form,
        b"",
    );
    assert_eq!(r.status, 303);
    let page = call(&sim, "GET", "/_sim/", &[], b"").text();
    assert!(page.contains(r#"data-status="revoked""#));
    assert!(!page.contains(&format!("/_sim/tokens/{id}/download")));
    // A refused action shows the page with a one-line error banner.
    let r = call(&sim, "POST", "/_sim/ui/apps", &form, b"name=web");
    assert_eq!(r.status, 409);
    assert!(r
        .text()
        .contains(r#"role="alert">an app named &quot;web&quot; already exists"#));
}

/// Sends raw bytes on a fresh connection, shuts down the write side, and
/// returns the status answered (0 when the connection closed without one).
fn raw_status(sim: &Sim, bytes: &[u8]) -> u16 {
    let mut c = Conn::open(sim);
    c.writer.write_all(bytes).unwrap();
    c.writer.shutdown(std::net::Shutdown::Write).unwrap();
    c.read().map_or(0, |r| r.status)
}

#[test]
fn requests_counter_counts_everything_but_control_calls() {
    let sim = sim();
    let requests = || sim.counters().requests;
    assert_eq!(requests(), 0);
    // Control calls are not counted (this one reads the counters too).
    let r = call(&sim, "GET", "/_sim/counters", &[], b"");
    assert_eq!((r.status, r.json()["requests"].as_u64()), (200, Some(0)));
    // 404, 401 and a token call each count, whatever the status.
    assert_eq!(call(&sim, "GET", "/no/such/path", &[], b"").status, 404);
    assert_eq!(requests(), 1);
    assert_eq!(
        call(&sim, "GET", "/configuration/v2/groups", &[], b"").status,
        401
    );
    assert_eq!(requests(), 2);
    assert_eq!(call(&sim, "POST", "/oauth2/token", &[], b"").status, 400);
    assert_eq!(requests(), 3);
    // A dropped connection (fault) still received the request.
    sim.inject(Fault::DropConnection {
        path_prefix: "/x".into(),
        count: 1,
    });
    assert!(try_call(&sim, "GET", "/x", b"").is_err());
    assert_eq!(requests(), 4);
    // Requests the reader refuses are answered with their status and counted.
    for (raw, status) in [
        (&b"GET /x HTTP/1.1\nHost: sim\r\n\r\n"[..], 400),
        (
            b"POST /x HTTP/1.1\r\nHost: sim\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab",
            400,
        ),
        (
            b"POST /x HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            400,
        ),
        (b"GET /x HTTP/1.1\r\nHost : sim\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\nHost: sim\r\nA: b\r\n c\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\n\r\n", 400),
        (
            b"POST /x HTTP/1.1\r\nHost: sim\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            501,
        ),
        (b"GET /x HTTP/2.0\r\n\r\n", 505),
    ] {
        let before = requests();
        assert_eq!(raw_status(&sim, raw), status, "{}", String::from_utf8_lossy(raw));
        assert_eq!(requests(), before + 1);
    }
    // A connection closed before a request sends none; one closed in the
    // middle of a head did start one (answered 400 in case the client still
    // reads).
    let before = requests();
    assert_eq!(raw_status(&sim, b""), 0);
    assert_eq!(raw_status(&sim, b"\r\n"), 0);
    assert_eq!(requests(), before);
    assert_eq!(raw_status(&sim, b"GET /x HTTP/1.1\r\nHo"), 400);
    assert_eq!(requests(), before + 1);
    // The counter survives JSON without it (older simulators).
    let mut old = serde_json::to_value(sim.counters()).unwrap();
    old.as_object_mut().unwrap().remove("requests");
    let parsed: Counters = serde_json::from_value(old).unwrap();
    assert_eq!(parsed.requests, 0);
}
