//! The Vault token a [`Client`] sends: resolved from the configured source,
//! or obtained by an AppRole or Kubernetes login and renewed before its lease
//! ends.

use std::time::{Duration, Instant};

use central_auth_core::error::Error;
use central_auth_core::http::{Method, Request};
use central_auth_core::secret::{ExposeSecret, SecretString};

use super::{vault_errors, Client, HeldToken};
use crate::config::TokenSource;

/// Log in again this long (at most a tenth of the lease) before a login
/// token's lease ends.
const RENEW_MARGIN: Duration = Duration::from_secs(10);

impl Client {
    /// The current Vault token, and whether it was obtained just now (so a
    /// denial is not a stale login token). Logs in when needed.
    pub(super) fn token(&self) -> Result<(SecretString, bool), Error> {
        if let Some(held) = self.token.borrow().as_ref() {
            if held.renew_after.is_none_or(|t| Instant::now() < t) {
                return Ok((central_auth_core::secret::duplicate(&held.value), false));
            }
        }
        let held = match &self.config.token {
            TokenSource::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                let secret_id = secret_id.resolve()?;
                let body = login_body(&[
                    ("role_id", role_id),
                    ("secret_id", secret_id.expose_secret()),
                ]);
                self.login(mount, body)?
            }
            TokenSource::Kubernetes {
                mount,
                role,
                jwt_file,
            } => {
                let jwt = crate::config::read_jwt(jwt_file)?;
                let body = login_body(&[("role", role), ("jwt", jwt.expose_secret())]);
                self.login(mount, body)?
            }
            _ => HeldToken {
                value: self.config.token()?,
                renew_after: None,
            },
        };
        let value = central_auth_core::secret::duplicate(&held.value);
        *self.token.borrow_mut() = Some(held);
        Ok((value, true))
    }

    /// `POST auth/<mount>/login` with the method's credentials (`body`, a
    /// secret JSON object): the client token and its lease.
    fn login(&self, mount: &str, body: SecretString) -> Result<HeldToken, Error> {
        let api = format!("auth/{mount}/login");
        let mut request =
            Request::new(Method::Post, format!("{}/v1/{api}", self.address)).json_body(body);
        if let Some(ns) = &self.config.namespace {
            request = request.header("X-Vault-Namespace", ns.as_str());
        }
        let response = self.send(request, &api)?;
        if response.status != 200 {
            return Err(match response.status {
                400 | 401 | 403 => self.login_refused(&api, &vault_errors(&response)),
                _ => self.failure(&response, &api, "log in at"),
            });
        }
        let body: serde_json::Value =
            serde_json::from_str(response.body.expose_secret()).unwrap_or(serde_json::Value::Null);
        let value = body["auth"]["client_token"]
            .as_str()
            .map(|t| SecretString::from(t.to_owned()))
            .ok_or_else(|| {
                Error::store(format!(
                    "Vault at {} answered the login at {api} without auth.client_token",
                    self.address
                ))
            })?;
        let lease = body["auth"]["lease_duration"].as_u64().unwrap_or(0);
        // A lease too long to add to the clock (a hostile answer) is never renewed
        // early: the next denial logs in again.
        let renew_after = (lease > 0)
            .then(|| {
                let lease = Duration::from_secs(lease);
                Instant::now().checked_add(lease.saturating_sub(RENEW_MARGIN.min(lease / 10)))
            })
            .flatten();
        Ok(HeldToken { value, renew_after })
    }

    /// A refused login, named by what to check for the configured method.
    fn login_refused(&self, api: &str, errors: &str) -> Error {
        let errors = if errors.is_empty() {
            "permission denied"
        } else {
            errors
        };
        match &self.config.token {
            TokenSource::Kubernetes { role, jwt_file, .. } => Error::store(format!(
                "Vault at {} refused the Kubernetes login at {api} for role {role:?} ({errors}); check that the role exists at that auth path and is bound to this pod's service account and namespace, and that {} holds the pod's current service account token (fleet.md of the central-auth docs)",
                self.address,
                jwt_file.display()
            )),
            _ => Error::store(format!(
                "Vault at {} refused the AppRole login at {api} ({errors}); check role_id and the secret id (it may have expired or run out of uses)",
                self.address
            )),
        }
    }
}

/// A login request's JSON object, serialized straight into the buffer that
/// becomes the secret (sized up front, so no copy of a credential is left in
/// a reallocated or intermediate string).
pub(super) fn login_body(fields: &[(&str, &str)]) -> SecretString {
    let map: std::collections::BTreeMap<&str, &str> = fields.iter().copied().collect();
    let size = fields
        .iter()
        // Worst case: every byte escaped as `\u00XX`.
        .map(|(k, v)| 6 * (k.len() + v.len()) + 8)
        .sum::<usize>()
        + 2;
    let mut buf = Vec::with_capacity(size);
    // Writing string pairs to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut buf, &map);
    SecretString::from(String::from_utf8(buf).unwrap_or_default())
}
