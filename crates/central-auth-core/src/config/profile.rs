//! One `[profiles.NAME]` table: as written, and resolved into a [`Profile`]
//! (cluster names looked up, URLs checked, secret sources picked, durations
//! parsed). Each problem is one line naming the key and the fix.

use std::path::PathBuf;

use serde::Deserialize;

use super::{Grant, Profile, TenantRef, DEFAULT_LOCK_TIMEOUT, DEFAULT_MIN_VALID};
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
    workspace_id: Option<String>,
    glp_base_url: Option<String>,
    from: Option<String>,
    tenant_id: Option<String>,
    tenant_name: Option<String>,
}

/// A workspace id as GreenLake's URLs want it: hexadecimal digits, dashes
/// dropped, lowercase.
pub(crate) fn workspace_hex(key: &str, raw: &str) -> Result<String, String> {
    let hex: String = raw.trim().chars().filter(|c| *c != '-').collect();
    if hex.is_empty() || hex.len() > 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{key} {raw:?} is not a workspace id: write its hexadecimal digits (dashes allowed), as GreenLake shows it"
        ));
    }
    Ok(hex.to_ascii_lowercase())
}

/// The tenant of a `token_exchange` profile, or an error saying which keys
/// a tenant profile takes.
fn tenant_ref(rp: &mut RawProfile) -> Result<TenantRef, String> {
    for (key, set) in [
        ("client_id", rp.client_id.is_some()),
        ("client_secret", rp.client_secret.is_some()),
        ("client_secret_env", rp.client_secret_env.is_some()),
        ("client_secret_cmd", rp.client_secret_cmd.is_some()),
        ("username", rp.username.is_some()),
        ("workspace_id", rp.workspace_id.is_some()),
    ] {
        if set {
            return Err(format!(
                "{key} does not belong in a token_exchange profile: the tenant token comes from the MSP profile named in `from`; remove {key}"
            ));
        }
    }
    let from = rp
        .from
        .take()
        .ok_or("a token_exchange profile needs from = \"<MSP profile>\"")?;
    let from = ProfileName::new(&from).map_err(|e| format!("from: {e}"))?;
    let id = rp
        .tenant_id
        .take()
        .map(|t| workspace_hex("tenant_id", &t))
        .transpose()?;
    let name = rp.tenant_name.take().filter(|n| !n.is_empty());
    match (&id, &name) {
        (Some(_), Some(_)) => Err("set tenant_id or tenant_name, not both".into()),
        (None, None) => Err("set tenant_id or tenant_name (see `central-auth tenants`)".into()),
        _ => Ok(TenantRef { from, id, name }),
    }
}

pub(super) fn resolve_profile(name: ProfileName, mut rp: RawProfile) -> Result<Profile, String> {
    let grant = rp.grant.unwrap_or(Grant::RefreshToken);
    let tenant = match grant {
        Grant::TokenExchange => Some(tenant_ref(&mut rp)?),
        _ => {
            if let Some(key) = [
                ("from", rp.from.is_some()),
                ("tenant_id", rp.tenant_id.is_some()),
                ("tenant_name", rp.tenant_name.is_some()),
            ]
            .iter()
            .find_map(|(k, set)| set.then_some(k))
            {
                return Err(format!(
                    "{key} belongs to a tenant profile: add grant = \"token_exchange\" or remove {key}"
                ));
            }
            None
        }
    };
    if grant == Grant::RefreshToken && rp.workspace_id.is_some() {
        return Err(
            "workspace_id is for client_credentials profiles (GreenLake workspace credentials)"
                .into(),
        );
    }
    let workspace_id = rp
        .workspace_id
        .as_deref()
        .map(|w| workspace_hex("workspace_id", w))
        .transpose()?;
    let glp_base_url = match rp.glp_base_url {
        Some(u) => normalize_url(&u, "glp_base_url")?,
        None => clusters::GREENLAKE_API_URL.to_owned(),
    };
    let base_url = match (rp.base_url, rp.cluster) {
        (Some(_), Some(_)) => {
            return Err("set either base_url or cluster, not both".into());
        }
        (Some(url), None) => normalize_url(&url, "base_url")?,
        (None, Some(cluster)) => {
            let table = match grant {
                Grant::RefreshToken => clusters::CLASSIC,
                Grant::ClientCredentials | Grant::TokenExchange => clusters::NEW_CENTRAL,
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
        // A tenant profile without its own base URL takes its MSP's (filled
        // in when the config links tenants to their MSP profiles).
        (None, None) if grant == Grant::TokenExchange => String::new(),
        (None, None) => {
            return Err("set base_url or cluster (e.g. cluster = \"US-2\")".into());
        }
    };
    let token_url_set = rp.token_url.is_some();
    let token_url = match (&grant, rp.token_url, &workspace_id) {
        (_, Some(u), _) => normalize_url(&u, "token_url")?,
        (Grant::ClientCredentials, None, Some(ws)) => {
            format!("{glp_base_url}/authorization/v2/oauth2/{ws}/token")
        }
        (Grant::ClientCredentials, None, None) => clusters::GREENLAKE_TOKEN_URL.to_owned(),
        // Filled in from the MSP profile's issuer and the tenant id at use.
        (Grant::TokenExchange, None, _) => String::new(),
        (Grant::RefreshToken, None, _) => format!("{base_url}/oauth2/token"),
    };
    let (client_id, client_secret) = if grant == Grant::TokenExchange {
        // Never resolved: a tenant profile uses its MSP profile's credentials.
        (String::new(), SecretSource::Env(String::new()))
    } else {
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
        (client_id, client_secret)
    };
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
        workspace_id,
        glp_base_url,
        tenant,
        token_url_set,
    })
}
