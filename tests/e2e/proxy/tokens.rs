//! No client can make the proxy rotate the chain: 20 requests carrying a
//! disguised `access_token` (every place Kong reads one from, every spelling
//! that decodes to it), from the owner and from another user, cause no
//! refresh, and a token handed out by `central-auth token` beforehand stays
//! valid. A token Central really killed still costs exactly one refresh, also
//! when several requests see its 401 at once.

use central_auth_e2e::other_user::OtherUser;
use central_auth_e2e::*;

use super::{curl, figures, raw, Proxy};

/// 20 requests, each carrying an `access_token` of its own somewhere.
fn disguised(host: &str) -> Vec<(String, Vec<u8>)> {
    let get = |target: &str| {
        format!("GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let post = |ct: &str, body: &str| {
        format!(
            "POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let mp = "--B\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\nx\r\n--B--\r\n";
    let mp_star =
        "--B\r\nContent-Disposition: form-data; name*=utf-8''%61ccess_token\r\n\r\nx\r\n--B--\r\n";
    let chunked = format!(
        "POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n7\r\naccess_\r\n7\r\ntoken=x\r\n0\r\n\r\n"
    )
    .into_bytes();
    vec![
        ("query".into(), get("/monitoring/v1/aps?access_token=x")),
        ("query, upper case".into(), get("/monitoring/v1/aps?ACCESS_TOKEN=x")),
        ("query, %61".into(), get("/monitoring/v1/aps?%61ccess_token=x")),
        ("query, %5F".into(), get("/monitoring/v1/aps?access%5Ftoken=x")),
        ("query, all encoded".into(), get("/monitoring/v1/aps?%61%63%63%65%73%73%5F%74%6F%6B%65%6E=x")),
        ("query, second parameter".into(), get("/monitoring/v1/aps?limit=1&access_token=x")),
        ("query, no value".into(), get("/monitoring/v1/aps?access_token")),
        ("query, absolute-form".into(), format!("GET http://{host}/monitoring/v1/aps?access_token=x HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").into_bytes()),
        ("form".into(), post("application/x-www-form-urlencoded", "access_token=x")),
        ("form, %61".into(), post("application/x-www-form-urlencoded", "a=1&%61ccess_token=x")),
        ("form, chunked".into(), chunked),
        ("text/plain read as a form".into(), post("text/plain", "access_token=x")),
        ("no type, read as a form".into(), format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Length: 14\r\nConnection: close\r\n\r\naccess_token=x").into_bytes()),
        ("json".into(), post("application/json", r#"{"access_token":"x"}"#)),
        ("json, \\u0061".into(), post("application/json", r#"{"\u0061ccess_token":"x"}"#)),
        ("json, nested".into(), post("application/json", r#"{"a":[{"b":{"Access_Token":"x"}}]}"#)),
        ("json, unparsable".into(), post("application/json", r#"{"access_token":"x""#)),
        ("json without a type".into(), format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{{\"access_token\":\"x\"}}").into_bytes()),
        ("multipart".into(), post("multipart/form-data; boundary=B", mp)),
        ("multipart, name*".into(), post("multipart/form-data; boundary=B", mp_star)),
    ]
}

#[test]
fn twenty_disguised_access_tokens_cause_no_refresh() {
    let home = TestHome::new();
    home.import_download("test", 0);
    // A token handed out before, in use by some other tool.
    let handed_out = home.token("test");
    let proxy = Proxy::start(&home, &[]);
    let host = proxy.addr().to_string();
    let before = home.sim.counters();
    let requests = disguised(&host);
    assert_eq!(requests.len(), 20);
    for (what, request) in &requests {
        let (status, answer) = raw(&proxy.target, request);
        assert_eq!(status, 400, "{what}: {answer}");
        assert!(
            answer.contains(r#""refused":"access-token""#),
            "{what}: {answer}"
        );
    }
    // The same 20 from another user: refused before they are even read.
    let mut theirs = 0;
    if let Some(other) = OtherUser::get() {
        for (what, request) in &requests {
            let reply = other.raw_http(&proxy.target, request).unwrap();
            assert_eq!(reply.status, Some(403), "{what}: {reply:?}");
            theirs += 1;
        }
    }
    let after = home.sim.counters();
    assert_eq!(
        (
            after.requests,
            after.refresh,
            after.token_requests,
            after.api_unauthorized
        ),
        (
            before.requests,
            before.refresh,
            before.token_requests,
            before.api_unauthorized
        ),
        "nothing reached the simulator: no 401, no refresh"
    );
    assert!(home.sim.access_token_valid(&handed_out));
    // The handed-out token still works against Central itself.
    let (code, _) = curl(
        &format!("{}/monitoring/v1/aps", home.sim.url()),
        &["-H", &format!("Authorization: Bearer {handed_out}")],
    );
    assert_eq!(code, 200);
    let out = proxy.stop();
    let log = text(&out.stderr);
    assert_eq!(log.matches("(access-token: ").count(), 20, "{log}");
    assert!(!log.contains(&handed_out));
    figures(&format!(
        "disguised access_token: 20 shapes from the owner -> 400, {theirs} from another user -> 403; 0 reached the simulator, 0 refreshes; the token handed out before still answers 200"
    ));
}

#[test]
fn a_token_central_killed_costs_one_refresh_however_many_requests_see_its_401() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &["--rate", "1000"]);
    let url = format!("{}/monitoring/v1/aps", proxy.url);
    let (code, _) = curl(&url, &[]);
    assert_eq!(code, 200);
    home.sim.expire_access_tokens();
    // 8 clients at once: each may see the dead token's 401; the first report
    // refreshes, the others retry with the new token and report nothing.
    let codes: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8).map(|_| s.spawn(|| curl(&url, &[]).0)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    let c = home.sim.counters();
    assert_one_refresh(&c, "8 concurrent requests after Central killed the token");
    let unauthorized = c.api_unauthorized;
    // A 401 that persists after the retry with the refreshed token (injected
    // here) is passed on: one report and one retry per request, no loop.
    home.sim.inject(Fault::Status {
        path_prefix: "/monitoring/v1/aps".into(),
        count: 2,
        status: 401,
        retry_after: None,
    });
    let (code, body) = curl(&url, &[]);
    assert_eq!(code, 401, "{body}");
    assert!(body.contains("invalid_token"), "{body}");
    let c = home.sim.counters();
    assert_eq!(
        (
            c.refresh,
            c.api_unauthorized - unauthorized,
            c.faults_served
        ),
        (2, 0, 2),
        "{c:?}"
    );
    let (code, _) = curl(&url, &[]);
    assert_eq!(code, 200, "the next request uses the refreshed token");
    assert_eq!(home.sim.counters().refresh, 2);
    figures(&format!(
        "killed token through the proxy: 8 concurrent requests -> 1 refresh, {unauthorized} upstream 401s absorbed, all 200"
    ));
}

/// The proxy's workers reuse the token they read while the record is
/// unchanged (`Broker::with_memo`). A rotation by another process replaces the
/// record, so the very next proxied request carries the new token: Central
/// never sees the old, dead one (no 401, no retry).
#[test]
fn a_rotation_by_another_process_is_seen_by_the_next_request() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let url = format!("{}/monitoring/v1/aps", proxy.url);
    for _ in 0..40 {
        assert_eq!(curl(&url, &[]).0, 200);
    }
    let before = home.sim.counters();
    for round in 0..3 {
        let out = home.cli(&["refresh", "--profile", "test"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        for _ in 0..40 {
            assert_eq!(curl(&url, &[]).0, 200, "round {round}");
        }
    }
    let after = home.sim.counters();
    assert_eq!(after.refresh - before.refresh, 3);
    assert_eq!(
        after.api_unauthorized, before.api_unauthorized,
        "a proxied request carried a token another process had rotated away"
    );
    figures(&format!(
        "memo: 3 rotations by `central-auth refresh` between 40-request rounds through the proxy: {} API 401s (0 expected)",
        after.api_unauthorized - before.api_unauthorized
    ));
}
