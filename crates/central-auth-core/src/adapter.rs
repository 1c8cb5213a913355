//! What every tool adapter binary shares: the failure of one run and the one-line
//! stderr messages (`<binary>: message`). Building the lines lives here; printing
//! them stays in the binaries.

use std::fmt;

use crate::error::{Error, ExitCode};

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
