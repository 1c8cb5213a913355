//! A tool saw a 401: mark the stored access token rejected so the next call
//! refreshes.

use crate::config::Profile;
use crate::error::Error;
use crate::secret::{same, SecretString};

use super::Broker;

impl Broker {
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
}
