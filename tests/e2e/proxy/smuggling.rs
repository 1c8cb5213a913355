//! One meaning for every request (RFC 9112): each ambiguous shape gets 400
//! and is never forwarded, and the connection is closed after it, so a
//! request hidden in its body is never served either.

use super::{figures, raw, reached, Proxy};
use central_auth_e2e::*;

#[test]
fn ambiguous_requests_are_refused_and_never_forwarded() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let host = proxy.addr().to_string();
    // Each hides a second request that a lenient reader would serve.
    let hidden = format!("GET /monitoring/v1/aps HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let n = hidden.len();
    let cases: Vec<(&str, String)> = vec![
        (
            "two different Content-Lengths",
            format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nContent-Length: {n}\r\n\r\n{hidden}"),
        ),
        (
            "two equal Content-Lengths",
            format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Length: {n}\r\nContent-Length: {n}\r\n\r\n{hidden}"),
        ),
        (
            "Content-Length and Transfer-Encoding",
            format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n{hidden}"),
        ),
        (
            "a bare LF",
            format!("GET /configuration/v2/groups HTTP/1.1\nHost: {host}\r\n\r\n{hidden}"),
        ),
        (
            "obsolete line folding",
            format!("GET /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nX-A: 1\r\n Content-Length: {n}\r\n\r\n{hidden}"),
        ),
        (
            "a header name with a space",
            format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nContent-Length : {n}\r\n\r\n{hidden}"),
        ),
        (
            "absolute-form for another host",
            format!("GET http://evil.example/configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\n\r\n{hidden}"),
        ),
        (
            "absolute-form for another port",
            format!("GET http://{}:{}/configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\n\r\n{hidden}", "127.0.0.1", proxy.addr().port() + 1),
        ),
        (
            "two Host headers",
            format!("GET /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nHost: evil.example\r\n\r\n{hidden}"),
        ),
        (
            "a transfer coding other than chunked",
            format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n{hidden}"),
        ),
    ];
    let before = reached(&home);
    let mut seen = Vec::new();
    for (what, request) in &cases {
        let (status, answer) = raw(&proxy.target, request.as_bytes());
        assert!(
            status == 400 || (status == 501 && what.contains("other than chunked")),
            "{what}: {answer}"
        );
        assert_eq!(
            answer.matches("HTTP/1.1 ").count(),
            1,
            "{what}: one answer, then the connection closed: {answer}"
        );
        assert_eq!(reached(&home), before, "{what} reached the simulator");
        seen.push(format!("{what} -> {status}"));
    }
    // The control: the same hidden request sent plainly is served.
    let (status, _) = raw(
        &proxy.target,
        hidden
            .replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
            .as_bytes(),
    );
    assert_eq!(status, 200);
    assert_eq!(reached(&home), before + 1);
    figures(&format!(
        "smuggling shapes, each with a hidden second request: {}; 0 reached the simulator",
        seen.join(", ")
    ));
}
