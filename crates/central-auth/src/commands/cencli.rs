//! `central-auth cencli ARGS`: run centralcli (cencli) 10 on the central-auth
//! chain.
//!
//! cencli reads its token from `<config dir>/.cache/tok_<customer_id>_<client_id>.json`
//! through pycentral's `loadToken`, and only touches Central's token endpoint
//! after a 401. So before cencli starts, the current access token (valid for
//! at least `--min-valid`) is written there with `"refresh_token": null`,
//! replaced atomically (mode 0600; concurrent runs each rename a whole file).
//! The key stays, as null: cencli 10.0.4 compares the cached and configured
//! refresh tokens by key on every start and dies with `KeyError` without it.
//!
//! cencli's config directory, its config file, `.cache` and the token cache
//! file are checked (no links, owned by the user or root, not writable by
//! others: `fsutil::foreign`) before the token is asked for or written.
//!
//! cencli can then never rotate the chain: it holds no refresh token, and the
//! run is refused when its config gives the workspace a `client_secret` or a
//! `password` (with which pycentral would refresh or log in by itself after a
//! 401). Without them pycentral's `refreshToken` and `createToken` stop at
//! their own parameter checks, before any request.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use central_auth_core::fsutil::foreign;
use central_auth_core::secret::ExposeSecret;
use central_auth_core::{AccessToken, Broker, Error, Profile};

use super::Outcome;
use crate::cencli_config;

/// What a cencli run gets when neither `--min-valid` nor the profile asks for
/// more: most cencli commands finish in seconds, and a token handed out with
/// 10 minutes left is not rotated by other tools for at least 5.
pub const DEFAULT_MIN_VALID: Duration = Duration::from_secs(600);

/// What `run` needs from the command line.
pub struct Args<'a> {
    /// `--config-dir`.
    pub config_dir: Option<PathBuf>,
    /// `--min-valid`.
    pub min_valid: Option<Duration>,
    /// `--program`.
    pub program: &'a OsString,
    /// cencli's arguments.
    pub args: &'a [OsString],
}

/// cencli's token cache file for `profile` in cencli's config `dir`.
pub fn cache_path(dir: &Path, profile: &Profile) -> Result<PathBuf, Error> {
    let customer = profile.customer_id.as_deref().ok_or_else(|| {
        Error::config(format!(
            "profile {} has no customer_id; cencli names its token file after it: add customer_id (as in cencli's config) to the profile",
            profile.name
        ))
    })?;
    // The ids become a file name: nothing that could leave `.cache/`.
    for (key, id) in [
        ("customer_id", customer),
        ("client_id", profile.client_id.as_str()),
    ] {
        if id.is_empty() || id.contains(['/', '\\', '\0']) || id.contains("..") {
            return Err(Error::config(format!(
                "profile {}: {key} {id:?} cannot name cencli's token file (no '/', '\\' or '..'); use the id Central shows",
                profile.name
            )));
        }
    }
    Ok(dir
        .join(".cache")
        .join(format!("tok_{customer}_{}.json", profile.client_id)))
}

/// Refuses a cencli config that would let cencli reach the token endpoint for
/// this profile's client, or whose workspaces would never read the file.
fn check_config(dir: &Path, profile: &Profile) -> Result<(), Error> {
    let file = cencli_config::file_in(dir);
    if !file.exists() {
        return Err(Error::config(format!(
            "cencli has no config in {}: write config.yaml there as cencli.md of the central-auth docs shows (no client_secret, no password), or pass --config-dir",
            dir.display()
        )));
    }
    let workspaces = cencli_config::read(&file)?.workspaces;
    let ours: Vec<_> = workspaces
        .iter()
        .filter(|w| {
            w.client_id.as_deref() == Some(profile.client_id.as_str())
                && w.customer_id.as_deref() == profile.customer_id.as_deref()
        })
        .collect();
    if ours.is_empty() {
        return Err(Error::config(format!(
            "no workspace in cencli config {} has the customer_id and client_id of profile {}; cencli would not read the token central-auth writes: set them as in the profile (`man central-auth-cencli`)",
            file.display(),
            profile.name
        )));
    }
    for w in ours {
        let mut keys = Vec::new();
        if w.client_secret.is_some() {
            keys.push("client_secret");
        }
        if w.password.is_some() {
            keys.push("password");
        }
        if w.has_tokens {
            keys.push("tokens");
        }
        if !keys.is_empty() {
            return Err(Error::config(format!(
                "cencli config {} gives workspace {:?} {}: with them cencli refreshes or logs in by itself after a 401 and forks the chain; remove them (central-auth holds the chain; `man central-auth-cencli`)",
                file.display(),
                w.name,
                keys.join(", ")
            )));
        }
    }
    Ok(())
}

/// cencli's token cache file: no link, owned by the user or root, not
/// writable by others (pycentral writes it 0644; central-auth writes 0600).
pub const CACHE_RULE: foreign::Rule = foreign::Rule {
    what: "cencli token cache",
    readers: foreign::Readers::Any,
    follow_links: false,
};

/// Creates cencli's `.cache` (0700) and checks what is there afterwards.
fn create_cache_dir(dir: &Path) -> Result<(), Error> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    match b.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => {
            return Err(Error::store(format!(
                "cannot create cencli's cache directory {}: {e}",
                dir.display()
            )))
        }
    }
    foreign::check_dir(dir, "cencli cache directory").map(|_| ())
}

/// The bytes of cencli's token cache: the access token, `refresh_token: null`.
pub fn cache_bytes(token: &AccessToken) -> Result<Vec<u8>, Error> {
    let left = (token.expires_at - time::OffsetDateTime::now_utc())
        .whole_seconds()
        .max(0);
    let value = serde_json::json!({
        "access_token": token.token.expose_secret(),
        "refresh_token": serde_json::Value::Null,
        "token_type": "bearer",
        "expires_in": left,
    });
    serde_json::to_vec_pretty(&value)
        .map_err(|e| Error::store(format!("cannot encode cencli's token cache: {e}")))
}

/// Writes cencli's token cache for the chosen profile and runs cencli; returns
/// its exit code.
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, a: &Args<'_>) -> Outcome {
    let profile = broker.profile(explicit)?;
    let dir = match &a.config_dir {
        Some(d) => d.clone(),
        None => cencli_config::default_dir()?,
    };
    let path = cache_path(&dir, profile)?;
    let cache_dir = path.parent().unwrap_or(&dir);
    // Every place written or read is checked before the token is asked for.
    foreign::check_dir(&dir, "cencli config directory")?;
    let cache_exists = foreign::check_dir(cache_dir, "cencli cache directory")?;
    foreign::check_path(&path, &CACHE_RULE)?;
    check_config(&dir, profile)?;
    let min_valid = a
        .min_valid
        .unwrap_or_else(|| DEFAULT_MIN_VALID.max(profile.min_valid));
    let token = broker.token(profile, Some(min_valid))?;
    if !cache_exists {
        create_cache_dir(cache_dir)?;
    }
    // The rename replaces a link planted since, never what it points to.
    central_auth_core::store::file::replace_shared(&path, &cache_bytes(&token)?)?;
    let mut argv = Vec::with_capacity(a.args.len() + 1);
    argv.push(a.program.clone());
    argv.extend(a.args.iter().cloned());
    Ok(crate::exec::run("cencli", &argv, profile, &token)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_would_leave_the_cache_directory_are_refused() {
        for (customer, client, ok) in [
            ("c1", "x1", true),
            ("../../etc", "x1", false),
            ("c1", "a/b", false),
            ("c1", "..", false),
        ] {
            let text = format!(
                "[profiles.p]\ncluster = \"US-2\"\nclient_id = \"{client}\"\nclient_secret_env = \"S\"\ncustomer_id = \"{customer}\"\n"
            );
            let config = central_auth_core::Config::parse(&text, Path::new("/x/config.toml"))
                .expect("valid config");
            let profile = config.select(Some("p"), None).expect("profile p");
            let path = cache_path(Path::new("/home/u/.config/centralcli"), profile);
            assert_eq!(path.is_ok(), ok, "{customer} {client}: {path:?}");
            if let Ok(p) = path {
                assert!(p.starts_with("/home/u/.config/centralcli/.cache"));
            }
        }
    }
}
