//! The owner is never starved: with 100 idle and 100 trickling connections
//! of another user (reopened as soon as the proxy closes them) and 100 idle
//! and 100 trickling connections of the owner's own, the owner's request is
//! answered, each time, in well under a second.
//!
//! The other user's connections come from a small Python program run as that
//! user (`PRESSURE` below: `tests/support` has no reconnecting load of
//! another user); the owner's from `slow_clients`.

use std::time::{Duration, Instant};

use central_auth_e2e::other_user::OtherUser;
use central_auth_e2e::slow_clients::{open_idle, open_trickle, timed_request};
use central_auth_e2e::*;

use super::{figures, reached, Proxy};

/// Keeps IDLE silent and TRICKLE trickling connections open to HOST:PORT,
/// reopening each one the server closes, until stdin closes; then prints
/// what it did as JSON.
const PRESSURE: &str = r#"
import json, select, socket, sys
host, port, idle_n, trickle_n, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
HEAD = b"GET /configuration/v2/groups HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
stats = {"opened": 0, "reopened": 0, "answers": {}}
def connect():
    s = socket.create_connection((host, port), timeout=5)
    s.setblocking(False)
    stats["opened"] += 1
    return s
def gone(s):
    try:
        data = s.recv(4096)
    except BlockingIOError:
        return False
    except OSError:
        return True
    if data.startswith(b"HTTP/1.1 "):
        code = data.split(b" ")[1].decode()
        stats["answers"][code] = stats["answers"].get(code, 0) + 1
    return True
idle = [connect() for _ in range(idle_n)]
trickle = [[connect(), 0] for _ in range(trickle_n)]
print("ready", flush=True)
while True:
    ready, _, _ = select.select([sys.stdin], [], [], every)
    if ready:
        break
    for i, s in enumerate(idle):
        if gone(s):
            s.close(); idle[i] = connect(); stats["reopened"] += 1
    for t in trickle:
        s, pos = t
        if gone(s):
            s.close(); t[0], t[1] = connect(), 0; stats["reopened"] += 1
            continue
        try:
            s.send(HEAD[pos:pos + 1] if pos < len(HEAD) else b"a")
            t[1] = pos + 1
        except OSError:
            s.close(); t[0], t[1] = connect(), 0; stats["reopened"] += 1
print(json.dumps(stats), flush=True)
"#;

#[test]
fn the_owner_is_answered_within_a_second_despite_idle_and_trickling_connections() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let Some(mut python) = other.python() else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let addr = proxy.addr();
    let mut theirs = python
        .args([
            "-c",
            PRESSURE,
            "127.0.0.1",
            &addr.port().to_string(),
            "100",
            "100",
            "1",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut their_out = std::io::BufReader::new(theirs.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut their_out, &mut line).unwrap();
    assert_eq!(
        line.trim(),
        "ready",
        "the other user's 200 connections are open"
    );
    let before = reached(&home);

    let request =
        format!("GET /monitoring/v1/aps HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut waits = Vec::new();
    let started = Instant::now();
    // Two rounds, so the second runs after the first round's slow
    // connections hit their head deadline and were reopened.
    for round in 0..2 {
        let idle = open_idle(addr, 100);
        let trickle = open_trickle(addr, 100, Duration::from_secs(1));
        assert!(trickle.wait_rounds(2, Duration::from_secs(10)));
        for _ in 0..6 {
            let (status, took) = timed_request(addr, request.as_bytes());
            assert_eq!(status, 200, "round {round}");
            waits.push(took);
            std::thread::sleep(Duration::from_millis(200));
        }
        drop(trickle);
        drop(idle);
        std::thread::sleep(Duration::from_secs(3));
    }
    drop(theirs.stdin.take());
    let mut stats = String::new();
    std::io::BufRead::read_line(&mut their_out, &mut stats).unwrap();
    let _ = theirs.wait();
    let stats: serde_json::Value = serde_json::from_str(stats.trim()).unwrap();
    assert_eq!(
        reached(&home),
        before + waits.len() as u64,
        "only the owner's requests reached the simulator"
    );
    let answers = &stats["answers"];
    assert!(
        answers.as_object().unwrap().keys().all(|k| k == "403"),
        "the other user only ever got 403: {stats}"
    );
    waits.sort();
    let max = *waits.last().unwrap();
    let p50 = waits[waits.len() / 2];
    let elapsed = started.elapsed();
    let out = proxy.stop();
    assert!(out.status.success());
    assert!(
        max < Duration::from_secs(1),
        "the owner waited {max:?} (all: {waits:?})"
    );
    figures(&format!(
        "starvation: {} owner requests over {:.1} s beside 100 idle + 100 trickling connections of the owner and of uid {} (the other user's reopened {} times, answered {}): p50 {:.1} ms, max {:.1} ms, all 200",
        waits.len(),
        elapsed.as_secs_f64(),
        other.uid,
        stats["reopened"],
        answers,
        p50.as_secs_f64() * 1000.0,
        max.as_secs_f64() * 1000.0
    ));
}

#[test]
fn a_head_must_arrive_within_its_deadline_and_the_owner_is_never_refused_room() {
    let home = TestHome::new();
    home.import_download("test", 0);
    let proxy = Proxy::start(&home, &[]);
    let addr = proxy.addr();
    // Half a head, then silence: 408 at the head deadline, then closed.
    let mut slow = std::net::TcpStream::connect(addr).unwrap();
    // A read never waits past this, even if no deadline fires.
    slow.set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    std::io::Write::write_all(
        &mut slow,
        b"GET /monitoring/v1/aps HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    )
    .unwrap();
    let started = Instant::now();
    let mut answers = super::Answers::new(slow);
    let (status, answer) = answers.next();
    let waited = started.elapsed();
    assert_eq!(status, 408, "{answer}");
    assert!(answer.contains(r#""refused":"head-timeout""#), "{answer}");
    assert!(
        waited < Duration::from_secs(15),
        "the deadline counts the whole head: {waited:?}"
    );
    assert_eq!(answers.next(), (0, String::new()), "then closed");
    // More idle connections of the owner than the proxy keeps: the oldest
    // are closed to make room, and the owner's request is still answered.
    let mut idle = open_idle(addr, 300);
    let request =
        format!("GET /monitoring/v1/aps HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let (status, took) = timed_request(addr, request.as_bytes());
    assert_eq!(status, 200);
    let closed = idle.closed_by_server();
    assert!(
        closed >= 300 - 256,
        "only {closed} of 300 idle connections were closed"
    );
    drop(proxy);
    figures(&format!(
        "deadlines: a half head answered 408 after {:.1} s; 300 idle owner connections: {closed} oldest closed to make room, the owner's request 200 in {:.1} ms",
        waited.as_secs_f64(),
        took.as_secs_f64() * 1000.0
    ));
}
