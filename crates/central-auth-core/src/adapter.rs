//! What every tool adapter binary shares: the failure of one run and the one-line
//! stderr messages (`<binary>: message`). Building the lines lives here; printing
//! them stays in the binaries.

use std::fmt;
use std::io::Write;

use serde::Serialize;

use crate::broker::{AccessToken, Broker};
use crate::error::{Error, ExitCode};
use crate::secret::ExposeSecret;
use crate::status::rfc3339;

/// Why one run of an adapter failed.
#[derive(Debug)]
pub enum Failure {
    /// The broker, the configuration or the input failed.
    Core(Error),
    /// stdout could not be written.
    Output(std::io::Error),
}

impl Failure {
    /// The process exit code (the shared codes; 1 when stdout failed).
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Core(e) => e.exit_code() as u8,
            Failure::Output(_) => ExitCode::Other as u8,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Core(e) => write!(f, "{e}"),
            Failure::Output(e) => write!(f, "cannot write the token to stdout: {e}"),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Core(e)
    }
}

/// Opens the broker from the environment for the adapter `client`; with
/// `verbose`, the broker's redacted lines go to `log`. The StrictModes warning
/// (a literal secret in a config others can read) always goes to `log`.
pub fn open_broker(client: &str, verbose: bool, log: fn(&str)) -> Result<Broker, Failure> {
    let broker = Broker::from_env()?.with_client(client);
    if let Some(warning) = crate::strict::exposure_warning(broker.home(), broker.config()) {
        log(&warning);
    }
    Ok(if verbose {
        broker.with_log(log)
    } else {
        broker
    })
}

/// The token object shared by the Terraform and Ansible adapters, in key order.
#[derive(Serialize)]
struct TokenJson<'a> {
    access_token: &'a str,
    expires_at: String,
    base_url: &'a str,
    profile: &'a str,
}

/// Renders `{"access_token","expires_at" (RFC 3339),"base_url","profile"}` and a
/// newline: one JSON object of strings. The protocol carries the token, so this
/// is where it is exposed.
pub fn render_token_json(profile: &str, token: &AccessToken) -> Vec<u8> {
    let answer = TokenJson {
        access_token: token.token.expose_secret(),
        expires_at: rfc3339(token.expires_at),
        base_url: &token.base_url,
        profile,
    };
    let mut out =
        serde_json::to_vec(&answer).expect("a struct of strings always serializes to JSON");
    out.push(b'\n');
    out
}

/// Writes [`render_token_json`] to `out` in one write and flushes it.
pub fn write_token_json(
    mut out: impl Write,
    profile: &str,
    token: &AccessToken,
) -> std::io::Result<()> {
    out.write_all(&render_token_json(profile, token))?;
    out.flush()
}

/// `name: message` on one line, whatever the message holds.
pub fn error_line(name: &str, message: &dyn fmt::Display) -> String {
    let message = message.to_string().replace(['\n', '\r'], " ");
    format!("{name}: {message}")
}

/// A command-line error as one line: the first line of clap's rendering (which
/// spans several), then `hint` and a pointer to `--help`.
pub fn usage_line(name: &str, rendered: &str, hint: &str) -> String {
    let first = rendered.lines().next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    if hint.is_empty() {
        format!("{name}: {first}; see `{name} --help`")
    } else {
        format!("{name}: {first}; {hint}, see `{name} --help`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_single() {
        let f = Failure::Core(Error::bad_input("a\nb"));
        assert_eq!(error_line("x", &f), "x: a b");
        assert_eq!(f.exit_code(), 2);
        let o = Failure::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(o.exit_code(), 1);
        assert_eq!(
            usage_line(
                "x",
                "error: unexpected argument '--nope' found\n\nUsage: x",
                ""
            ),
            "x: unexpected argument '--nope' found; see `x --help`"
        );
    }
}
