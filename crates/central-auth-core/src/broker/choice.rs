//! The profile a call is about, chosen once by one rule: `--profile`, else
//! `CENTRAL_AUTH_PROFILE`, else the config's `default_profile`, else its only
//! profile. The environment is read here alone ([`from_env`]), when the broker
//! opens; whoever needs to say where the choice came from reads
//! [`ProfileChoice::source`].

use crate::config::{Profile, ProfileName};
use crate::error::Error;
use crate::home::PROFILE_ENV;

use super::Broker;

/// Where the chosen profile's name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSource {
    /// `--profile` (or the profile a helper was given, e.g. kube's cluster info).
    Flag,
    /// The `CENTRAL_AUTH_PROFILE` environment variable.
    Environment,
    /// The config's `default_profile`.
    ConfigDefault,
    /// The config holds exactly one profile.
    OnlyProfile,
}

impl ProfileSource {
    /// How messages name it: `--profile`, `CENTRAL_AUTH_PROFILE`,
    /// `default_profile`, `the only profile`.
    pub fn label(self) -> &'static str {
        match self {
            ProfileSource::Flag => "--profile",
            ProfileSource::Environment => PROFILE_ENV,
            ProfileSource::ConfigDefault => "default_profile",
            ProfileSource::OnlyProfile => "the only profile",
        }
    }
}

/// The chosen profile and where its name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileChoice {
    /// The profile.
    pub name: ProfileName,
    /// Where the name came from.
    pub source: ProfileSource,
}

/// What the caller asked for when the broker opened: the flag given to
/// [`Broker::open_for`], and `CENTRAL_AUTH_PROFILE` as it was then.
#[derive(Debug, Default)]
pub(super) struct ProfileRequest {
    pub(super) flag: Option<String>,
    pub(super) env: Option<String>,
}

/// `CENTRAL_AUTH_PROFILE`, unless unset or empty: the core's only read of it.
pub(super) fn from_env() -> Option<String> {
    std::env::var(PROFILE_ENV).ok().filter(|s| !s.is_empty())
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
