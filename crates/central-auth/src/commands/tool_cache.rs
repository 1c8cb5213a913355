//! `central-auth import --from pycentral|cencli FILE`: take over the chain from
//! another tool's token cache, then leave that tool unable to rotate it.
//!
//! pycentral 1.4.3 caches the raw token response (`access_token`,
//! `refresh_token`, `token_type`, `expires_in`) in `temp/tok_<customer>_<client>.json`
//! with no timestamp; cencli 10 stores the same object through pycentral's
//! `storeToken`, in `<config dir>/.cache/tok_<customer>_<client>.json`. The file's modification time is when pycentral wrote the
//! pair, so it is passed as the issue time: the broker then knows how much of the
//! access token's life is left and refreshes only when it must. No call is made
//! to Central. After the pair is stored, the file is replaced (atomically, mode
//! 0600) by an access-token-only version: the tool keeps working until that
//! token expires, and can never spend the refresh token central-auth now owns.
//! cencli's version keeps the key as `"refresh_token": null`: cencli 10.0.4
//! compares the cached and configured refresh tokens by key on every start and
//! dies with `KeyError: 'refresh_token'` when the key is absent.
//!
//! The file and its directory are checked before a byte is read
//! (`fsutil::foreign`: owned by the user or root, not writable by others). A
//! link is refused, not followed: the file rewritten is then the file read, and
//! no refresh token is left behind in a link's target. A cache others could
//! read is taken over anyway (that is the remedy), with a line saying to
//! rotate the pair now.

use std::path::Path;

use central_auth_core::fsutil::foreign;

use central_auth::cli::ImportFrom as From;
use central_auth_core::broker::ImportOutcome;
use central_auth_core::{Broker, Error, Profile};

/// The largest token cache read (a token response is a few KiB).
const MAX_BYTES: u64 = 1024 * 1024;

/// Imports the pair from `file` into `profile`, then rewrites `file` without
/// its refresh token. Returns the line to tell the user.
pub(crate) fn import(
    broker: &Broker,
    profile: &Profile,
    from: From,
    file: &Path,
    force: bool,
) -> Result<String, Error> {
    let tool = Tool::of(from);
    // Checked before a byte is read: the file's directory and the file itself
    // (no link, so the file rewritten below is the file read).
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        foreign::check_dir(dir, tool.dir_what)?;
    }
    let rule = foreign::Rule {
        what: tool.what,
        readers: foreign::Readers::Any,
        follow_links: false,
    };
    let missing = || {
        Error::bad_input(format!(
            "cannot read {}: it does not exist; pass {}'s token cache, e.g. {}",
            file.display(),
            tool.name,
            tool.example
        ))
    };
    let (bytes, meta) = foreign::read(file, &rule, MAX_BYTES)?.ok_or_else(missing)?;
    let text = String::from_utf8(bytes).unwrap_or_default();
    let not_cache = || {
        Error::bad_input(format!(
            "{} is not a {} token cache (a JSON object with access_token, refresh_token and expires_in); pass {}",
            file.display(),
            tool.name,
            tool.example
        ))
    };
    let mut cache: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|_| not_cache())?;
    let has = |k: &str| {
        cache
            .get(k)
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    };
    if !has("access_token") {
        return Err(not_cache());
    }
    if !has("refresh_token") {
        return Err(Error::bad_input(format!(
            "{} holds no refresh token (already taken over?); nothing to import. Use `central-auth import` with a token downloaded from the Web UI",
            file.display()
        )));
    }
    let written = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    if let (Some(at), false) = (written, cache.contains_key("created_at")) {
        cache.insert(
            "created_at".to_owned(),
            serde_json::Value::from(at.as_millis() as u64),
        );
    }
    let with_time = serde_json::Value::Object(cache.clone()).to_string();
    let outcome = broker.import(profile, &with_time, force)?;

    // The chain is now central-auth's: leave the tool only the access token.
    let mut access_only = serde_json::Map::new();
    for key in ["access_token", "token_type", "expires_in"] {
        if let Some(v) = cache.remove(key) {
            access_only.insert(key.to_owned(), v);
        }
    }
    if tool.null_refresh_key {
        access_only.insert("refresh_token".to_owned(), serde_json::Value::Null);
    }
    let bytes = serde_json::to_vec_pretty(&serde_json::Value::Object(access_only))
        .map_err(|e| Error::store(format!("cannot encode {}'s token cache: {e}", tool.name)))?;
    let stored = match outcome {
        ImportOutcome::Stored { replaced: false } => "stored",
        ImportOutcome::Stored { replaced: true } => "stored, replacing the previous token",
        ImportOutcome::AlreadyStored => "already stored",
    };
    central_auth_core::store::file::write_atomically(file, &bytes).map_err(|e| {
        Error::store(format!(
            "profile {}: token {stored}, but {} could not be rewritten ({e}); delete it so {} cannot rotate the chain",
            profile.name,
            file.display(),
            tool.name
        ))
    })?;
    let exposed = match foreign::readable_by_others(&meta) {
        Some(mode) => format!(
            " Warning: it was readable by others (mode {mode:03o}), so the refresh token may have been seen: run `central-auth -p {} refresh` to rotate it now.",
            profile.name
        ),
        None => String::new(),
    };
    Ok(format!(
        "central-auth: profile {}: token {stored} without a refresh; {} now holds only the access token (mode 0600), so {} cannot rotate the chain. {}{exposed}",
        profile.name,
        file.display(),
        tool.name,
        tool.next
    ))
}

/// What differs between the tools whose caches can be taken over.
struct Tool {
    name: &'static str,
    /// The file, as messages name it.
    what: &'static str,
    /// Its directory, as messages name it.
    dir_what: &'static str,
    example: &'static str,
    /// Keep `"refresh_token": null` in the rewritten file.
    null_refresh_key: bool,
    /// What the user does next.
    next: &'static str,
}

impl Tool {
    fn of(from: From) -> Tool {
        match from {
            From::Pycentral => Tool {
                name: "pycentral",
                what: "pycentral token cache",
                dir_what: "pycentral token cache directory",
                example: "temp/tok_<customer_id>_<client_id>.json",
                null_refresh_key: false,
                next: "Give pycentral its token with the provider: see pycentral.md of the central-auth docs (share/doc/central-auth/)",
            },
            From::Cencli => Tool {
                name: "cencli",
                what: "cencli token cache",
                dir_what: "cencli cache directory",
                example: "~/.config/centralcli/.cache/tok_<customer_id>_<client_id>.json",
                null_refresh_key: true,
                next: "Remove client_secret, password and tokens from cencli's config.yaml and run it as `central-auth cencli ARGS`: see `man central-auth-cencli`",
            },
        }
    }
}
