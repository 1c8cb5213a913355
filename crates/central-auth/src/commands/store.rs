//! `central-auth store ...`: moving a chain between stores.

use std::process::ExitCode;

use central_auth_core::chain_move::{self, MigrateOutcome};
use central_auth_core::fsutil::write_atomically;
use central_auth_core::store::TokenStore;
use central_auth_core::{Broker, Config, Error, Profile};

use central_auth::cli::StoreAction;

use super::Outcome;
use crate::config_edit;
use crate::output::say;

/// Runs a `store` action; one line on stderr saying what happened.
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, action: StoreAction) -> Outcome {
    let StoreAction::Migrate { from, to } = action;
    let profile = broker.profile(explicit)?;
    let outcome = match (from.as_deref(), to.as_deref()) {
        (_, Some("keyring")) => to_keyring(broker, profile)?,
        (_, Some(_)) => to_file(broker, profile)?,
        _ => chain_move::from_file(broker, profile)?,
    };
    let line = match outcome {
        MigrateOutcome::Moved { to } => format!(
            "central-auth: profile {}: moved to {to} without a refresh; the old copy is deleted",
            profile.name
        ),
        MigrateOutcome::AlreadyThere { to } => format!(
            "central-auth: profile {}: {to} already held this pair; the old copy is deleted",
            profile.name
        ),
    };
    say(&line)?;
    Ok(ExitCode::SUCCESS)
}

/// From the file store into the OS keyring; the config then names it.
fn to_keyring(broker: &Broker, profile: &Profile) -> Result<MigrateOutcome, Error> {
    if let Some(name) = &profile.store {
        return Err(Error::bad_input(format!(
            "profile {} already uses store {name:?} ({}); move it to the file store first with `central-auth store migrate --profile {} --to file`",
            profile.name,
            broker.store_for(profile).kind(),
            profile.name
        )));
    }
    let path = &broker.home().config_file;
    let text = read_config(path)?;
    let edited = config_edit::set_store(
        &config_edit::with_keyring_table(&text),
        profile.name.as_str(),
        "keyring",
    );
    let (edited, config) = checked(edited, path, profile, Some("keyring"))?;
    let Some(table) = config.stores.get("keyring") else {
        return Err(cannot_edit(path, profile));
    };
    let target = table.open(&broker.home().state_dir);
    if target.kind() != "keyring" {
        return Err(Error::config(format!(
            "[stores.keyring] in {} is of kind {:?}, not \"keyring\"; rename that table, then run the migration again",
            path.display(),
            target.kind()
        )));
    }
    chain_move::between(broker.file_store(), target.as_ref(), profile, &mut || {
        write_atomically(path, edited.as_bytes())
    })
}

/// From the profile's store back into the file store; the config then has no
/// `store` line for it.
fn to_file(broker: &Broker, profile: &Profile) -> Result<MigrateOutcome, Error> {
    if profile.store.is_none() {
        return Err(Error::bad_input(format!(
            "profile {} already uses the local file store; nothing to move",
            profile.name
        )));
    }
    let path = &broker.home().config_file;
    let text = read_config(path)?;
    let edited = config_edit::remove_store(&text, profile.name.as_str());
    let (edited, _) = checked(edited, path, profile, None)?;
    let source: &dyn TokenStore = broker.store_for(profile);
    chain_move::between(source, broker.file_store(), profile, &mut || {
        write_atomically(path, edited.as_bytes())
    })
}

fn read_config(path: &std::path::Path) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::config(format!("cannot read config {}: {e}", path.display())))
}

/// The edited text, parsed by the same parser as every command, with the
/// profile's store as wanted; else the one-line refusal.
fn checked(
    edited: Option<String>,
    path: &std::path::Path,
    profile: &Profile,
    want: Option<&str>,
) -> Result<(String, Config), Error> {
    let edited = edited.ok_or_else(|| cannot_edit(path, profile))?;
    let config = Config::parse(&edited, path)?;
    let got = config
        .profiles
        .get(&profile.name)
        .map(|p| p.store.as_deref());
    if got != Some(want) {
        return Err(cannot_edit(path, profile));
    }
    Ok((edited, config))
}

fn cannot_edit(path: &std::path::Path, profile: &Profile) -> Error {
    Error::config(format!(
        "cannot find the [profiles.{}] table in {} to edit its store line (a dotted key or inline table?); edit the store line by hand, then run `central-auth store migrate --from file` (nothing was changed)",
        profile.name,
        path.display()
    ))
}
