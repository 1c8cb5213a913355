//! No web page can drive the proxy. By hand: a DNS-rebinding `Host`, an
//! `Origin` on a "simple" cross-site POST, `Sec-Fetch-Site: cross-site`. And
//! a real headless Chromium on an attacker's page (`browser::attack`):
//! cross-site fetches, a no-cors POST, a preflighted DELETE, `<img>` tags
//! carrying `access_token`, a form POST, and the DNS rebinding itself
//! (navigation, a same-origin read, a same-origin DELETE). Nothing reaches
//! the simulator.

use central_auth_e2e::browser::{self, ATTEMPTS};
use central_auth_e2e::*;

use super::{curl, figures, raw, reached, Proxy};

#[test]
fn requests_a_web_page_could_send_are_refused_by_hand() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let port = proxy.addr().port();
    let before = reached(&home);
    let cases: [(&str, String, u16, &str); 5] = [
        (
            "rebound Host",
            format!("GET /configuration/v2/groups HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n"),
            421,
            "host",
        ),
        (
            "Host of another port",
            format!("GET /configuration/v2/groups HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n", port + 1),
            421,
            "host",
        ),
        (
            "simple cross-site POST",
            format!("POST /configuration/v2/groups HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\nx"),
            403,
            "origin",
        ),
        (
            "Sec-Fetch-Site: cross-site",
            format!("GET /configuration/v2/groups HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Site: cross-site\r\n\r\n"),
            403,
            "sec-fetch-site",
        ),
        (
            "Origin: null (a sandboxed page)",
            "DELETE /configuration/v2/groups HTTP/1.1\r\nHost: localhost\r\nOrigin: null\r\n\r\n"
                .to_owned(),
            403,
            "origin",
        ),
    ];
    for (what, request, status, code) in &cases {
        let (got, answer) = raw(&proxy.target, request.as_bytes());
        assert_eq!(got, *status, "{what}: {answer}");
        assert!(
            answer.contains(&format!(r#""refused":"{code}""#)),
            "{what}: {answer}"
        );
        assert!(answer.contains("Connection: close"), "{what}: {answer}");
    }
    // The same with curl, the way a person would try it.
    let url = format!("{}/configuration/v2/groups", proxy.url);
    let (code, _) = curl(&url, &["-H", &format!("Host: evil.example:{port}")]);
    assert_eq!(code, 421);
    let (code, _) = curl(&url, &["-H", "Origin: http://evil.example", "-d", "x"]);
    assert_eq!(code, 403);
    assert_eq!(reached(&home), before, "nothing reached the simulator");
    // And the owner's own requests still pass, with every Host a person types.
    for host in [
        format!("127.0.0.1:{port}"),
        "localhost".into(),
        format!("[::1]:{port}"),
    ] {
        let (code, _) = curl(&url, &["-H", &format!("Host: {host}")]);
        assert_eq!(code, 200, "Host: {host}");
    }
    let out = proxy.stop();
    let log = text(&out.stderr);
    for (_, _, status, code) in &cases {
        assert!(
            log.contains(&format!("refused a request -> {status} ({code}: ")),
            "{log}"
        );
    }
    assert!(
        !log.contains("evil.example"),
        "no header value is logged: {log}"
    );
}

#[test]
fn a_real_browser_page_cannot_use_the_proxy() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let before = home.sim.counters();
    let mut per_attempt = Vec::new();
    let Some(report) = browser::attack(proxy.addr().port(), |a| {
        per_attempt.push((
            a.name.clone(),
            reached(&home) - before.requests,
            a.seen.clone(),
        ));
    }) else {
        return;
    };
    let mut lines = Vec::new();
    for (name, reached, seen) in &per_attempt {
        assert_eq!(*reached, 0, "attempt {name} reached the simulator: {seen}");
        lines.push(format!("{name}: page saw {seen}"));
    }
    assert_eq!(per_attempt.len(), ATTEMPTS.len());
    // The rebinding read, which succeeds against an unprotected server, sees
    // the proxy's refusal instead of Central's data.
    let read = report.attempt("rebind_fetch");
    assert_eq!(read.status(), Some(421), "{:?}", read.seen);
    let after = home.sim.counters();
    assert_eq!(
        (after.refresh, after.token_requests, after.requests),
        (before.refresh, before.token_requests, before.requests),
        "no refresh, no API call"
    );
    let out = proxy.stop();
    let log = text(&out.stderr);
    for code in ["(host: ", "(origin: ", "(sec-fetch-site: "] {
        assert!(log.contains(code), "{code} {log}");
    }
    figures(&format!(
        "browser ({}) from {}: {} attempts, 0 reached the simulator, 0 refreshes:\n  {}",
        report.browser,
        report.attacker,
        per_attempt.len(),
        lines.join("\n  ")
    ));
}
