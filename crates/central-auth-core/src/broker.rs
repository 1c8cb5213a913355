//! The broker: the current access token of a profile, refreshed once for everyone.
//!
//! [`Broker::token`] takes the profile's exclusive lock, reads the stored token, and
//! returns it if it stays valid long enough. Otherwise it refreshes (classic) or
//! mints (client credentials), writes the result atomically, and releases the lock;
//! processes that waited then read the fresh token. A stored refresh token is only
//! ever replaced by a newer one from Central, or by an explicit `import`/`login`.
//!
//! Never hand out a token the broker has reason to believe is dead:
//!
//! - **Write-ahead rotation mark.** Before a refresh request is sent, the record
//!   is rewritten (durably) with a [`RotationMark`]: a rotation is in flight, since
//!   when, by which process. The write of the refresh's result clears it. A later
//!   holder that finds a mark whose writer is gone does not trust the stored access
//!   token on the clock's word (Kong deletes it when it rotates); it settles the
//!   question with Central by refreshing with the stored refresh token: success
//!   means the old pair was alive, `Invalid refresh_token` means the pair was
//!   rotated and the answer lost. A mark whose writer still runs on this host
//!   (possible only when the lock file was replaced under it) is waited for. The
//!   cached path only reads the record, as before.
//! - **A lost chain is state.** When Central rejects the refresh token (or
//!   answered a refresh with something unusable, or a rotated pair could not be
//!   saved) and no automatic login is possible, the record is marked lost and
//!   every later call fails fast with the login/import hint, without calling
//!   Central, until `import` or `login` replaces it.
//! - **Bounded.** One operation under the lock (secret commands and every HTTP
//!   attempt) ends within [`OPERATION_BUDGET`](crate::oauth::retry::OPERATION_BUDGET).

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::config::{Config, Grant, Profile};
use crate::error::Error;
use crate::holder::Holder;
use crate::home::{Home, PROFILE_ENV};
use crate::http::{Transport, UreqTransport};
use crate::import::{self, ImportedToken};
use crate::oauth::classic::{self, RefreshError};
use crate::oauth::retry::RetryPolicy;
use crate::oauth::{client_credentials, Gateway, TokenResponse};
use crate::secret::{duplicate, same, SecretString};
use crate::secret_source::SecretSource;
use crate::status::{self, ProfileStatus};
use crate::store::file::FileStore;
use crate::store::vault::VaultStore;
use crate::store::{CachedAccess, StoreGuard, TokenStore};
use crate::token::{ChainLost, RotationMark, StoredToken, TokenOrigin, FORMAT_VERSION};
use crate::usage;

/// A token handed to a tool.
#[derive(Debug)]
pub struct AccessToken {
    /// The bearer token.
    pub token: SecretString,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// The profile's API base URL.
    pub base_url: String,
    /// True when this call obtained it from Central (refresh, login or mint).
    pub fresh: bool,
    /// The minimum validity this call asked for.
    pub min_valid: Duration,
    /// The minimum validity actually applied: at most half the token's lifetime,
    /// so asking for more than a token can give does not refresh on every call.
    pub effective_min_valid: Duration,
}

/// What `import` did.
#[derive(Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The pair was stored.
    Stored {
        /// Whether it replaced an existing record.
        replaced: bool,
    },
    /// The same refresh token was already stored; nothing changed.
    AlreadyStored,
}

/// What `keepalive` did for a profile.
#[derive(Debug, PartialEq, Eq)]
pub enum KeepaliveOutcome {
    /// The refresh token was this old and has been replaced.
    Refreshed {
        /// Age before the refresh.
        age: Duration,
    },
    /// Younger than the threshold; nothing done.
    Fresh {
        /// Current age.
        age: Duration,
    },
    /// Client-credentials profile: no refresh token to keep alive.
    NotApplicable,
}

/// The token broker of one machine (or one `CENTRAL_AUTH_HOME`).
pub struct Broker {
    home: Home,
    config: Config,
    store: Box<dyn TokenStore>,
    shared: std::collections::BTreeMap<String, Box<dyn TokenStore>>,
    log: Box<dyn Fn(&str)>,
    client: Option<String>,
    retry: RetryPolicy,
    transport: Option<Box<dyn Transport>>,
    memo: Option<std::cell::RefCell<Option<Memo>>>,
}

/// How long a long-lived process reuses a token it read without looking at
/// the store again, at most (see [`Broker::with_memo`]).
pub const MEMO_TTL: Duration = Duration::from_secs(30);

/// The last record `token` read or wrote, and the store's stamp of it then.
struct Memo {
    profile: String,
    stamp: crate::store::RecordStamp,
    record: StoredToken,
    at: Instant,
}

impl Broker {
    /// Opens the broker: resolves the home and loads the config.
    pub fn open(home: Home) -> Result<Broker, Error> {
        crate::strict::enforce(&home)?;
        let config = Config::load(&home.config_file)?;
        Ok(Broker::with_config(home, config))
    }

    /// Opens a broker for a call about one profile: `explicit` (`--profile`),
    /// else `CENTRAL_AUTH_PROFILE`, else the default profile. Only that
    /// profile's part of the config is parsed and validated
    /// ([`Config::load_for`]; for a large file through the section index of
    /// [`crate::config_index`]), so a large config costs a cached call little.
    pub fn open_for(home: Home, explicit: Option<&str>) -> Result<Broker, Error> {
        crate::strict::enforce(&home)?;
        let env = std::env::var(PROFILE_ENV).ok().filter(|s| !s.is_empty());
        let wanted = explicit.or(env.as_deref());
        let config = crate::config_index::load_for(&home.config_file, &home.state_dir, wanted)?;
        Ok(Broker::with_config(home, config))
    }

    /// [`Broker::open_for`] from the environment.
    pub fn from_env_for(explicit: Option<&str>) -> Result<Broker, Error> {
        Broker::open_for(Home::from_env()?, explicit)
    }

    fn with_config(home: Home, config: Config) -> Broker {
        let store: Box<dyn TokenStore> = Box::new(FileStore::new(&home.state_dir));
        let shared = config
            .stores
            .iter()
            .map(|(name, c)| {
                let s: Box<dyn TokenStore> = Box::new(VaultStore::new(c, &home.state_dir));
                (name.clone(), s)
            })
            .collect();
        Broker {
            home,
            config,
            store,
            shared,
            log: Box::new(|_| {}),
            client: None,
            retry: RetryPolicy::default(),
            transport: None,
            memo: None,
        }
    }

    /// Opens the broker from the environment (`CENTRAL_AUTH_HOME` or platform dirs).
    pub fn from_env() -> Result<Broker, Error> {
        Broker::open(Home::from_env()?)
    }

    /// Sends a redacted line per HTTP call and lock wait to `log` (for `-v`).
    pub fn with_log(mut self, log: impl Fn(&str) + 'static) -> Broker {
        self.log = Box::new(log);
        self
    }

    /// Names the calling tool (`cli`, `git`, `kubectl`, ...) for usage records.
    pub fn with_client(mut self, client: &str) -> Broker {
        self.client = Some(client.to_owned());
        self
    }

    /// For a long-lived process asking for one profile's token again and
    /// again (`central-auth proxy`): `token` reuses the record it last read
    /// while the store's [`stamp`](TokenStore::stamp) of it is unchanged (any
    /// write, a rotation mark or a rejection included, changes it), the token
    /// is still valid for what the caller asks, and for at most [`MEMO_TTL`].
    /// That skips the lock and the read (about 40 µs per request). Never for
    /// a shared store, whose cache rules are its own.
    pub fn with_memo(mut self) -> Broker {
        self.memo = Some(std::cell::RefCell::new(None));
        self
    }

    /// Replaces the HTTP transport (tests).
    pub fn with_transport(mut self, transport: Box<dyn Transport>) -> Broker {
        self.transport = Some(transport);
        self
    }

    /// Replaces the retry policy (tests, `doctor`).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Broker {
        self.retry = retry;
        self
    }

    /// The loaded configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The resolved locations.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The token store that holds `profile`'s record.
    pub fn store_for(&self, profile: &Profile) -> &dyn TokenStore {
        profile
            .store
            .as_ref()
            .and_then(|name| self.shared.get(name))
            .unwrap_or(&self.store)
            .as_ref()
    }

    /// The local file store (for `store migrate`).
    pub fn file_store(&self) -> &dyn TokenStore {
        self.store.as_ref()
    }

    /// The profile named by `--profile`, else `CENTRAL_AUTH_PROFILE`, else the default.
    pub fn profile(&self, explicit: Option<&str>) -> Result<&Profile, Error> {
        let env = std::env::var(PROFILE_ENV).ok();
        self.config.select(explicit, env.as_deref())
    }

    /// The current access token of `profile`, valid for at least `min_valid`
    /// (default: the profile's `min_valid`), refreshing it if needed.
    pub fn token(
        &self,
        profile: &Profile,
        min_valid: Option<Duration>,
    ) -> Result<AccessToken, Error> {
        // Fleet rule: a shared pair is rotated only at its profile's min_valid
        // before expiry, whatever a caller asks (docs/ARCHITECTURE.md).
        let wanted = match self.store_for(profile).shared() {
            true => profile.min_valid,
            false => min_valid.unwrap_or(profile.min_valid),
        };
        if let Some(t) = self.memo_hit(profile, wanted) {
            return Ok(t);
        }
        let started = Instant::now();
        loop {
            let mut guard = self.lock(profile)?;
            // A store's local cache (shared stores): served while fresh.
            let cached = guard.cached();
            if let Some(c) = &cached {
                if c.fresh && c.usable_for(wanted, OffsetDateTime::now_utc()) {
                    self.note_use(profile);
                    return Ok(self.handed_out_cached(profile, c, wanted));
                }
            }
            let current = match guard.read() {
                Ok(current) => current,
                Err(e @ Error::Unavailable { .. }) => {
                    // The store is unreachable: a still-valid cached token is
                    // served, and nothing is refreshed (that would fork a shared
                    // chain).
                    return match &cached {
                        Some(c) if c.usable_for(Duration::ZERO, OffsetDateTime::now_utc()) => {
                            (self.log)(&format!("store: {e}; serving the cached access token"));
                            Ok(self.handed_out_cached(profile, c, wanted))
                        }
                        _ => Err(e),
                    };
                }
                Err(e) => return Err(e),
            };
            self.note_use(profile);
            if let Some(t) = &current {
                if t.lost.is_none()
                    && t.rotating.is_none()
                    && t.usable_for(wanted, OffsetDateTime::now_utc())
                {
                    // Under the lock no writer can move the record: its stamp
                    // now is the stamp of what was read.
                    self.remember(profile, t);
                    return Ok(self.handed_out(profile, t, false, wanted));
                }
                if let Some(mark) = in_flight(t) {
                    drop(guard);
                    self.wait_for_holder(profile, t.generation, &mark, started)?;
                    continue;
                }
            }
            let next = self.renew(profile, guard.as_mut(), current)?;
            self.remember(profile, &next);
            return Ok(self.handed_out(profile, &next, true, wanted));
        }
    }

    /// The memo's token, when [`Broker::with_memo`] is on and it still holds.
    fn memo_hit(&self, profile: &Profile, wanted: Duration) -> Option<AccessToken> {
        let memo = self.memo.as_ref()?.borrow();
        let m = memo.as_ref()?;
        let store = self.store_for(profile);
        let holds = m.profile == profile.name.as_str()
            && m.at.elapsed() < MEMO_TTL
            && !store.shared()
            && m.record.lost.is_none()
            && m.record.rotating.is_none()
            && !m.record.access_rejected
            && m.record.usable_for(wanted, OffsetDateTime::now_utc())
            && store.stamp(&profile.name) == Some(m.stamp);
        holds.then(|| self.handed_out(profile, &m.record, false, wanted))
    }

    /// Keeps `record` in the memo (called with the lock held, after the
    /// record was read or written).
    fn remember(&self, profile: &Profile, record: &StoredToken) {
        let Some(memo) = &self.memo else {
            return;
        };
        let store = self.store_for(profile);
        *memo.borrow_mut() = match store.stamp(&profile.name) {
            Some(stamp) if !store.shared() => Some(Memo {
                profile: profile.name.to_string(),
                stamp,
                record: copy_record(record),
                at: Instant::now(),
            }),
            _ => None,
        };
    }

    /// Refreshes (or mints) now, whatever the stored token's validity.
    pub fn force_refresh(&self, profile: &Profile) -> Result<AccessToken, Error> {
        let (mut guard, current) = self.lock_settled(profile)?;
        let next = self.renew(profile, guard.as_mut(), current)?;
        Ok(self.handed_out(profile, &next, true, profile.min_valid))
    }

    /// Runs the classic login (or mints, for client credentials) and stores the
    /// result, replacing whatever is stored (a lost chain, or a record that cannot
    /// be read). `password` overrides the profile's password source.
    pub fn login(
        &self,
        profile: &Profile,
        password: Option<SecretString>,
    ) -> Result<AccessToken, Error> {
        let mut guard = self.lock(profile)?;
        let current = self.read_or_discard(profile, guard.as_mut(), true)?;
        guard.check_writable()?;
        let expected = current.as_ref().map(|t| t.generation);
        let next = self.network(profile, |gw| match profile.grant {
            Grant::ClientCredentials => self.mint(profile, expected, gw),
            Grant::RefreshToken => self.relogin(profile, expected, password, gw),
        })?;
        guard.write(&next, expected)?;
        Ok(self.handed_out(profile, &next, true, profile.min_valid))
    }

    /// Stores an imported token JSON (Web UI download or token response).
    ///
    /// Refuses, unless `force`, a Web UI download older than the stored chain: its
    /// pair has most likely been rotated already, and storing it would replace the
    /// live refresh token with a dead one. A chain recorded lost is replaced
    /// without `force`; a record that cannot be read needs `force`.
    pub fn import(
        &self,
        profile: &Profile,
        text: &str,
        force: bool,
    ) -> Result<ImportOutcome, Error> {
        if profile.grant == Grant::ClientCredentials {
            return Err(Error::bad_input(format!(
                "profile {:?} uses client credentials and mints its own tokens; import is for classic profiles",
                profile.name.as_str()
            )));
        }
        let now = OffsetDateTime::now_utc();
        let imported = import::parse(text, now)?;
        let mut guard = self.lock(profile)?;
        let current = self.read_or_discard(profile, guard.as_mut(), force)?;
        if let Some(cur) = &current {
            if let Some(stored_rt) = &cur.refresh_token {
                if same(stored_rt, &imported.refresh_token) && cur.lost.is_none() {
                    return Ok(ImportOutcome::AlreadyStored);
                }
            }
            let stored_since = cur.refresh_issued_at.unwrap_or(cur.issued_at);
            if imported.from_download
                && imported.issued_at < stored_since
                && cur.lost.is_none()
                && !force
            {
                return Err(Error::bad_input(format!(
                    "the stored token of profile {:?} is newer ({}) than this file ({}); its pair was probably rotated already. Download a new token, or pass --force to replace the stored one anyway",
                    profile.name.as_str(),
                    status::rfc3339(stored_since),
                    status::rfc3339(imported.issued_at)
                )));
            }
        }
        let expected = current.as_ref().map(|t| t.generation);
        let record = record_from_import(imported, expected);
        guard.write(&record, expected)?;
        Ok(ImportOutcome::Stored {
            replaced: current.is_some(),
        })
    }

    /// Deletes the stored token, readable or not. Returns false if there was none.
    pub fn logout(&self, profile: &Profile) -> Result<bool, Error> {
        let mut guard = self.lock(profile)?;
        match guard.read() {
            Ok(Some(t)) => {
                guard.delete(t.generation)?;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => {
                (self.log)(&format!("logout: removing an unreadable record: {e}"));
                guard.discard()?;
                Ok(true)
            }
        }
    }

    /// Marks `token` rejected if it is the stored access token, so the next call
    /// refreshes (a server answered 401). Returns whether it was marked.
    pub fn reject(&self, profile: &Profile, token: &SecretString) -> Result<bool, Error> {
        let mut guard = self.lock(profile)?;
        let Some(mut current) = guard.read()? else {
            return Ok(false);
        };
        if current.access_rejected || !same(&current.access_token, token) {
            return Ok(false);
        }
        let expected = current.generation;
        current.generation += 1;
        current.access_rejected = true;
        guard.write(&current, Some(expected))?;
        Ok(true)
    }

    /// Refreshes the profile if its refresh token is at least `older_than` old, so
    /// the 15-day rule never removes a token someone still needs. Returns the age
    /// before the refresh, or `None` when nothing was due.
    pub fn keepalive(
        &self,
        profile: &Profile,
        older_than: Duration,
    ) -> Result<KeepaliveOutcome, Error> {
        if profile.grant == Grant::ClientCredentials {
            return Ok(KeepaliveOutcome::NotApplicable);
        }
        let (mut guard, current) = self.lock_settled(profile)?;
        if let Some(lost) = current.as_ref().and_then(|t| t.lost.as_ref()) {
            if !profile.can_relogin() {
                return Err(lost_error(profile, lost));
            }
        }
        let now = OffsetDateTime::now_utc();
        let age = match current.as_ref().and_then(|t| t.refresh_age(now)) {
            Some(age) => age,
            None => {
                return Err(Error::NeedsLogin {
                    profile: profile.name.to_string(),
                    reason: "no refresh token is stored".to_owned(),
                })
            }
        };
        let pending = current
            .as_ref()
            .is_some_and(|t| t.rotating.is_some() || t.lost.is_some());
        if age < older_than && !pending {
            return Ok(KeepaliveOutcome::Fresh { age });
        }
        self.renew(profile, guard.as_mut(), current)?;
        Ok(KeepaliveOutcome::Refreshed { age })
    }

    /// Sends one request through this broker's HTTP transport and retry policy
    /// (for `doctor`).
    pub fn raw_send(
        &self,
        profile: &Profile,
        request: &crate::http::Request,
    ) -> Result<crate::http::Response, Error> {
        self.network(profile, |gw| crate::oauth::send(gw, request))
    }

    /// Resolves a secret source with the profile's command timeout (for `doctor`).
    pub fn resolve_secret(
        &self,
        profile: &Profile,
        source: &SecretSource,
        what: &str,
    ) -> Result<SecretString, Error> {
        source.resolve(what, profile.secret_cmd_timeout, &*self.log)
    }

    /// What `status` shows for a profile; never a secret.
    pub fn status(&self, profile: &Profile) -> Result<ProfileStatus, Error> {
        let store = self.store_for(profile);
        let record = store.peek(&profile.name);
        status::build(
            profile,
            store,
            record,
            usage::read(&usage::path(&self.home.state_dir, &profile.name)),
            OffsetDateTime::now_utc(),
        )
        .map(|mut s| {
            s.api_quota =
                crate::quota::read(&crate::quota::path(&self.home.state_dir, &profile.name));
            s.proxies = crate::proxies::live(&self.home.state_dir, &profile.name)
                .iter()
                .map(status::ProxyStatus::from_record)
                .collect();
            s
        })
    }

    fn lock<'s>(&'s self, profile: &Profile) -> Result<Box<dyn StoreGuard + 's>, Error> {
        let guard = self
            .store_for(profile)
            .lock(&profile.name, profile.lock_timeout)?;
        let waited = guard.waited();
        if waited >= Duration::from_millis(1) {
            (self.log)(&format!(
                "lock: profile {} waited {} ms",
                profile.name,
                waited.as_millis()
            ));
        }
        Ok(guard)
    }

    /// Takes the lock and reads the record, first waiting out a rotation that a
    /// process still running on this host has in flight (it holds a replaced
    /// lock file), so the caller never races it.
    fn lock_settled(
        &self,
        profile: &Profile,
    ) -> Result<(Box<dyn StoreGuard + '_>, Option<StoredToken>), Error> {
        let started = Instant::now();
        loop {
            let mut guard = self.lock(profile)?;
            let current = guard.read()?;
            match current
                .as_ref()
                .and_then(|t| in_flight(t).map(|m| (t.generation, m)))
            {
                Some((generation, mark)) => {
                    drop(guard);
                    self.wait_for_holder(profile, generation, &mark, started)?;
                }
                None => return Ok((guard, current)),
            }
        }
    }

    /// Reads the record; one that cannot be read is removed when `replace` (an
    /// explicit `login`, or `import --force`), else reported with that fix.
    fn read_or_discard(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        replace: bool,
    ) -> Result<Option<StoredToken>, Error> {
        match guard.read() {
            Ok(current) => Ok(current),
            Err(e) if replace => {
                (self.log)(&format!(
                    "profile {}: replacing an unreadable record: {e}",
                    profile.name
                ));
                guard.discard()?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Waits, without the lock, until the process that left `mark` on record
    /// `generation` has written its result or stopped running, at most the
    /// profile's lock timeout from `started`.
    fn wait_for_holder(
        &self,
        profile: &Profile,
        generation: u64,
        mark: &RotationMark,
        started: Instant,
    ) -> Result<(), Error> {
        (self.log)(&format!(
            "refresh: process {} is rotating the pair of profile {} (since {}); waiting for its result",
            mark.holder.pid,
            profile.name,
            status::rfc3339(mark.since)
        ));
        let store = self.store_for(profile);
        let mut pause = Duration::from_millis(2);
        loop {
            let moved_on = match store.peek(&profile.name) {
                Ok(Some(t)) => t.generation != generation || t.rotating.as_ref() != Some(mark),
                _ => true,
            };
            if moved_on || !mark.holder.running_here() {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= profile.lock_timeout {
                return Err(Error::LockTimeout {
                    profile: profile.name.to_string(),
                    path: std::path::PathBuf::from(store.location(&profile.name)),
                    waited,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(25));
        }
    }

    fn note_use(&self, profile: &Profile) {
        if let Some(client) = &self.client {
            let path = usage::path(&self.home.state_dir, &profile.name);
            // Usage records are advisory: a failure must not fail the token call.
            if let Err(e) = usage::record(&path, client, OffsetDateTime::now_utc()) {
                (self.log)(&format!("usage: not recorded: {e}"));
            }
        }
    }

    fn handed_out(
        &self,
        profile: &Profile,
        t: &StoredToken,
        fresh: bool,
        wanted: Duration,
    ) -> AccessToken {
        AccessToken {
            token: duplicate(&t.access_token),
            expires_at: self.reported_expiry(profile, t.issued_at, t.expires_at),
            base_url: profile.base_url.clone(),
            fresh,
            min_valid: wanted,
            effective_min_valid: t.effective_min_valid(wanted),
        }
    }

    fn handed_out_cached(
        &self,
        profile: &Profile,
        c: &CachedAccess,
        wanted: Duration,
    ) -> AccessToken {
        AccessToken {
            token: duplicate(&c.access_token),
            expires_at: self.reported_expiry(profile, c.issued_at, c.expires_at),
            base_url: profile.base_url.clone(),
            fresh: false,
            min_valid: wanted,
            effective_min_valid: c.effective_min_valid(wanted),
        }
    }

    /// The expiry told to tools. For a shared store it is the earliest moment any
    /// broker of the fleet may rotate the pair (expiry minus the profile's
    /// `min_valid`, capped at half the lifetime): Central deletes the old access
    /// token at rotation, so a tool must not cache it beyond that.
    fn reported_expiry(
        &self,
        profile: &Profile,
        issued_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> OffsetDateTime {
        if !self.store_for(profile).shared() {
            return expires_at;
        }
        crate::store::rotation_at(profile.min_valid, issued_at, expires_at)
    }

    /// Obtains a new token for a profile whose stored one is not good enough
    /// (expired, rejected, marked in flight by a gone holder, or lost), and
    /// writes it. Called with the lock held.
    fn renew(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: Option<StoredToken>,
    ) -> Result<StoredToken, Error> {
        let expected = current.as_ref().map(|t| t.generation);
        if let Some(lost) = current.as_ref().and_then(|t| t.lost.as_ref()) {
            if !profile.can_relogin() {
                return Err(lost_error(profile, lost));
            }
        }
        self.network(profile, |gw| match (profile.grant, current) {
            (Grant::ClientCredentials, _) => {
                guard.check_writable()?;
                let next = self.mint(profile, expected, gw)?;
                guard.write(&next, expected)?;
                Ok(next)
            }
            (Grant::RefreshToken, Some(cur))
                if cur.refresh_token.is_some() && cur.lost.is_none() =>
            {
                self.rotate(profile, guard, cur, gw)
            }
            (Grant::RefreshToken, _) if profile.can_relogin() => {
                guard.check_writable()?;
                let next = self.relogin(profile, expected, None, gw)?;
                guard.write(&next, expected)?;
                Ok(next)
            }
            (Grant::RefreshToken, _) => Err(Error::NeedsLogin {
                profile: profile.name.to_string(),
                reason: "no token is stored".to_owned(),
            }),
        })
    }

    /// Rotates the pair: write-ahead mark, refresh, save. `current` may carry the
    /// mark of an interrupted rotation; this refresh then settles it.
    fn rotate(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: StoredToken,
        gw: &Gateway<'_>,
    ) -> Result<StoredToken, Error> {
        let interrupted = current.rotating.clone();
        if let Some(m) = &interrupted {
            (self.log)(&format!(
                "refresh: a refresh of profile {} by process {} at {} did not finish; asking Central whether the stored pair is still alive",
                profile.name,
                m.holder.pid,
                status::rfc3339(m.since)
            ));
        }
        // Secrets first: a command that fails must fail before anything is sent.
        let secret = self.secret(profile, &profile.client_secret, "client secret", gw)?;
        let mut marked = copy_record(&current);
        marked.generation = current.generation + 1;
        marked.rotating = Some(RotationMark {
            since: OffsetDateTime::now_utc(),
            holder: Holder::current(),
        });
        guard
            .write(&marked, Some(current.generation))
            .map_err(|e| Error::store(format!("{e}; nothing was sent to Central")))?;
        let refresh_token = marked
            .refresh_token
            .as_ref()
            .expect("rotate is only called with a stored refresh token");
        match classic::refresh(gw, profile, &secret, refresh_token) {
            Ok(response) => {
                if let Some(sent) = response.clamped_from {
                    (self.log)(&format!(
                        "refresh: Central said the token lives {sent} s; trusting at most {} s",
                        response.expires_in
                    ));
                }
                let next = record_from_response(response, &marked, TokenOrigin::Refresh);
                self.save_rotated(profile, guard, next, &marked)
            }
            Err(RefreshError::RefreshTokenRejected) => {
                (self.log)(&format!(
                    "refresh: Central rejected the refresh token of profile {}; re-reading the store",
                    profile.name
                ));
                // Another holder of a shared store may have rotated the chain.
                if let Some(reread) = guard.read()? {
                    if reread.generation != marked.generation && reread.lost.is_none() {
                        if reread.rotating.is_none()
                            && reread.usable_for(Duration::ZERO, OffsetDateTime::now_utc())
                        {
                            return Ok(reread);
                        }
                        if reread.refresh_token.is_some() {
                            return self.rotate(profile, guard, reread, gw);
                        }
                    }
                }
                let reason = match (&interrupted, gw.uncertain.get()) {
                    (Some(m), _) => format!(
                        "a refresh started at {} by process {} was interrupted after Central had already rotated the pair (or Central revoked it), so the stored refresh token is dead",
                        status::rfc3339(m.since),
                        m.holder.pid
                    ),
                    (None, true) => "the answer to a refresh was lost after Central had already rotated the pair, so the stored refresh token is dead".to_owned(),
                    (None, false) => "Central rejected the stored refresh token (Invalid refresh_token): it was used by another tool, revoked, or unused for 15 days".to_owned(),
                };
                self.recover_or_lose(profile, guard, &marked, reason, gw)
            }
            Err(RefreshError::BadAnswer(why)) => {
                let reason = format!(
                    "Central accepted the refresh but answered with an unusable token ({why}); the old refresh token is consumed, so the chain is lost"
                );
                self.recover_or_lose(profile, guard, &marked, reason, gw)
            }
            Err(RefreshError::Other(e)) if gw.uncertain.get() => Err(Error::unavailable(format!(
                "{e}; a refresh request may have reached Central, so the next call checks with Central before it uses the stored token"
            ))),
            Err(RefreshError::Other(e)) => {
                // Central answered without rotating, or nothing left this machine:
                // the stored pair is as alive as before. If clearing the mark fails,
                // the next call settles it with one more refresh.
                let mut cleared = copy_record(&marked);
                cleared.generation = marked.generation + 1;
                cleared.rotating = interrupted;
                if let Err(w) = guard.write(&cleared, Some(marked.generation)) {
                    (self.log)(&format!("refresh: could not clear the rotation mark: {w}"));
                }
                Err(e)
            }
        }
    }

    /// Saves a pair fresh from Central. If the write fails, says exactly that: the
    /// rotation happened and its result is lost (the mark stays, so the next
    /// caller settles it instead of trusting the dead access token).
    fn save_rotated(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        next: StoredToken,
        marked: &StoredToken,
    ) -> Result<StoredToken, Error> {
        let failure = match guard.write(&next, Some(marked.generation)) {
            Ok(()) => return Ok(next),
            Err(e) => e,
        };
        // Someone wrote in between (a replaced lock file). If they only settled our
        // mark as lost, or the mark is still ours, our pair is the live one.
        if let Ok(Some(stored)) = guard.read() {
            if stored.lost.is_some() || stored.rotating == marked.rotating {
                let mut again = next;
                again.generation = stored.generation + 1;
                if guard.write(&again, Some(stored.generation)).is_ok() {
                    return Ok(again);
                }
                return Err(save_failed(profile, &failure));
            }
            if stored.lost.is_none()
                && stored.rotating.is_none()
                && stored.usable_for(Duration::ZERO, OffsetDateTime::now_utc())
            {
                return Ok(stored);
            }
        }
        Err(save_failed(profile, &failure))
    }

    /// After the chain died: log in again when the profile allows it, else record
    /// the chain lost and say what to run.
    fn recover_or_lose(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        marked: &StoredToken,
        reason: String,
        gw: &Gateway<'_>,
    ) -> Result<StoredToken, Error> {
        let login_failure = if profile.can_relogin() {
            (self.log)(&format!(
                "refresh: {reason}; logging in again for profile {}",
                profile.name
            ));
            match self.relogin(profile, Some(marked.generation), None, gw) {
                Ok(next) => {
                    guard.write(&next, Some(marked.generation))?;
                    return Ok(next);
                }
                Err(e) => Some(e),
            }
        } else {
            None
        };
        let mut lost = copy_record(marked);
        lost.generation = marked.generation + 1;
        lost.rotating = None;
        lost.lost = Some(ChainLost {
            at: OffsetDateTime::now_utc(),
            reason: reason.clone(),
        });
        if let Err(e) = guard.write(&lost, Some(marked.generation)) {
            (self.log)(&format!("refresh: could not record the lost chain: {e}"));
        }
        match login_failure {
            Some(e) => Err(e),
            None => Err(Error::NeedsLogin {
                profile: profile.name.to_string(),
                reason,
            }),
        }
    }

    fn relogin(
        &self,
        profile: &Profile,
        expected: Option<u64>,
        password: Option<SecretString>,
        gw: &Gateway<'_>,
    ) -> Result<StoredToken, Error> {
        let password = match password {
            Some(p) => p,
            None => match &profile.password {
                Some(source) => self.secret(profile, source, "password", gw)?,
                None => {
                    return Err(Error::NeedsLogin {
                        profile: profile.name.to_string(),
                        reason: "no password source is configured for an automatic login"
                            .to_owned(),
                    })
                }
            },
        };
        let secret = self.secret(profile, &profile.client_secret, "client secret", gw)?;
        let response = classic::login(gw, profile, &secret, &password)?;
        Ok(new_record(response, expected, TokenOrigin::Login))
    }

    fn mint(
        &self,
        profile: &Profile,
        expected: Option<u64>,
        gw: &Gateway<'_>,
    ) -> Result<StoredToken, Error> {
        let secret = self.secret(profile, &profile.client_secret, "client secret", gw)?;
        let response = client_credentials::mint(gw, profile, &secret)?;
        let mut record = new_record(response, expected, TokenOrigin::ClientCredentials);
        record.refresh_token = None;
        record.refresh_issued_at = None;
        Ok(record)
    }

    /// Resolves a secret within the operation's budget.
    fn secret(
        &self,
        profile: &Profile,
        source: &SecretSource,
        what: &str,
        gw: &Gateway<'_>,
    ) -> Result<SecretString, Error> {
        let timeout = profile.secret_cmd_timeout.min(gw.remaining());
        source.resolve(what, timeout, &*self.log)
    }

    /// Runs `f` with a gateway for `profile` whose requests all end within the
    /// retry policy's budget ([`OPERATION_BUDGET`](crate::oauth::retry::OPERATION_BUDGET) by default). The ureq agent is
    /// built here, per network operation, so the cached path never pays for TLS
    /// setup and each profile gets its own `ca_file`.
    fn network<T>(
        &self,
        profile: &Profile,
        f: impl FnOnce(&Gateway<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let built;
        let transport: &dyn Transport = match &self.transport {
            Some(t) => t.as_ref(),
            None => {
                built = UreqTransport::new(profile.ca_file.as_deref())?;
                &built
            }
        };
        let gw = Gateway::new(transport, &*self.log, self.retry, self.retry.budget);
        f(&gw)
    }
}

/// The mark of a rotation that a process still running on this host has in
/// flight (it holds a replaced lock file): wait for it instead of settling it.
fn in_flight(t: &StoredToken) -> Option<RotationMark> {
    t.rotating
        .as_ref()
        .filter(|m| m.holder.running_here() && !m.holder.is_me())
        .cloned()
}

fn lost_error(profile: &Profile, lost: &ChainLost) -> Error {
    Error::NeedsLogin {
        profile: profile.name.to_string(),
        reason: format!(
            "the refresh chain was recorded lost at {} ({}); refreshing cannot help",
            status::rfc3339(lost.at),
            lost.reason
        ),
    }
}

fn save_failed(profile: &Profile, e: &Error) -> Error {
    Error::store(format!(
        "Central rotated the token pair of profile {:?} but the new pair could not be saved ({e}); the old pair is dead, so the chain is lost: fix the store, then run `central-auth login --profile {}` or `central-auth import --profile {} FILE`",
        profile.name.as_str(),
        profile.name,
        profile.name
    ))
}

/// A copy of a record (secrets duplicated, never exposed).
fn copy_record(t: &StoredToken) -> StoredToken {
    StoredToken {
        format: t.format,
        generation: t.generation,
        access_token: duplicate(&t.access_token),
        refresh_token: t.refresh_token.as_ref().map(duplicate),
        token_type: t.token_type.clone(),
        issued_at: t.issued_at,
        expires_at: t.expires_at,
        refresh_issued_at: t.refresh_issued_at,
        origin: t.origin,
        access_rejected: t.access_rejected,
        rotating: t.rotating.clone(),
        lost: t.lost.clone(),
    }
}

fn new_record(response: TokenResponse, expected: Option<u64>, origin: TokenOrigin) -> StoredToken {
    let now = OffsetDateTime::now_utc();
    StoredToken {
        format: FORMAT_VERSION,
        generation: expected.map_or(1, |g| g + 1),
        access_token: response.access_token,
        refresh_issued_at: response.refresh_token.as_ref().map(|_| now),
        refresh_token: response.refresh_token,
        token_type: response.token_type,
        issued_at: now,
        expires_at: crate::token::expiry_after(now, response.expires_in),
        origin,
        access_rejected: false,
        rotating: None,
        lost: None,
    }
}

/// The record after a refresh: the validated classic answer always carries the
/// new refresh token.
fn record_from_response(
    response: TokenResponse,
    previous: &StoredToken,
    origin: TokenOrigin,
) -> StoredToken {
    new_record(response, Some(previous.generation), origin)
}

fn record_from_import(imported: ImportedToken, expected: Option<u64>) -> StoredToken {
    StoredToken {
        format: FORMAT_VERSION,
        generation: expected.map_or(1, |g| g + 1),
        access_token: imported.access_token,
        refresh_token: Some(imported.refresh_token),
        token_type: imported.token_type,
        issued_at: imported.issued_at,
        expires_at: crate::token::expiry_after(imported.issued_at, imported.expires_in),
        refresh_issued_at: Some(imported.issued_at),
        origin: TokenOrigin::Import,
        access_rejected: false,
        rotating: None,
        lost: None,
    }
}
