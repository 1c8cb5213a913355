//! `central-auth exec`: run a command with the token in its environment.
//!
//! The token goes into environment variables only, never into argv, so it does not
//! show in process listings.
//!
//! What the child gets, exactly: this process's environment, minus the variables
//! named by the profile's `client_secret_env` and `password_env` (so a child
//! cannot read the secrets that mint new tokens), plus [`TOKEN_VARS`] set to the
//! access token and [`BASE_URL_VARS`] set to the base URL. It inherits stdin,
//! stdout and stderr, the working directory and no open state file (the profile
//! lock is released before the child starts; std opens files close-on-exec).
//! Secrets from `*_cmd` sources or the config file live only in this process's
//! memory and are not passed on. The child's exit code is passed through; a child killed
//! by a signal gives 128 + the signal number, as shells report it; a command that
//! cannot be found gives 127, one that cannot be run 126.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use central_auth_core::secret::ExposeSecret;
use central_auth_core::secret_source::SecretSource;
use central_auth_core::{AccessToken, Error, Profile};

/// Variables set to the access token.
pub const TOKEN_VARS: &[&str] = &[
    "CENTRAL_ACCESS_TOKEN",
    "TF_VAR_central_access_token",
    "ARUBA_CENTRAL_ACCESS_TOKEN",
];
/// Variables set to the base URL.
pub const BASE_URL_VARS: &[&str] = &[
    "CENTRAL_BASE_URL",
    "TF_VAR_central_base_url",
    "ARUBA_CENTRAL_BASE_URL",
];

/// The environment variables holding the profile's own secrets.
pub fn secret_vars(profile: &Profile) -> Vec<&str> {
    std::iter::once(&profile.client_secret)
        .chain(profile.password.as_ref())
        .filter_map(|source| match source {
            SecretSource::Env(var) => Some(var.as_str()),
            _ => None,
        })
        .collect()
}

/// Runs `argv` with the token (and without `profile`'s secret variables) and
/// returns its exit code. `command` names the subcommand in messages.
pub fn run(
    command: &str,
    argv: &[OsString],
    profile: &Profile,
    token: &AccessToken,
) -> Result<ExitCode, Error> {
    let (program, args) = argv.split_first().ok_or_else(|| {
        Error::bad_input(format!(
            "{command}: no command given; write `central-auth exec -- COMMAND ARGS...`"
        ))
    })?;
    let mut child = Command::new(program);
    child.args(args);
    for var in secret_vars(profile) {
        child.env_remove(var);
    }
    for var in TOKEN_VARS {
        child.env(var, token.token.expose_secret());
    }
    for var in BASE_URL_VARS {
        child.env(var, &token.base_url);
    }
    match child.status() {
        Ok(status) => Ok(exit_code(status)),
        Err(e) => Ok(spawn_failure(command, program, &e)),
    }
}

/// Reports a command that could not be started; as shells and env(1) do:
/// 127 when not found, 126 when not runnable.
pub fn spawn_failure(command: &str, program: &std::ffi::OsStr, e: &std::io::Error) -> ExitCode {
    let code = if e.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    };
    crate::output::report(&Error::bad_input(format!(
        "{command}: cannot run {}: {e}",
        program.to_string_lossy()
    )));
    ExitCode::from(code)
}

/// A child's exit code passed through; 128 + N when killed by signal N.
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return ExitCode::from((128 + signal).clamp(0, 255) as u8);
        }
    }
    ExitCode::FAILURE
}
