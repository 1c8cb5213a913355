//! The broker: the current access token of a profile, refreshed once for everyone.
//!
//! [`Broker::token`] takes the profile's exclusive lock, reads the stored token, and
//! returns it if it stays valid long enough. Otherwise it refreshes (classic) or
//! mints (client credentials), writes the result atomically, and releases the lock;
//! processes that waited then read the fresh token. A stored refresh token is only
//! ever replaced by a newer one from Central, or by an explicit `import`/`login`.
//!
//! When Central answers `Invalid refresh_token`, the broker re-reads the store
//! (another holder, e.g. on another machine with a shared store, may have rotated
//! it), then logs in again if the profile has a username and password source, and
//! otherwise fails with [`Error::NeedsLogin`].

use std::time::Duration;

use time::OffsetDateTime;

use crate::config::{Config, Grant, Profile};
use crate::error::Error;
use crate::home::{Home, PROFILE_ENV};
use crate::http::{Transport, UreqTransport};
use crate::import::{self, ImportedToken};
use crate::oauth::classic::{self, RefreshError};
use crate::oauth::retry::RetryPolicy;
use crate::oauth::{client_credentials, Gateway, TokenResponse};
use crate::secret::{duplicate, same, SecretString};
use crate::status::{self, ProfileStatus};
use crate::store::file::FileStore;
use crate::store::{StoreGuard, TokenStore};
use crate::token::{StoredToken, TokenOrigin, FORMAT_VERSION};
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
    log: Box<dyn Fn(&str)>,
    client: Option<String>,
    retry: RetryPolicy,
    transport: Option<Box<dyn Transport>>,
}

impl Broker {
    /// Opens the broker: resolves the home and loads the config.
    pub fn open(home: Home) -> Result<Broker, Error> {
        let config = Config::load(&home.config_file)?;
        let store: Box<dyn TokenStore> = Box::new(FileStore::new(&home.state_dir));
        Ok(Broker {
            home,
            config,
            store,
            log: Box::new(|_| {}),
            client: None,
            retry: RetryPolicy::default(),
            transport: None,
        })
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
    pub fn store_for(&self, _profile: &Profile) -> &dyn TokenStore {
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
        let min_valid = min_valid.unwrap_or(profile.min_valid);
        let mut guard = self.lock(profile)?;
        let current = guard.read()?;
        self.note_use(profile);
        let now = OffsetDateTime::now_utc();
        if let Some(t) = &current {
            if t.usable_for(min_valid, now) {
                return Ok(self.handed_out(profile, t, false));
            }
        }
        let next = self.renew(profile, guard.as_mut(), current)?;
        Ok(self.handed_out(profile, &next, true))
    }

    /// Refreshes (or mints) now, whatever the stored token's validity.
    pub fn force_refresh(&self, profile: &Profile) -> Result<AccessToken, Error> {
        let mut guard = self.lock(profile)?;
        let current = guard.read()?;
        let next = self.renew(profile, guard.as_mut(), current)?;
        Ok(self.handed_out(profile, &next, true))
    }

    /// Runs the classic login (or mints, for client credentials) and stores the
    /// result. `password` overrides the profile's password source.
    pub fn login(
        &self,
        profile: &Profile,
        password: Option<SecretString>,
    ) -> Result<AccessToken, Error> {
        let mut guard = self.lock(profile)?;
        let current = guard.read()?;
        guard.check_writable()?;
        let expected = current.as_ref().map(|t| t.generation);
        let next = match profile.grant {
            Grant::ClientCredentials => self.mint(profile, expected)?,
            Grant::RefreshToken => self.relogin(profile, expected, password)?,
        };
        guard.write(&next, expected)?;
        Ok(self.handed_out(profile, &next, true))
    }

    /// Stores an imported token JSON (Web UI download or token response).
    ///
    /// Refuses, unless `force`, a Web UI download older than the stored chain: its
    /// pair has most likely been rotated already, and storing it would replace the
    /// live refresh token with a dead one.
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
        let current = guard.read()?;
        if let Some(cur) = &current {
            if let Some(stored_rt) = &cur.refresh_token {
                if same(stored_rt, &imported.refresh_token) {
                    return Ok(ImportOutcome::AlreadyStored);
                }
            }
            let stored_since = cur.refresh_issued_at.unwrap_or(cur.issued_at);
            if imported.from_download && imported.issued_at < stored_since && !force {
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

    /// Deletes the stored token. Returns false if there was none.
    pub fn logout(&self, profile: &Profile) -> Result<bool, Error> {
        let mut guard = self.lock(profile)?;
        match guard.read()? {
            Some(t) => {
                guard.delete(t.generation)?;
                Ok(true)
            }
            None => Ok(false),
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
        let mut guard = self.lock(profile)?;
        let current = guard.read()?;
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
        if age < older_than {
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
        self.with_gateway(profile, |gw| crate::oauth::send(gw, request))
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

    fn note_use(&self, profile: &Profile) {
        if let Some(client) = &self.client {
            let path = usage::path(&self.home.state_dir, &profile.name);
            // Usage records are advisory: a failure must not fail the token call.
            if let Err(e) = usage::record(&path, client, OffsetDateTime::now_utc()) {
                (self.log)(&format!("usage: not recorded: {e}"));
            }
        }
    }

    fn handed_out(&self, profile: &Profile, t: &StoredToken, fresh: bool) -> AccessToken {
        AccessToken {
            token: duplicate(&t.access_token),
            expires_at: t.expires_at,
            base_url: profile.base_url.clone(),
            fresh,
        }
    }

    /// Obtains a new token for a profile whose stored one is not good enough, and
    /// writes it. Called with the lock held.
    fn renew(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: Option<StoredToken>,
    ) -> Result<StoredToken, Error> {
        guard.check_writable()?;
        let expected = current.as_ref().map(|t| t.generation);
        let next = match (profile.grant, current) {
            (Grant::ClientCredentials, _) => self.mint(profile, expected)?,
            (Grant::RefreshToken, Some(cur)) if cur.refresh_token.is_some() => {
                return self.refresh_or_recover(profile, guard, cur);
            }
            (Grant::RefreshToken, _) if profile.can_relogin() => {
                self.relogin(profile, expected, None)?
            }
            (Grant::RefreshToken, _) => {
                return Err(Error::NeedsLogin {
                    profile: profile.name.to_string(),
                    reason: "no token is stored".to_owned(),
                })
            }
        };
        guard.write(&next, expected)?;
        Ok(next)
    }

    fn refresh_or_recover(
        &self,
        profile: &Profile,
        guard: &mut dyn StoreGuard,
        current: StoredToken,
    ) -> Result<StoredToken, Error> {
        let refresh_token = current
            .refresh_token
            .as_ref()
            .expect("caller checked that a refresh token is stored");
        let secret = profile.client_secret.resolve("client secret")?;
        let refreshed = self.with_gateway(profile, |gateway| {
            Ok(classic::refresh(gateway, profile, &secret, refresh_token))
        })?;
        match refreshed {
            Ok(response) => {
                let next = record_from_response(response, &current, TokenOrigin::Refresh);
                guard.write(&next, Some(current.generation))?;
                Ok(next)
            }
            Err(RefreshError::Other(e)) => Err(e),
            Err(RefreshError::RefreshTokenRejected) => {
                (self.log)(&format!(
                    "refresh: Central rejected the refresh token of profile {}; re-reading the store",
                    profile.name
                ));
                // Another holder of a shared store may have rotated the chain.
                if let Some(reread) = guard.read()? {
                    if reread.generation != current.generation {
                        if reread.usable_for(Duration::ZERO, OffsetDateTime::now_utc()) {
                            return Ok(reread);
                        }
                        return self.refresh_or_recover(profile, guard, reread);
                    }
                }
                if profile.can_relogin() {
                    (self.log)(&format!(
                        "refresh: logging in again for profile {}",
                        profile.name
                    ));
                    let next = self.relogin(profile, Some(current.generation), None)?;
                    guard.write(&next, Some(current.generation))?;
                    return Ok(next);
                }
                Err(Error::NeedsLogin {
                    profile: profile.name.to_string(),
                    reason: "Central rejected the stored refresh token (Invalid refresh_token): it was used by another tool, revoked, or unused for 15 days".to_owned(),
                })
            }
        }
    }

    fn relogin(
        &self,
        profile: &Profile,
        expected: Option<u64>,
        password: Option<SecretString>,
    ) -> Result<StoredToken, Error> {
        let password = match password {
            Some(p) => p,
            None => match &profile.password {
                Some(source) => source.resolve("password")?,
                None => {
                    return Err(Error::NeedsLogin {
                        profile: profile.name.to_string(),
                        reason: "no password source is configured for an automatic login"
                            .to_owned(),
                    })
                }
            },
        };
        let secret = profile.client_secret.resolve("client secret")?;
        let response = self.with_gateway(profile, |gw| {
            classic::login(gw, profile, &secret, &password)
        })?;
        Ok(new_record(response, expected, TokenOrigin::Login))
    }

    fn mint(&self, profile: &Profile, expected: Option<u64>) -> Result<StoredToken, Error> {
        let secret = profile.client_secret.resolve("client secret")?;
        let response =
            self.with_gateway(profile, |gw| client_credentials::mint(gw, profile, &secret))?;
        let mut record = new_record(response, expected, TokenOrigin::ClientCredentials);
        record.refresh_token = None;
        record.refresh_issued_at = None;
        Ok(record)
    }

    /// Runs `f` with a gateway for `profile`. The ureq agent is built here, per
    /// network operation, so the cached path never pays for TLS setup and each
    /// profile gets its own `ca_file`.
    fn with_gateway<T>(
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
        f(&Gateway {
            transport,
            log: &*self.log,
            retry: self.retry,
        })
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
        token_type: response.token_type.to_ascii_lowercase(),
        issued_at: now,
        expires_at: now + time::Duration::seconds(response.expires_in as i64),
        origin,
        access_rejected: false,
        rotating: None,
        lost: None,
    }
}

/// The record after a refresh. Central always sends a new refresh token; if one
/// ever did not, the old one is kept rather than dropped (it is never replaced by
/// anything but a newer one).
fn record_from_response(
    response: TokenResponse,
    previous: &StoredToken,
    origin: TokenOrigin,
) -> StoredToken {
    let keep_old = response.refresh_token.is_none();
    let mut next = new_record(response, Some(previous.generation), origin);
    if keep_old {
        next.refresh_token = previous.refresh_token.as_ref().map(duplicate);
        next.refresh_issued_at = previous.refresh_issued_at;
    }
    next
}

fn record_from_import(imported: ImportedToken, expected: Option<u64>) -> StoredToken {
    StoredToken {
        format: FORMAT_VERSION,
        generation: expected.map_or(1, |g| g + 1),
        access_token: imported.access_token,
        refresh_token: Some(imported.refresh_token),
        token_type: imported.token_type,
        issued_at: imported.issued_at,
        expires_at: imported.issued_at + time::Duration::seconds(imported.expires_in as i64),
        refresh_issued_at: Some(imported.issued_at),
        origin: TokenOrigin::Import,
        access_rejected: false,
        rotating: None,
        lost: None,
    }
}
