//! The profile a call is about, chosen once by one rule: `--profile`, else
//! `CENTRAL_AUTH_PROFILE`, else the config's `default_profile`, else its only
//! profile. The environment is read here alone ([`from_env`]), when the broker
//! opens; `open.rs` applies the rule (`Broker::choose`); whoever needs to say
//! where the choice came from reads [`ProfileChoice::source`].

use crate::config::ProfileName;
use crate::home::PROFILE_ENV;

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
