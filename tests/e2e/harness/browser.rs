//! A browser as the attacker (`browser::attack`): every attempt reaches a
//! recording server (with what the browser sent) and `central-sim` directly.

use central_auth_e2e::browser::{self, ATTEMPTS};
use central_auth_e2e::recorder::{Recorder, RecorderOpts};
use central_auth_e2e::*;

use super::{figures, sim_addr};

#[test]
fn every_browser_attempt_reaches_a_recording_server_with_what_it_sent() {
    // Preflights allowed, so the cross-site DELETE is sent too.
    let rec = Recorder::with(RecorderOpts {
        cors: true,
        ..RecorderOpts::default()
    });
    let port = rec.port();
    let mut per_attempt = Vec::new();
    let Some(report) = browser::attack(port, |a| {
        per_attempt.push((a.name.clone(), rec.matching(&a.marker())));
    }) else {
        return;
    };
    let attacker = report.attacker.clone();
    let direct_host = format!("127.0.0.1:{port}");
    let rebound_host = format!("evil.example:{port}");
    let mut lines = Vec::new();
    for (name, reqs) in &per_attempt {
        assert!(!reqs.is_empty(), "attempt {name} reached nothing");
        for r in reqs {
            lines.push(format!("{name}: {}", r.summary()));
        }
        let methods: Vec<&str> = reqs.iter().map(|r| r.method.as_str()).collect();
        let first = &reqs[0];
        match name.as_str() {
            "cross_site_get" => {
                assert_eq!(methods, ["GET"]);
                assert_eq!(first.host(), Some(direct_host.as_str()));
                assert_eq!(first.origin(), Some(attacker.as_str()));
                assert_eq!(first.sec_fetch_site(), Some("cross-site"));
            }
            "simple_post" => {
                assert_eq!(methods, ["POST"]);
                assert_eq!(first.origin(), Some(attacker.as_str()));
                assert_eq!(first.sec_fetch_site(), Some("cross-site"));
                assert!(first.content_type().unwrap().starts_with("text/plain"));
                assert_eq!(first.body, b"x");
            }
            "preflight_delete" => {
                assert_eq!(methods, ["OPTIONS", "DELETE"], "preflight, then the DELETE");
                assert_eq!(
                    first.header("access-control-request-method"),
                    Some("DELETE")
                );
                assert_eq!(first.origin(), Some(attacker.as_str()));
                assert_eq!(reqs[1].origin(), Some(attacker.as_str()));
            }
            "img_encoded_token" | "img_token" => {
                assert_eq!(methods, ["GET"]);
                assert_eq!(first.origin(), None, "an <img> sends no Origin");
                assert_eq!(first.sec_fetch_site(), Some("cross-site"));
                let param = if name == "img_token" {
                    "?access_token=x"
                } else {
                    // Chromium sends the percent-encoded name as written.
                    "?%61ccess_token=x"
                };
                assert!(first.target.contains(param), "{}", first.target);
            }
            "form_post" => {
                assert_eq!(methods, ["POST"]);
                assert_eq!(first.origin(), Some(attacker.as_str()));
                assert_eq!(
                    first.content_type(),
                    Some("application/x-www-form-urlencoded")
                );
                assert_eq!(first.body, b"access_token=x");
            }
            "rebind_navigate" | "rebind_fetch" => {
                // Only Host tells this GET apart: no Origin on a same-origin
                // GET, and no Sec-Fetch-* to a URL that is not potentially
                // trustworthy (http://evil.example is not; 127.0.0.1 is).
                assert_eq!(methods, ["GET"]);
                assert_eq!(first.host(), Some(rebound_host.as_str()));
                assert_eq!(first.origin(), None);
                assert_eq!(first.sec_fetch_site(), None);
            }
            "rebind_delete" => {
                assert_eq!(methods, ["DELETE"], "same origin: no preflight");
                assert_eq!(first.host(), Some(rebound_host.as_str()));
                assert_eq!(first.sec_fetch_site(), None);
                assert_eq!(
                    first.origin(),
                    Some(format!("http://{rebound_host}").as_str())
                );
            }
            other => panic!("unexpected attempt {other}"),
        }
    }
    // The read: after the rebinding, the page reads the answer.
    let read = report.attempt("rebind_fetch");
    assert_eq!(read.status(), Some(200), "{:?}", read.seen);
    assert_eq!(
        read.seen["page_origin"].as_str(),
        Some(format!("http://{rebound_host}").as_str())
    );
    assert_eq!(report.attempt("rebind_navigate").status(), Some(200));
    // Nothing reached the target without its marker but favicon fetches.
    for r in rec.requests() {
        assert!(
            r.target.contains("e2e_attempt=") || r.target == "/favicon.ico",
            "unexpected request {}",
            r.summary()
        );
    }
    assert_eq!(per_attempt.len(), ATTEMPTS.len());
    figures(&format!(
        "browser ({}) attacker {attacker}, what reached the recording server:\n  {}",
        report.browser,
        lines.join("\n  ")
    ));
}

#[test]
fn every_browser_attempt_reaches_the_simulator() {
    let sim = sim_with(7200);
    let port = sim_addr(&sim).port();
    let mut last = sim.counters();
    let mut deltas = Vec::new();
    let Some(report) = browser::attack(port, |a| {
        let now = sim.counters();
        deltas.push((
            a.name.clone(),
            now.api_unauthorized - last.api_unauthorized,
            now.secrets_in_query - last.secrets_in_query,
        ));
        last = now;
    }) else {
        return;
    };
    let mut lines = Vec::new();
    for (name, unauthorized, in_query) in &deltas {
        lines.push(format!(
            "{name}: {unauthorized} API request(s), {in_query} token(s) in the query; page saw {}",
            report.attempt(name).seen
        ));
        // Each attempt's request(s) arrived at the simulator's API (401: the
        // browser has no token), so with the proxy in between 0 means refused.
        assert!(*unauthorized >= 1, "{name} did not reach the simulator");
        let expected_query = u64::from(name.starts_with("img_"));
        assert_eq!(*in_query, expected_query, "{name}");
    }
    // The simulator answers a preflight 401 without CORS headers: the DELETE
    // itself is never sent, the OPTIONS is what arrives.
    let delete = deltas.iter().find(|d| d.0 == "preflight_delete").unwrap();
    assert_eq!(delete.1, 1);
    assert_eq!(report.attempt("rebind_fetch").status(), Some(401));
    figures(&format!(
        "browser attempts against central-sim directly:\n  {}",
        lines.join("\n  ")
    ));
}
