//! Unit tests of the broker's phases over an in-memory store and a scripted
//! transport (the e2e suite in tests/e2e runs the same rules against the
//! simulator and real files).

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::config::ProfileName;
use crate::error::Error;
use crate::holder::{host_name, Holder};
use crate::secret::{ExposeSecret, SecretString};
use crate::token::RotationMark;

use super::testing::{broker, record, MemStore, Script};
use super::Broker;

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);

fn classic(b: &Broker) -> &crate::config::Profile {
    b.config()
        .get(&ProfileName::new("classic").expect("name"))
        .expect("profile")
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// A holder that ran on this host and is gone.
fn gone_holder() -> Holder {
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    Holder {
        host: host_name(),
        pid,
        start: Some(1),
    }
}

#[test]
fn a_valid_token_is_handed_out_without_a_call() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemStore::holding(record("a1", "r1", MINUTE));
    let script = Script::new();
    let b = broker(dir.path(), &store, &script);
    let t = b.token(classic(&b), None).expect("token");
    assert_eq!(t.token.expose_secret(), "a1");
    assert!(!t.fresh);
    assert!(script.sent().is_empty(), "no request");
    assert!(store.state().writes.is_empty(), "no write");
}

#[test]
fn an_expired_token_is_refreshed_once_and_the_new_pair_written() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemStore::holding(record("a1", "r1", 3 * HOUR));
    let script = Script::new().pair("a2", "r2");
    let b = broker(dir.path(), &store, &script);
    let t = b.token(classic(&b), None).expect("token");
    assert_eq!(t.token.expose_secret(), "a2");
    assert!(t.fresh);
    assert_eq!(script.refreshes(), 1);
    assert!(script.sent()[0].1.contains("refresh_token=r1"));
    let stored = store.record();
    assert_eq!(stored.access_token.expose_secret(), "a2");
    assert_eq!(
        stored
            .refresh_token
            .as_ref()
            .map(|r| r.expose_secret().to_owned()),
        Some("r2".to_owned())
    );
    assert!(stored.rotating.is_none());
    // The write-ahead mark first, then the result.
    {
        let state = store.state();
        assert_eq!(state.writes.len(), 2);
        assert!(state.writes[0].rotating.is_some());
    }
    // A second call uses the new pair without a call.
    let again = b.token(classic(&b), None).expect("token");
    assert_eq!(again.token.expose_secret(), "a2");
    assert!(!again.fresh);
    assert_eq!(script.sent().len(), 1);
}

/// Linux: whether a holder still runs is read from `/proc`.
#[cfg(target_os = "linux")]
#[test]
fn a_rotation_mark_of_a_live_process_is_waited_for() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn");
    let mut marked = record("a1", "r1", 3 * HOUR);
    marked.rotating = Some(RotationMark {
        since: OffsetDateTime::now_utc(),
        holder: Holder {
            host: host_name(),
            pid: child.id(),
            start: None,
        },
    });
    let store = MemStore::holding(marked);
    let script = Script::new();
    let b = broker(dir.path(), &store, &script);
    // The live holder writes its result a little later.
    let holder = store.clone();
    let writer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        let mut result = record("a2", "r2", Duration::ZERO);
        result.generation = 2;
        holder.state().record = Some(result);
    });
    let started = Instant::now();
    let t = b.token(classic(&b), None).expect("token");
    let waited = started.elapsed();
    writer.join().expect("writer");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(t.token.expose_secret(), "a2", "the holder's result");
    assert!(waited >= Duration::from_millis(150), "waited {waited:?}");
    assert!(script.sent().is_empty(), "no request of its own");
}

#[test]
fn a_mark_left_by_a_gone_process_is_settled_with_central() {
    let dir = tempfile::tempdir().expect("dir");
    // The clock says the access token is fine, but a rotation was in flight.
    let mut marked = record("a1", "r1", MINUTE);
    marked.rotating = Some(RotationMark {
        since: OffsetDateTime::now_utc(),
        holder: gone_holder(),
    });
    let store = MemStore::holding(marked);
    let script = Script::new().pair("a2", "r2");
    let b = broker(dir.path(), &store, &script);
    let t = b.token(classic(&b), None).expect("token");
    assert_eq!(t.token.expose_secret(), "a2", "never the unsure a1");
    assert_eq!(script.refreshes(), 1);
    let stored = store.record();
    assert!(stored.rotating.is_none() && stored.lost.is_none());
}

#[test]
fn a_lost_answer_makes_the_chain_lost_when_central_rejects_the_refresh_token() {
    let dir = tempfile::tempdir().expect("dir");
    let mut marked = record("a1", "r1", MINUTE);
    marked.rotating = Some(RotationMark {
        since: OffsetDateTime::now_utc(),
        holder: gone_holder(),
    });
    let store = MemStore::holding(marked);
    let script = Script::new().answer(
        400,
        r#"{"error":"invalid_grant","error_description":"Invalid refresh_token"}"#,
    );
    let b = broker(dir.path(), &store, &script);
    let e = b.token(classic(&b), None).expect_err("lost");
    assert!(matches!(e, Error::NeedsLogin { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("was interrupted after Central had already rotated the pair"),
        "{e}"
    );
    let stored = store.record();
    assert!(stored.lost.is_some() && stored.rotating.is_none());
    // Later calls fail fast without calling Central.
    let e = b.token(classic(&b), None).expect_err("still lost");
    assert!(e.to_string().contains("recorded lost"), "{e}");
    assert_eq!(script.sent().len(), 1);
}

#[test]
fn a_reported_rejection_costs_exactly_one_refresh() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemStore::holding(record("a1", "r1", MINUTE));
    let script = Script::new().pair("a2", "r2");
    let b = broker(dir.path(), &store, &script);
    let p = classic(&b);
    assert!(!b.reject(p, &secret("other")).expect("reject"), "not ours");
    assert!(b.reject(p, &secret("a1")).expect("reject"));
    assert!(
        !b.reject(p, &secret("a1")).expect("reject"),
        "already marked"
    );
    let t = b.token(p, None).expect("token");
    assert_eq!(t.token.expose_secret(), "a2");
    let t = b.token(p, None).expect("token");
    assert_eq!(t.token.expose_secret(), "a2");
    assert_eq!(script.refreshes(), 1);
}

#[test]
fn the_refresh_token_is_only_ever_replaced_by_a_newer_one_from_central() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemStore::holding(record("a1", "r1", 3 * HOUR));
    let script = Script::new()
        // Central answers without rotating: the mark is cleared.
        .answer(500, r#"{"error":"server_error"}"#)
        // Nothing left this machine.
        .fail(false)
        // The request may have reached Central: the mark stays.
        .fail(true)
        // Settled: Central rotates.
        .pair("a2", "r2")
        // Central answers without rotating again.
        .answer(503, "{}")
        .pair("a3", "r3");
    let b = broker(dir.path(), &store, &script);
    let p = classic(&b);
    for _ in 0..3 {
        assert!(b.token(p, None).is_err());
        assert_eq!(
            store
                .record()
                .refresh_token
                .map(|r| r.expose_secret().to_owned()),
            Some("r1".to_owned())
        );
    }
    assert_eq!(b.token(p, None).expect("token").token.expose_secret(), "a2");
    assert!(b.force_refresh(p).is_err());
    assert_eq!(
        b.force_refresh(p).expect("token").token.expose_secret(),
        "a3"
    );
    // Every record ever written holds r1 until Central gave r2, then r2 until r3.
    let written = store.written_refresh_tokens();
    let order = ["r1", "r2", "r3"];
    let mut at = 0;
    for rt in &written {
        let rt = rt.as_deref().expect("a refresh token in every write");
        let pos = order.iter().position(|o| *o == rt).expect("known token");
        assert!(pos == at || pos == at + 1, "{written:?}");
        at = pos;
    }
    assert_eq!(at, 2, "{written:?}");
    assert_eq!(script.refreshes(), 6);
}

#[test]
fn a_refresh_never_stores_an_unusable_answer() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemStore::holding(record("a1", "r1", 3 * HOUR));
    let script = Script::new().answer(200, r#"{"access_token":"a2","expires_in":7200}"#);
    let b = broker(dir.path(), &store, &script);
    let e = b.token(classic(&b), None).expect_err("unusable answer");
    assert!(matches!(e, Error::NeedsLogin { .. }), "{e:?}");
    let stored = store.record();
    assert!(stored.lost.is_some());
    assert_eq!(
        stored.refresh_token.map(|r| r.expose_secret().to_owned()),
        Some("r1".to_owned()),
        "the old refresh token stays, never a guess"
    );
}

#[test]
fn client_credentials_mint_without_a_refresh_token() {
    let dir = tempfile::tempdir().expect("dir");
    let store = MemStore::default();
    let script = Script::new().answer(
        200,
        r#"{"access_token":"m1","token_type":"bearer","expires_in":7200}"#,
    );
    let b = broker(dir.path(), &store, &script);
    let p = b
        .config()
        .get(&ProfileName::new("mint").expect("name"))
        .expect("profile");
    let t = b.token(p, None).expect("token");
    assert_eq!(t.token.expose_secret(), "m1");
    assert!(store.record().refresh_token.is_none());
    assert_eq!(script.refreshes(), 0);
    assert_eq!(script.sent().len(), 1);
}

#[test]
fn the_profile_is_chosen_once_by_one_rule() {
    use super::{ProfileChoice, ProfileSource};
    let dir = tempfile::tempdir().expect("dir");
    let mut b = broker(dir.path(), &MemStore::default(), &Script::new());
    let choice = |name: &str, source| ProfileChoice {
        name: ProfileName::new(name).expect("name"),
        source,
    };
    assert_eq!(
        b.profile_choice().expect("choice"),
        choice("classic", ProfileSource::ConfigDefault)
    );
    assert_eq!(
        b.choose(Some("mint")).expect("choice").1,
        choice("mint", ProfileSource::Flag)
    );
    // As read when the broker opened.
    b.request.env = Some("mint".to_owned());
    assert_eq!(
        b.profile_choice().expect("choice"),
        choice("mint", ProfileSource::Environment)
    );
    assert_eq!(b.profile(None).expect("profile").name.as_str(), "mint");
    assert_eq!(
        b.choose(Some("classic")).expect("choice").1,
        choice("classic", ProfileSource::Flag)
    );
    // `open_for`'s flag holds for later calls.
    b.request.flag = Some("classic".to_owned());
    assert_eq!(
        b.profile_choice().expect("choice"),
        choice("classic", ProfileSource::Flag)
    );
    assert_eq!(ProfileSource::Environment.label(), "CENTRAL_AUTH_PROFILE");
    assert!(b.choose(Some("nope")).is_err());
}
