//! Test doubles for the broker's phases: an in-memory [`TokenStore`] that
//! keeps every write, and a scripted [`Transport`] that answers from a list and
//! records what was sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{Config, ProfileName};
use crate::error::Error;
use crate::home::Home;
use crate::http::{Request, Response, Transport, TransportError};
use crate::oauth::retry::RetryPolicy;
use crate::secret::{ExposeSecret, SecretString};
use crate::store::{StoreGuard, TokenStore, Version};
use crate::token::{StoredToken, TokenOrigin, FORMAT_VERSION};

use super::record::copy_record;
use super::Broker;

/// What the in-memory store holds: the record and every record written.
#[derive(Default)]
pub(super) struct MemState {
    pub(super) record: Option<StoredToken>,
    pub(super) writes: Vec<StoredToken>,
}

/// An in-memory store for one process; clones share the state.
#[derive(Clone, Default)]
pub(super) struct MemStore(pub(super) Arc<Mutex<MemState>>);

impl MemStore {
    pub(super) fn holding(record: StoredToken) -> MemStore {
        let store = MemStore::default();
        store.state().record = Some(record);
        store
    }

    pub(super) fn state(&self) -> MutexGuard<'_, MemState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The stored record (panics when there is none: tests only).
    pub(super) fn record(&self) -> StoredToken {
        copy_record(self.state().record.as_ref().expect("a stored record"))
    }

    /// The refresh token of every record written, in order.
    pub(super) fn written_refresh_tokens(&self) -> Vec<Option<String>> {
        self.state()
            .writes
            .iter()
            .map(|t| {
                t.refresh_token
                    .as_ref()
                    .map(|r| r.expose_secret().to_owned())
            })
            .collect()
    }
}

struct MemGuard(MemStore);

impl TokenStore for MemStore {
    fn lock<'a>(
        &'a self,
        _profile: &ProfileName,
        _bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error> {
        Ok(Box::new(MemGuard(self.clone())))
    }

    fn peek(&self, _profile: &ProfileName) -> Result<Option<StoredToken>, Error> {
        Ok(self.state().record.as_ref().map(copy_record))
    }

    fn location(&self, profile: &ProfileName) -> String {
        format!("memory:{profile}")
    }

    fn lock_held(&self, _profile: &ProfileName) -> Result<bool, Error> {
        Ok(false)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

impl StoreGuard for MemGuard {
    fn read(&mut self) -> Result<Option<StoredToken>, Error> {
        Ok(self.0.state().record.as_ref().map(copy_record))
    }

    fn write(&mut self, record: &StoredToken, expected: Option<Version>) -> Result<(), Error> {
        let mut state = self.0.state();
        let current = state.record.as_ref().map(|t| t.generation);
        if current != expected || record.generation != expected.map_or(1, |g| g + 1) {
            return Err(Error::store(format!(
                "memory store: version {current:?}, expected {expected:?}, writing {}",
                record.generation
            )));
        }
        state.record = Some(copy_record(record));
        state.writes.push(copy_record(record));
        Ok(())
    }

    fn check_writable(&mut self) -> Result<(), Error> {
        Ok(())
    }

    fn delete(&mut self, expected: Version) -> Result<(), Error> {
        let mut state = self.0.state();
        match state.record.as_ref().map(|t| t.generation) {
            Some(g) if g == expected => {
                state.record = None;
                Ok(())
            }
            other => Err(Error::store(format!("memory store: version {other:?}"))),
        }
    }

    fn discard(&mut self) -> Result<(), Error> {
        self.0.state().record = None;
        Ok(())
    }

    fn waited(&self) -> Duration {
        Duration::ZERO
    }
}

/// One request as the scripted transport saw it.
pub(super) struct Sent {
    pub(super) url: String,
    pub(super) body: String,
}

/// Answers requests from a list, in order; a request beyond the list fails
/// the test's expectations with a connection error.
#[derive(Clone, Default)]
pub(super) struct Script(Arc<Mutex<ScriptState>>);

/// The answers still to give, and the requests seen.
type ScriptState = (VecDeque<Result<Response, TransportError>>, Vec<Sent>);

impl Script {
    pub(super) fn new() -> Script {
        Script::default()
    }

    fn inner(&self) -> MutexGuard<'_, ScriptState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues an answer with this status and JSON body.
    pub(super) fn answer(self, status: u16, body: &str) -> Script {
        self.inner().0.push_back(Ok(Response {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: SecretString::from(body.to_owned()),
        }));
        self
    }

    /// Queues a classic token answer with this pair.
    pub(super) fn pair(self, access: &str, refresh: &str) -> Script {
        let body = format!(
            r#"{{"access_token":"{access}","refresh_token":"{refresh}","token_type":"bearer","expires_in":7200}}"#
        );
        self.answer(200, &body)
    }

    /// Queues a failure without an answer.
    pub(super) fn fail(self, maybe_sent: bool) -> Script {
        self.inner().0.push_back(Err(TransportError {
            message: "connection reset".to_owned(),
            retryable: false,
            maybe_sent,
        }));
        self
    }

    /// The requests sent so far.
    pub(super) fn sent(&self) -> Vec<(String, String)> {
        self.inner()
            .1
            .iter()
            .map(|s| (s.url.clone(), s.body.clone()))
            .collect()
    }

    /// How many refresh requests were sent.
    pub(super) fn refreshes(&self) -> usize {
        self.sent()
            .iter()
            .filter(|(_, body)| body.contains("grant_type=refresh_token"))
            .count()
    }
}

impl Transport for Script {
    fn send(&self, request: &Request, _timeout: Duration) -> Result<Response, TransportError> {
        let mut inner = self.inner();
        inner.1.push(Sent {
            url: request.url.clone(),
            body: request
                .body
                .as_ref()
                .map(|(_, b)| b.expose_secret().to_owned())
                .unwrap_or_default(),
        });
        inner.0.pop_front().unwrap_or_else(|| {
            Err(TransportError {
                message: "unscripted request".to_owned(),
                retryable: false,
                maybe_sent: false,
            })
        })
    }
}

/// The config of the tests: `classic` (refresh token, no automatic login) and
/// `mint` (client credentials), both aimed at a closed port.
const CONFIG: &str = r#"
default_profile = "classic"

[profiles.classic]
base_url = "http://127.0.0.1:9"
client_id = "cid"
client_secret = "unit-secret"

[profiles.mint]
base_url = "http://127.0.0.1:9"
grant = "client_credentials"
client_id = "cid"
client_secret = "unit-secret"
"#;

/// A broker over `store` and `script`, without retries, with a home in `dir`.
pub(super) fn broker(dir: &std::path::Path, store: &MemStore, script: &Script) -> Broker {
    let home = Home::under(dir.to_path_buf());
    let config = Config::parse(CONFIG, &home.config_file).expect("test config parses");
    let mut broker = Broker::with_config(home, config)
        .with_transport(Box::new(script.clone()))
        .with_retry(RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        });
    broker.store = Box::new(store.clone());
    broker
}

/// A classic record of generation `generation`, issued `age` ago and valid
/// for two hours from then.
pub(super) fn record(access: &str, refresh: &str, age: Duration) -> StoredToken {
    let issued = OffsetDateTime::now_utc() - age;
    StoredToken {
        format: FORMAT_VERSION,
        generation: 1,
        access_token: SecretString::from(access.to_owned()),
        refresh_token: Some(SecretString::from(refresh.to_owned())),
        token_type: "bearer".to_owned(),
        issued_at: issued,
        expires_at: issued + Duration::from_secs(7200),
        refresh_issued_at: Some(issued),
        origin: TokenOrigin::Import,
        access_rejected: false,
        rotating: None,
        lost: None,
        tenant_id: None,
        tenant_name: None,
    }
}
