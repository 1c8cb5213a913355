//! `central-auth import [--from TOOL] FILE|-`: store a token downloaded from the
//! Central Web UI (or a token response); with `--from`, take over another
//! tool's token cache (`tool_cache`).

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use central_auth::cli::ImportFrom;
use central_auth_core::broker::ImportOutcome;
use central_auth_core::{Broker, Error};

use super::{chosen, tool_cache, Outcome};
use crate::output::{print_stdout, say};
use crate::view;

/// The flags of `import`.
pub(crate) struct Args {
    /// `--force`.
    pub force: bool,
    /// `--from`.
    pub from: Option<ImportFrom>,
    /// The file, or `-` for stdin.
    pub file: String,
    /// `--json`.
    pub json: bool,
    /// `--verify`: prove the stored pair with one refresh.
    pub verify: bool,
}

/// Stores the pair and says what happened (a line on stderr, or with `--json`
/// the object `{profile, outcome}` on stdout).
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, a: &Args) -> Outcome {
    let (profile, label) = chosen(broker, explicit)?;
    if let Some(from) = a.from {
        let line = tool_cache::import(broker, profile, from, Path::new(&a.file), a.force)?;
        say(&line)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = read_input(&a.file)?;
    let now = time::OffsetDateTime::now_utc();
    let expired = central_auth_core::import::parse(&text, now)
        .ok()
        .and_then(|t| central_auth_core::import::access_expired_at(&t, now));
    let outcome = broker.import(profile, &text, a.force)?;
    let (key, note) = match outcome {
        ImportOutcome::Stored { replaced: false } => ("stored", "stored"),
        ImportOutcome::Stored { replaced: true } => {
            ("replaced", "stored, replacing the previous token")
        }
        ImportOutcome::AlreadyStored => ("unchanged", "already stored; nothing changed"),
    };
    if !a.json {
        say(&format!("central-auth: {label}: token {note}"))?;
    }
    match (expired, a.verify) {
        (Some(at), false) if key != "unchanged" => say(&format!(
            "central-auth: {label}: warning: the access token in this file expired at {}; the pair works only if its refresh token is still alive: run `central-auth import --verify FILE` or `central-auth refresh` to check with Central now",
            central_auth_core::status::rfc3339(at)
        ))?,
        _ => {}
    }
    if a.verify {
        // One call to Central: a refresh proves the refresh token alive (and
        // leaves a fresh pair); a dead one is recorded lost and named.
        let token = broker.force_refresh(profile)?;
        if !a.json {
            say(&format!(
                "central-auth: {label}: verified: Central accepted the refresh token; new access token valid until {}",
                central_auth_core::status::rfc3339(token.expires_at)
            ))?;
        }
    }
    if a.json {
        print_stdout(&view::json(&serde_json::json!({
            "profile": profile.name.as_str(),
            "outcome": key,
            "verified": a.verify,
        })))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a file, or stdin for `-`.
fn read_input(file: &str) -> Result<String, Error> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::bad_input(format!("cannot read stdin: {e}")))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| {
            Error::bad_input(format!(
                "cannot read {file}: {e}; pass the path of the JSON downloaded from the Central Web UI, or - for stdin"
            ))
        })?;
    }
    Ok(text)
}
