//! Getting the password for `central-auth login`: `--password-stdin`, the profile's
//! configured source, or a no-echo prompt when stdin is a terminal.

use std::io::{BufRead, IsTerminal};

use central_auth_core::secret::{ExposeSecret, SecretString};
use central_auth_core::{Error, Grant, Profile};

/// The password to log in with; `None` lets the broker use the profile's source.
pub fn obtain(profile: &Profile, from_stdin: bool) -> Result<Option<SecretString>, Error> {
    if profile.grant == Grant::ClientCredentials {
        return Ok(None);
    }
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::bad_input(format!("cannot read the password from stdin: {e}")))?;
        let line = SecretString::from(line.trim_end_matches(['\r', '\n']).to_owned());
        if line.expose_secret().is_empty() {
            return Err(Error::bad_input(
                "--password-stdin: stdin held no password; pipe it in, e.g. `pass show central | central-auth login --password-stdin`",
            ));
        }
        return Ok(Some(line));
    }
    if profile.password.is_some() {
        return Ok(None);
    }
    let Some(username) = profile.username.as_deref() else {
        return Err(Error::config(format!(
            "profile {:?} has no username; add username (and optionally password_env or password_cmd) to log in",
            profile.name.as_str()
        )));
    };
    if !std::io::stdin().is_terminal() {
        return Err(Error::NotInteractive {
            message: format!(
                "profile {:?} has no password source and stdin is not a terminal; pass --password-stdin or set password_env / password_cmd",
                profile.name.as_str()
            ),
        });
    }
    let prompt = format!("Password for {username} at {}: ", profile.base_host());
    let password = rpassword::prompt_password(prompt)
        .map_err(|e| Error::bad_input(format!("cannot read the password: {e}")))?;
    Ok(Some(SecretString::from(password)))
}
