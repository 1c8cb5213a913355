//! Opening the broker: the home, the config (all of it, or one profile's part),
//! the stores, and the builder options (log, client, memo, transport, retry);
//! and the one selection rule for the profile (`choose`), applied to what
//! [`choice`] recorded when the broker opened.

use crate::config::{Config, Profile};
use crate::error::Error;
use crate::home::Home;
use crate::http::Transport;
use crate::oauth::retry::RetryPolicy;
use crate::store::file::FileStore;
use crate::store::TokenStore;

use super::choice::{self, ProfileChoice, ProfileRequest, ProfileSource};
use super::Broker;

impl Broker {
    /// Opens the broker: resolves the home and loads the config.
    pub fn open(home: Home) -> Result<Broker, Error> {
        crate::strict::enforce(&home)?;
        let config = Config::load(&home.config_file)?;
        let mut broker = Broker::with_config(home, config);
        broker.request = ProfileRequest {
            flag: None,
            env: choice::from_env(),
        };
        Ok(broker)
    }

    /// Opens a broker for a call about one profile: `explicit` (`--profile`),
    /// else `CENTRAL_AUTH_PROFILE`, else the default profile. Only that
    /// profile's part of the config is parsed and validated
    /// ([`Config::load_for`]; for a large file through the section index of
    /// [`crate::config_index`]), so a large config costs a cached call little.
    pub fn open_for(home: Home, explicit: Option<&str>) -> Result<Broker, Error> {
        crate::strict::enforce(&home)?;
        let env = choice::from_env();
        let wanted = explicit.or(env.as_deref());
        let config = crate::config_index::load_for(&home.config_file, &home.state_dir, wanted)?;
        let mut broker = Broker::with_config(home, config);
        broker.request = ProfileRequest {
            flag: explicit.map(str::to_owned),
            env,
        };
        Ok(broker)
    }

    /// [`Broker::open_for`] from the environment.
    pub fn from_env_for(explicit: Option<&str>) -> Result<Broker, Error> {
        Broker::open_for(Home::from_env()?, explicit)
    }

    pub(super) fn with_config(home: Home, config: Config) -> Broker {
        let store: Box<dyn TokenStore> = Box::new(FileStore::new(&home.state_dir));
        let shared = config
            .stores
            .iter()
            // Each backend opens its own store (`store::backend`).
            .map(|(name, c)| (name.clone(), c.open(&home.state_dir)))
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
            request: ProfileRequest::default(),
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
}

impl Broker {
    /// The profile for `explicit` (`--profile`; else the flag given to
    /// [`Broker::open_for`]), else `CENTRAL_AUTH_PROFILE` as it was when the
    /// broker opened, else the default: the one selection rule, with where
    /// the name came from.
    pub fn choose(&self, explicit: Option<&str>) -> Result<(&Profile, ProfileChoice), Error> {
        let flag = explicit.or(self.request.flag.as_deref());
        let env = self.request.env.as_deref();
        let profile = self.config.select(flag, env)?;
        let source = match (flag, env) {
            (Some(_), _) => ProfileSource::Flag,
            (None, Some(_)) => ProfileSource::Environment,
            (None, None) if self.config.default_profile.is_some() => ProfileSource::ConfigDefault,
            (None, None) => ProfileSource::OnlyProfile,
        };
        let choice = ProfileChoice {
            name: profile.name.clone(),
            source,
        };
        Ok((profile, choice))
    }

    /// The profile named by `--profile`, else `CENTRAL_AUTH_PROFILE`, else the
    /// default ([`Broker::choose`]).
    pub fn profile(&self, explicit: Option<&str>) -> Result<&Profile, Error> {
        self.choose(explicit).map(|(profile, _)| profile)
    }

    /// The choice made when the broker opened (the flag given to
    /// [`Broker::open_for`], else the environment, else the default).
    pub fn profile_choice(&self) -> Result<ProfileChoice, Error> {
        self.choose(None).map(|(_, choice)| choice)
    }
}
