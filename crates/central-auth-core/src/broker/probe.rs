//! The narrow view `doctor` has of the broker ([`DoctorAccess`]): facts about
//! one profile's store, whether its secrets resolve, and one probe request to
//! its gateway. Secrets never leave it; `doctor` sees only what it reports.

use crate::config::Profile;
use crate::error::Error;
use crate::http::{may_use_proxy, Method, Request};
use crate::oauth::ErrorBody;
use crate::secret::{ExposeSecret, SecretString};
use crate::store::TokenStore;
use crate::token::StoredToken;

use super::Broker;

/// What `doctor` may ask the broker about one profile.
pub struct DoctorAccess<'b> {
    broker: &'b Broker,
    profile: &'b Profile,
}

/// Which secret of a profile to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// `client_secret` (literal, `_env` or `_cmd`).
    ClientSecret,
    /// `password_env` or `password_cmd`.
    Password,
}

/// The gateway's answer to `GET /configuration/v2/groups?limit=1&offset=0`.
#[derive(Debug)]
pub struct ProbeAnswer {
    /// The status code.
    pub status: u16,
    /// The `Date` header, if any (for the clock check).
    pub date: Option<String>,
    /// Central's error, described without secrets (for a status other than 200).
    pub problem: String,
}

impl Broker {
    /// What `doctor` needs to check `profile`.
    pub fn doctor_access<'b>(&'b self, profile: &'b Profile) -> DoctorAccess<'b> {
        DoctorAccess {
            broker: self,
            profile,
        }
    }
}

impl DoctorAccess<'_> {
    fn store(&self) -> &dyn TokenStore {
        self.broker.store_for(self.profile)
    }

    /// The store kind (`file`, `vault`) and where the record lives.
    pub fn store_place(&self) -> (&'static str, String) {
        let store = self.store();
        (store.kind(), store.location(&self.profile.name))
    }

    /// Whether other machines share the profile's store.
    pub fn store_shared(&self) -> bool {
        self.store().shared()
    }

    /// The store's own checks (reach, auth, policy for a remote store).
    pub fn store_checks(&self) -> Vec<(&'static str, Result<String, Error>)> {
        self.store().diagnose(&self.profile.name)
    }

    /// The record, read without the lock.
    pub fn record(&self) -> Result<Option<StoredToken>, Error> {
        self.store().peek(&self.profile.name)
    }

    /// Whether another process holds the profile's lock now (never blocks).
    pub fn lock_held(&self) -> Result<bool, Error> {
        self.store().lock_held(&self.profile.name)
    }

    /// Resolves a secret with the profile's command timeout, and drops it:
    /// `Ok` says only that it resolves. `Ok` too when no password is set.
    pub fn check_secret(&self, which: SecretKind) -> Result<(), Error> {
        let (source, what) = match which {
            SecretKind::ClientSecret => (Some(&self.profile.client_secret), "client secret"),
            SecretKind::Password => (self.profile.password.as_ref(), "password"),
        };
        match source {
            Some(source) => source
                .resolve(what, self.profile.secret_cmd_timeout, &*self.broker.log)
                .map(drop),
            None => Ok(()),
        }
    }

    /// The environment variable whose proxy the unauthenticated probe goes
    /// through, if any (none for a loopback gateway).
    pub fn proxy_variable(&self) -> Option<&'static str> {
        if !may_use_proxy(&self.probe_request(None)) {
            return None;
        }
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .into_iter()
            .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    }

    /// Sends `GET /configuration/v2/groups?limit=1&offset=0` to the profile's
    /// gateway, with `bearer` when given, through the broker's transport and
    /// retry policy.
    pub fn probe_gateway(&self, bearer: Option<&SecretString>) -> Result<ProbeAnswer, Error> {
        let request = self.probe_request(bearer);
        let response = self
            .broker
            .network(self.profile, |gw| crate::oauth::send(gw, &request))?;
        let problem = match response.status {
            200 => String::new(),
            status => ErrorBody::parse(&response).describe(status),
        };
        Ok(ProbeAnswer {
            status: response.status,
            date: response.header("date").map(str::to_owned),
            problem,
        })
    }

    fn probe_request(&self, bearer: Option<&SecretString>) -> Request {
        let url = format!("{}/configuration/v2/groups", self.profile.base_url);
        let request = Request::new(Method::Get, url)
            .query("limit", "1")
            .query("offset", "0");
        match bearer {
            Some(token) => request.secret_header(
                "Authorization",
                SecretString::from(format!("Bearer {}", token.expose_secret())),
            ),
            None => request,
        }
    }
}
