//! What `doctor` reaches through the broker: one raw request, one secret.

use crate::config::Profile;
use crate::error::Error;
use crate::secret::SecretString;
use crate::secret_source::SecretSource;

use super::Broker;

impl Broker {
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
}
