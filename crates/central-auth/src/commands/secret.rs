//! `central-auth secret set --profile P client_secret|password`: a secret into
//! the OS keyring, read with a no-echo prompt (or one line of stdin when it is
//! not a terminal), then the profile pointed at the item. Nothing is written
//! to the config before the keyring holds the secret, and the config edit is
//! checked by the same parser as every command.

use std::io::{BufRead, IsTerminal, Read};
use std::process::ExitCode;

use central_auth_core::fsutil::write_atomically;
use central_auth_core::secret::{ExposeSecret, SecretString};
use central_auth_core::secret_source::{KeyringItem, SecretSource};
use central_auth_core::{Broker, Config, Error};

use central_auth::cli::SecretAction;

use super::Outcome;
use crate::config_edit;
use crate::output::say;
use crate::password::{prompt_no_echo, Password};

/// Runs a `secret` action; one line on stderr saying what happened.
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, action: SecretAction) -> Outcome {
    let SecretAction::Set { name } = action;
    let profile = broker.profile(explicit)?;
    let current = match name.as_str() {
        "password" => profile.password.as_ref(),
        _ => Some(&profile.client_secret),
    };
    let (item, edit) = match current {
        Some(SecretSource::Keyring(item)) => (item.clone(), false),
        _ => (
            KeyringItem {
                service: "central-auth".to_owned(),
                account: format!("{}/{name}", profile.name),
            },
            true,
        ),
    };
    if name == "password" && profile.username.is_none() {
        return Err(Error::config(format!(
            "profile {} has no username; add it before storing a password",
            profile.name
        ))
        .into());
    }
    let Some(secret) = read_secret(&name, profile.name.as_str())? else {
        return Ok(ExitCode::from(130));
    };
    // The edit is checked before anything is stored.
    let path = &broker.home().config_file;
    let edited = if edit {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read config {}: {e}", path.display())))?;
        let keys = [
            name.as_str(),
            &format!("{name}_env"),
            &format!("{name}_cmd"),
            &format!("{name}_keyring"),
        ];
        let line = format!("{name}_keyring = {{ account = \"{}\" }}", item.account);
        let edited = config_edit::set_key(&text, profile.name.as_str(), &keys, &line)
            .ok_or_else(|| cannot_edit(path, profile.name.as_str()))?;
        let config = Config::parse(&edited, path)?;
        let p = config
            .profiles
            .get(&profile.name)
            .ok_or_else(|| cannot_edit(path, profile.name.as_str()))?;
        let now = match name.as_str() {
            "password" => p.password.as_ref(),
            _ => Some(&p.client_secret),
        };
        if !matches!(now, Some(SecretSource::Keyring(i)) if *i == item) {
            return Err(cannot_edit(path, profile.name.as_str()).into());
        }
        Some(edited)
    } else {
        None
    };
    central_auth_keyring::store_secret(&item, secret)?;
    if let Some(edited) = edited {
        write_atomically(path, edited.as_bytes())?;
    }
    say(&format!(
        "central-auth: profile {}: {name} stored in the OS keyring (service {:?}, account {:?}); the profile reads it from there",
        profile.name, item.service, item.account
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The secret: no-echo prompt on a terminal, else one line of stdin.
/// `None`: cancelled at the prompt.
fn read_secret(name: &str, profile: &str) -> Result<Option<SecretString>, Error> {
    let secret = if std::io::stdin().is_terminal() {
        match prompt_no_echo(&format!("{name} for profile {profile}: "))? {
            Password::Given(s) => s,
            _ => return Ok(None),
        }
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .take(64 * 1024)
            .read_line(&mut line)
            .map_err(|e| Error::bad_input(format!("cannot read the {name} from stdin: {e}")))?;
        SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned())
    };
    if secret.expose_secret().trim().is_empty() {
        return Err(Error::bad_input(format!(
            "no {name} was given (nothing was changed); type it at the prompt or pipe one line into stdin"
        )));
    }
    Ok(Some(secret))
}

fn cannot_edit(path: &std::path::Path, profile: &str) -> Error {
    Error::config(format!(
        "cannot find the [profiles.{profile}] table in {} to point it at the keyring (nothing was changed); add the NAME_keyring line by hand",
        path.display()
    ))
}
