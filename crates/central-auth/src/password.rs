//! Getting the password for `central-auth login`: `--password-stdin`, the profile's
//! configured source, or a no-echo prompt when stdin is a terminal.
//!
//! The prompt puts the terminal in a no-echo, no-signal, byte-at-a-time mode and
//! restores it on every way out, Ctrl-C included: with signals off, Ctrl-C
//! arrives as a byte, so the process is never killed with echo still off.

use std::io::{BufRead, IsTerminal, Write};

use central_auth_core::secret::{ExposeSecret, SecretString};
use central_auth_core::{Error, Profile};

/// What the password step produced.
pub enum Password {
    /// Use this password.
    Given(SecretString),
    /// Let the broker use the profile's configured source.
    FromProfile,
    /// The user pressed Ctrl-C (or Ctrl-D) at the prompt; the terminal is restored.
    Cancelled,
}

/// The password to log in with.
pub fn obtain(profile: &Profile, from_stdin: bool) -> Result<Password, Error> {
    if profile.grant.is_minted() {
        return Ok(Password::FromProfile);
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
        return Ok(Password::Given(line));
    }
    if profile.password.is_some() {
        return Ok(Password::FromProfile);
    }
    let Some(username) = profile.username.as_deref() else {
        return Err(Error::config(format!(
            "profile {:?} has no username; add username (and optionally password_env or password_cmd) to log in",
            profile.name.as_str()
        )));
    };
    if !std::io::stdin().is_terminal() {
        // A usage problem (exit 2): say how to give the password.
        return Err(Error::bad_input(format!(
            "profile {:?} has no password source and stdin is not a terminal; pass --password-stdin or set password_env / password_cmd",
            profile.name.as_str()
        )));
    }
    let prompt = format!("Password for {username} at {}: ", profile.base_host());
    prompt_no_echo(&prompt)
}

#[cfg(unix)]
pub(crate) fn prompt_no_echo(prompt: &str) -> Result<Password, Error> {
    use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex};
    use std::io::Read;

    let stdin = std::io::stdin();
    let fail =
        |e: &dyn std::fmt::Display| Error::bad_input(format!("cannot read the password: {e}"));
    let original = termios::tcgetattr(&stdin).map_err(|e| fail(&e))?;
    let mut quiet = original.clone();
    quiet.local_modes &= !(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
    quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(prompt.as_bytes());
    let _ = err.flush();
    termios::tcsetattr(&stdin, OptionalActions::Flush, &quiet).map_err(|e| fail(&e))?;
    // Restores the terminal however this function is left.
    struct Restore<'a>(&'a std::io::Stdin, termios::Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = termios::tcsetattr(self.0, OptionalActions::Now, &self.1);
        }
    }
    let restore = Restore(&stdin, original);
    let mut typed: Vec<u8> = Vec::new();
    let mut byte = [0u8; 1];
    let outcome = loop {
        match stdin.lock().read(&mut byte) {
            Ok(0) => break None,
            Ok(_) => match byte[0] {
                b'\r' | b'\n' => break Some(()),
                // Ctrl-C, Ctrl-D, Ctrl-\: give up.
                0x03 | 0x04 | 0x1c => break None,
                // Backspace / DEL.
                0x08 | 0x7f => {
                    typed.pop();
                }
                // Ctrl-U: start over.
                0x15 => typed.clear(),
                b => typed.push(b),
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                drop(restore);
                return Err(fail(&e));
            }
        }
    };
    drop(restore);
    let _ = err.write_all(b"\n");
    let password = SecretString::from(String::from_utf8_lossy(&typed).into_owned());
    typed.fill(0);
    match outcome {
        Some(()) => Ok(Password::Given(password)),
        None => Ok(Password::Cancelled),
    }
}

#[cfg(not(unix))]
pub(crate) fn prompt_no_echo(_prompt: &str) -> Result<Password, Error> {
    Err(Error::NotInteractive {
        message: "password prompts need a Unix terminal here; pass --password-stdin or set password_env / password_cmd".to_owned(),
    })
}
