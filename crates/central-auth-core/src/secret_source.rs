//! Where a profile's client secret or password comes from, and resolving it.
//!
//! A secret is resolved only when a network call needs it, never on the cached-token
//! path. A `*_cmd` runs through `sh -c` with stdin and stderr inherited, so password
//! managers can prompt; its stdout, trimmed, is the secret and is never shown.

use std::process::{Command, Stdio};

use crate::error::Error;
use crate::secret::{duplicate, SecretString};

/// One configured source of a secret.
#[derive(Debug)]
pub enum SecretSource {
    /// Written in the config file itself.
    Literal(SecretString),
    /// Read from this environment variable.
    Env(String),
    /// Printed on stdout by this shell command.
    Command(String),
}

impl SecretSource {
    /// Builds the source from the three mutually exclusive config keys
    /// `KEY`, `KEY_env`, `KEY_cmd`.
    pub fn pick(
        key: &str,
        literal: Option<SecretString>,
        env: Option<String>,
        cmd: Option<String>,
    ) -> Result<Option<SecretSource>, String> {
        match (literal, env, cmd) {
            (None, None, None) => Ok(None),
            (Some(v), None, None) => Ok(Some(SecretSource::Literal(v))),
            (None, Some(v), None) if !v.trim().is_empty() => Ok(Some(SecretSource::Env(v))),
            (None, None, Some(c)) if !c.trim().is_empty() => Ok(Some(SecretSource::Command(c))),
            (None, Some(_), None) | (None, None, Some(_)) => {
                Err(format!("{key}_env or {key}_cmd must not be empty"))
            }
            _ => Err(format!("set only one of {key}, {key}_env and {key}_cmd")),
        }
    }

    /// A description without the secret, e.g. `env CENTRAL_SECRET`.
    pub fn describe(&self) -> String {
        match self {
            SecretSource::Literal(_) => "the config file".to_owned(),
            SecretSource::Env(var) => format!("environment variable {var}"),
            SecretSource::Command(cmd) => format!("command `{cmd}`"),
        }
    }

    /// Resolves the secret; `what` names it in errors (e.g. `client secret`).
    pub fn resolve(&self, what: &str) -> Result<SecretString, Error> {
        match self {
            SecretSource::Literal(v) => Ok(duplicate(v)),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
                _ => Err(Error::config(format!(
                    "{what}: environment variable {var} is not set or empty; export it or change the profile's source"
                ))),
            },
            SecretSource::Command(cmd) => run_command(cmd, what),
        }
    }
}

fn run_command(cmd: &str, what: &str) -> Result<SecretString, Error> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| Error::config(format!("{what}: cannot run `{cmd}`: {e}")))?;
    if !output.status.success() {
        let code = output
            .status
            .code()
            .map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"));
        return Err(Error::config(format!(
            "{what}: command `{cmd}` failed with {code}; run it by hand to see why"
        )));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|_| Error::config(format!("{what}: command `{cmd}` printed non-UTF-8 output")))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::config(format!(
            "{what}: command `{cmd}` printed nothing; it must print the secret on stdout"
        )));
    }
    Ok(SecretString::from(trimmed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

    #[test]
    fn command_output_is_trimmed() {
        let s = SecretSource::Command("printf '  hunter2 \\n'".into())
            .resolve("password")
            .unwrap();
        assert_eq!(s.expose_secret(), "hunter2");
    }

    #[test]
    fn failing_command_is_a_config_error_without_output() {
        let e = SecretSource::Command("echo $((6 * 7)); exit 3".into())
            .resolve("password")
            .unwrap_err()
            .to_string();
        assert!(e.contains("exit code 3") && !e.contains("42"), "{e}");
    }

    #[test]
    fn only_one_source() {
        assert!(
            SecretSource::pick("client_secret", None, Some("A".into()), Some("b".into())).is_err()
        );
        assert!(SecretSource::pick("client_secret", None, None, None)
            .unwrap()
            .is_none());
    }
}
