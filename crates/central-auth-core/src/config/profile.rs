//! One `[profiles.NAME]` table: as written, and resolved into a [`Profile`]
//! (cluster names looked up, URLs checked, secret sources picked, durations
//! parsed). Each problem is one line naming the key and the fix.

use std::path::PathBuf;

use serde::Deserialize;

use super::{Grant, Profile, DEFAULT_LOCK_TIMEOUT, DEFAULT_MIN_VALID};
use crate::clusters;
use crate::duration;
use crate::net::normalize_url;
use crate::profile_name::ProfileName;
use crate::secret::SecretString;
use crate::secret_source::{KeyringItem, SecretSource, DEFAULT_CMD_TIMEOUT};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProfile {
    base_url: Option<String>,
    cluster: Option<String>,
    grant: Option<Grant>,
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    client_secret_env: Option<String>,
    client_secret_cmd: Option<String>,
    client_secret_keyring: Option<KeyringItem>,
    customer_id: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    password_cmd: Option<String>,
    password_keyring: Option<KeyringItem>,
    ca_file: Option<PathBuf>,
    min_valid: Option<String>,
    lock_timeout: Option<String>,
    secret_cmd_timeout: Option<String>,
    #[serde(default)]
    git_hosts: Vec<String>,
    store: Option<String>,
}

pub(super) fn resolve_profile(name: ProfileName, rp: RawProfile) -> Result<Profile, String> {
    let grant = rp.grant.unwrap_or(Grant::RefreshToken);
    let base_url = match (rp.base_url, rp.cluster) {
        (Some(_), Some(_)) => {
            return Err("set either base_url or cluster, not both".into());
        }
        (Some(url), None) => normalize_url(&url, "base_url")?,
        (None, Some(cluster)) => {
            let table = match grant {
                Grant::RefreshToken => clusters::CLASSIC,
                Grant::ClientCredentials => clusters::NEW_CENTRAL,
            };
            clusters::lookup(table, &cluster)
                .ok_or_else(|| {
                    format!(
                        "unknown cluster {cluster:?} for grant {}; known clusters: {} (or set base_url)",
                        grant.as_str(),
                        clusters::names(table)
                    )
                })?
                .to_owned()
        }
        (None, None) => {
            return Err("set base_url or cluster (e.g. cluster = \"US-2\")".into());
        }
    };
    let token_url = match (&grant, rp.token_url) {
        (_, Some(u)) => normalize_url(&u, "token_url")?,
        (Grant::ClientCredentials, None) => clusters::GREENLAKE_TOKEN_URL.to_owned(),
        (Grant::RefreshToken, None) => format!("{base_url}/oauth2/token"),
    };
    let client_id = rp
        .client_id
        .filter(|s| !s.trim().is_empty())
        .ok_or("client_id is missing")?;
    let client_secret = SecretSource::pick(
        "client_secret",
        rp.client_secret,
        rp.client_secret_env,
        rp.client_secret_cmd,
        rp.client_secret_keyring,
    )?
    .ok_or(
        "set one of client_secret, client_secret_env, client_secret_cmd or client_secret_keyring",
    )?;
    let password = SecretSource::pick(
        "password",
        None,
        rp.password_env,
        rp.password_cmd,
        rp.password_keyring,
    )?;
    if password.is_some() && rp.username.is_none() {
        return Err("a password source is set but username is missing".into());
    }
    let min_valid = match rp.min_valid {
        Some(t) => duration::parse(&t).map_err(|e| format!("min_valid: {e}"))?,
        None => DEFAULT_MIN_VALID,
    };
    let lock_timeout = match rp.lock_timeout {
        Some(t) => duration::parse(&t).map_err(|e| format!("lock_timeout: {e}"))?,
        None => DEFAULT_LOCK_TIMEOUT,
    };
    let secret_cmd_timeout = match rp.secret_cmd_timeout {
        Some(t) => duration::parse(&t)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!("secret_cmd_timeout {t:?}: write a positive duration such as 10s")
            })?,
        None => DEFAULT_CMD_TIMEOUT,
    };
    Ok(Profile {
        name,
        base_url,
        grant,
        token_url,
        client_id,
        client_secret,
        customer_id: rp.customer_id,
        username: rp.username,
        password,
        ca_file: rp.ca_file,
        min_valid,
        lock_timeout,
        secret_cmd_timeout,
        git_hosts: rp.git_hosts,
        store: rp.store.filter(|s| s != "file"),
    })
}
