//! The calls that obtain a new pair from Central (classic login, client
//! credentials mint), the secrets they need, and the gateway they go through.

use crate::config::Profile;
use crate::error::Error;
use crate::http::{Transport, UreqTransport};
use crate::oauth::classic;
use crate::oauth::{client_credentials, Gateway};
use crate::secret::SecretString;
use crate::secret_source::SecretSource;
use crate::token::{StoredToken, TokenOrigin};

use super::record::new_record;
use super::Broker;

impl Broker {
    pub(super) fn relogin(
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

    pub(super) fn mint(
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
    pub(super) fn secret(
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
    pub(super) fn network<T>(
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
