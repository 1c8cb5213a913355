//! [`VaultStore`]: the [`TokenStore`] contract on Vault / OpenBao KV v2, with
//! a local lock and cache directory per store.

use std::time::Duration;

use central_auth_core::error::Error;
use central_auth_core::fsutil::ensure_private_dir;
use central_auth_core::profile_name::ProfileName;
use central_auth_core::store::lock::FileLock;
use central_auth_core::store::{StoreDetails, StoreGuard, TokenStore};
use central_auth_core::token::StoredToken;

use crate::config::VaultConfig;
use crate::guard::VaultGuard;
use crate::remote::Remote;
use crate::{details, lease, rescue};

/// A Vault / OpenBao KV v2 store, with a local lock and cache directory.
pub struct VaultStore(Remote);

impl VaultStore {
    /// A store for `config`, keeping its local lock and cache files under
    /// `<state_dir>/fleet/<store name>/`. Touches neither disk nor network.
    pub fn new(config: &VaultConfig, state_dir: &std::path::Path) -> VaultStore {
        VaultStore(Remote::new(config, state_dir))
    }
}

impl std::ops::Deref for VaultStore {
    type Target = Remote;

    fn deref(&self) -> &Remote {
        &self.0
    }
}

impl TokenStore for VaultStore {
    fn lock<'a>(
        &'a self,
        profile: &ProfileName,
        bound: Duration,
    ) -> Result<Box<dyn StoreGuard + 'a>, Error> {
        ensure_private_dir(&self.dir)?;
        let start = std::time::Instant::now();
        let flock = FileLock::acquire(&self.lock_path(profile), bound, profile.as_str())?;
        Ok(Box::new(VaultGuard::new(
            &self.0, profile, flock, bound, start,
        )))
    }

    fn peek(&self, profile: &ProfileName) -> Result<Option<StoredToken>, Error> {
        Ok(self.fetch(profile)?.0)
    }

    fn location(&self, profile: &ProfileName) -> String {
        let address = self
            .config
            .address()
            .unwrap_or_else(|_| "$VAULT_ADDR".to_owned());
        format!(
            "vault {address}/v1/{}",
            self.config.data_path(profile.as_str())
        )
    }

    fn lock_held(&self, profile: &ProfileName) -> Result<bool, Error> {
        if FileLock::is_held(&self.lock_path(profile))? {
            return Ok(true);
        }
        lease::held_by_other(self.client()?, profile.as_str())
    }

    fn kind(&self) -> &'static str {
        "vault"
    }

    fn shared(&self) -> bool {
        true
    }

    fn diagnose(&self, profile: &ProfileName) -> Vec<(&'static str, Result<String, Error>)> {
        let mut out = self.checks(profile);
        // The policy check takes the lease, which pushes a waiting rescue
        // record; one still waiting is named whatever else failed.
        let rescue_path = self.rescue_path(profile);
        if rescue::pending(&rescue_path) {
            out.push((
                "store rescue",
                Err(Error::store_unavailable(format!(
                    "the rescue record {} holds a rotated pair the store has not taken yet; it is pushed by the next call that reaches the store (fleet.md of the central-auth docs)",
                    rescue_path.display()
                ))),
            ));
        }
        out
    }

    fn details(&self, profile: &ProfileName) -> Option<StoreDetails> {
        Some(details::of(&self.config, &self.dir, profile))
    }
}

impl VaultStore {
    /// `doctor`'s checks of reach, auth and policy, in order; each stops the
    /// ones after it when it fails.
    fn checks(&self, profile: &ProfileName) -> Vec<(&'static str, Result<String, Error>)> {
        let mut out = Vec::new();
        let client = match self.client() {
            Ok(c) => c,
            Err(e) => {
                out.push(("store auth", Err(e)));
                return out;
            }
        };
        let reach = client.health().map(|v| {
            format!(
                "Vault at {} answers (version {v}, unsealed)",
                client.address()
            )
        });
        let reachable = reach.is_ok();
        out.push(("store reach", reach));
        if !reachable {
            return out;
        }
        let auth = client.check_token(profile.as_str()).map(|ttl| {
            let ttl = match ttl {
                Some(0) => ", no expiry".to_owned(),
                Some(s) => format!(
                    ", expires in {}",
                    central_auth_core::duration::format(Duration::from_secs(s))
                ),
                None => String::new(),
            };
            format!(
                "the Vault token from {} is valid{ttl}",
                self.config.token.describe()
            )
        });
        let authorized = auth.is_ok();
        out.push(("store auth", auth));
        if !authorized {
            // The policy check would fail with the same line.
            return out;
        }
        // The policy, on the exact paths a refresh uses: take, renew and
        // release the lease (create/update on the lease key), read the record,
        // and a check-and-set write of the record that cannot match (Vault
        // checks the policy before the version, and writes nothing).
        let record = self.config.data_path(profile.as_str());
        let lease_path = self.config.data_path(&lease::key(profile.as_str()));
        let policy = (|| {
            let mut guard = self.lock(profile, std::time::Duration::from_secs(10))?;
            guard.check_writable()?;
            guard.read()?;
            drop(guard);
            client.probe_write(profile.as_str())?;
            Ok(format!(
                "the token may read and write {record} and {lease_path} (policy path \"{}\")",
                self.config.policy_path()
            ))
        })();
        out.push(("store policy", policy));
        out
    }
}
