//! `central-auth proxy --exec -- CMD ARGS`: the command the proxy runs for
//! its lifetime. The child starts once the proxy listens, with:
//!
//! - [`BASE_URL_VARS`](crate::exec::BASE_URL_VARS) (`CENTRAL_BASE_URL`,
//!   `TF_VAR_central_base_url`, `ARUBA_CENTRAL_BASE_URL`) set to the proxy's
//!   URL, as `central-auth exec` sets them to Central's;
//! - [`SOCKET_VAR`] set to the socket path when the proxy listens on a Unix
//!   socket (the base URL is then `http://localhost`, for
//!   `curl --unix-socket "$CENTRAL_AUTH_PROXY_SOCKET" "$CENTRAL_BASE_URL/..."`);
//! - no token: the [`TOKEN_VARS`](crate::exec::TOKEN_VARS) and the profile's
//!   `client_secret_env`/`password_env` variables are removed, so the child
//!   reaches Central only through the proxy.
//!
//! SIGTERM and SIGINT sent to the proxy are passed to the child, and the
//! proxy keeps serving until the child exits (it may still need Central while
//! it cleans up). A SIGINT is not passed on when the proxy is the terminal's
//! foreground process group: Ctrl-C already reached the child from the
//! terminal, and a second one would interrupt its cleanup. When the child
//! exits the proxy stops, and exits with the child's code (128 + N when a
//! signal N killed it; 127 or 126 when it could not be started).

use std::ffi::OsString;
use std::process::{Command, ExitCode, ExitStatus};
use std::sync::{Arc, Mutex};

use central_auth_core::{Error, Profile};

use super::transport::Listening;
use super::workers::Waker;

/// The variable naming the proxy's Unix socket.
pub const SOCKET_VAR: &str = "CENTRAL_AUTH_PROXY_SOCKET";

/// The running child.
pub struct Child {
    pid: rustix::process::Pid,
    status: Arc<Mutex<Option<ExitStatus>>>,
}

/// Starts `argv` for the proxy listening `on`; `Err(code)` when it cannot be
/// started (the error was reported).
pub fn spawn(
    argv: &[OsString],
    profile: &Profile,
    on: &Listening,
    waker: Arc<Waker>,
) -> Result<Result<Child, ExitCode>, Error> {
    let (program, args) = argv.split_first().ok_or_else(|| {
        Error::bad_input(
            "proxy --exec: no command given; write `central-auth proxy --exec -- COMMAND ARGS...`",
        )
    })?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    for var in crate::exec::secret_vars(profile) {
        cmd.env_remove(var);
    }
    for var in crate::exec::TOKEN_VARS {
        cmd.env_remove(var);
    }
    let base_url = on.base_url();
    for var in crate::exec::BASE_URL_VARS {
        cmd.env(var, &base_url);
    }
    match on {
        Listening::Unix { path } => cmd.env(SOCKET_VAR, path),
        Listening::Tcp { .. } => cmd.env_remove(SOCKET_VAR),
    };
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ok(Err(crate::exec::spawn_failure("proxy --exec", program, &e))),
    };
    let pid = rustix::process::Pid::from_raw(child.id() as i32)
        .ok_or_else(|| Error::unavailable("the child has no process id"))?;
    let status = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&status);
    std::thread::Builder::new()
        .name("proxy-child".to_owned())
        .spawn(move || {
            let result = child.wait();
            if let Ok(st) = result {
                *seen
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(st);
            }
            waker.wake();
        })
        .map_err(|e| Error::unavailable(format!("cannot watch the child: {e}")))?;
    Ok(Ok(Child { pid, status }))
}

impl Child {
    /// The exit status, once the child exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        *self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Passes `signal` on (see the module doc for SIGINT).
    pub fn forward(&self, signal: i32) {
        let Some(sig) = rustix::process::Signal::from_named_raw(signal) else {
            return;
        };
        if sig == rustix::process::Signal::INT && terminal_sent_it() {
            return;
        }
        let status = self
            .status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if status.is_none() {
            let _ = rustix::process::kill_process(self.pid, sig);
        }
    }
}

/// Whether this process is in the foreground process group of the terminal
/// on stdin, where a terminal's Ctrl-C reaches the whole group.
fn terminal_sent_it() -> bool {
    let stdin = rustix::stdio::stdin();
    rustix::termios::tcgetpgrp(stdin).is_ok_and(|fg| fg == rustix::process::getpgrp())
}
