//! What the CLI writes: stdout (a closed pipe is not an error), confirmation
//! lines and `--verbose` lines on stderr, and a failure as one stderr line
//! `central-auth: message`, printed the way every binary prints one
//! (`central_auth_cli_common::print_line`).

use std::io::Write;

use central_auth_core::Error;

/// The binary's name, the prefix of every stderr line.
pub(crate) const NAME: &str = "central-auth";

/// Prints clap's error as one line: `central-auth: <first line>; see `central-auth --help``.
#[allow(clippy::print_stderr)]
pub(crate) fn usage_error(rendered: &str, command: &str) {
    eprintln!(
        "{}",
        central_auth_core::adapter::usage_line_for(NAME, rendered, "", Some(command))
    );
}

/// Prints an error as `central-auth: message` on stderr, without ending the run
/// (`keepalive` goes on with the next profile; a child that cannot start).
pub(crate) fn report(e: &Error) {
    central_auth_cli_common::print_line(NAME, e);
}

/// A `--verbose` line or a warning: `central-auth: line`, terminal-safe.
pub(crate) fn verbose_log(line: &str) {
    central_auth_cli_common::print_line(NAME, &line);
}

/// Writes to stdout; a closed pipe is not an error worth reporting.
pub(crate) fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::unavailable(format!("cannot write to stdout: {e}"))),
    }
}

/// Confirmation messages go to stderr, so stdout stays clean for scripts.
#[allow(clippy::print_stderr)]
pub(crate) fn say(line: &str) -> Result<(), Error> {
    eprintln!("{line}");
    Ok(())
}
