//! Where a profile's client secret or password comes from, and resolving it.
//!
//! A secret is resolved only when a network call needs it, never on the
//! cached-token path. A `*_cmd` runs through `sh -c` in a process group of its own,
//! with stdin from `/dev/null`; its stdout, trimmed, is the secret and is never
//! shown. It is bounded: after its timeout (the profile's `secret_cmd_timeout`,
//! default 10 s, or less when the operation's budget has less left) the whole
//! group is killed, and the group is also killed when the process that ran it
//! dies (a watchdog in the group waits on a pipe only the parent holds). Its
//! stderr is captured, not passed through: a failure is one line with the exit
//! status, and under `-v` only its first line is logged, with the secret
//! redacted and control characters removed.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::error::Error;
use crate::secret::{duplicate, ExposeSecret, SecretString};

/// Default bound on a `*_cmd`.
pub const DEFAULT_CMD_TIMEOUT: Duration = Duration::from_secs(10);

/// Most output read from a `*_cmd` (stdout and stderr each).
const MAX_CMD_OUTPUT: u64 = 64 * 1024;

/// One configured source of a secret.
#[derive(Debug)]
pub enum SecretSource {
    /// Written in the config file itself.
    Literal(SecretString),
    /// Read from this environment variable.
    Env(String),
    /// Printed on stdout by this shell command.
    Command(String),
    /// The secret of this OS keyring item (`*_keyring`).
    Keyring(KeyringItem),
}

/// An OS keyring item named by a `*_keyring` key:
/// `{ service = "central-auth", account = "work/client_secret" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyringItem {
    /// The item's service (default `central-auth`).
    #[serde(default = "default_service")]
    pub service: String,
    /// The item's account.
    pub account: String,
}

fn default_service() -> String {
    "central-auth".to_owned()
}

/// Reads the secret of a keyring item (`None`: no such item), with a deadline.
pub type KeyringReader = fn(&KeyringItem) -> Result<Option<SecretString>, Error>;

static KEYRING_READER: OnceLock<KeyringReader> = OnceLock::new();

/// Makes `*_keyring` sources readable in this process: the keyring store
/// backend's `register()` calls it (the core knows no keyring).
pub fn register_keyring_reader(reader: KeyringReader) {
    let _ = KEYRING_READER.set(reader);
}

impl SecretSource {
    /// Builds the source from the four mutually exclusive config keys
    /// `KEY`, `KEY_env`, `KEY_cmd`, `KEY_keyring`.
    pub fn pick(
        key: &str,
        literal: Option<SecretString>,
        env: Option<String>,
        cmd: Option<String>,
        keyring: Option<KeyringItem>,
    ) -> Result<Option<SecretSource>, String> {
        if let Some(item) = keyring {
            if literal.is_some() || env.is_some() || cmd.is_some() {
                return Err(format!(
                    "set only one of {key}, {key}_env, {key}_cmd and {key}_keyring"
                ));
            }
            if item.service.trim().is_empty() || item.account.trim().is_empty() {
                return Err(format!(
                    "{key}_keyring: service and account must not be empty"
                ));
            }
            return Ok(Some(SecretSource::Keyring(item)));
        }
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
            SecretSource::Keyring(item) => format!(
                "OS keyring item service {:?} account {:?}",
                item.service, item.account
            ),
        }
    }

    /// Resolves the secret; `what` names it in errors (e.g. `client secret`). A
    /// command gets at most `timeout`; `log` receives the `-v` line about it.
    pub fn resolve(
        &self,
        what: &str,
        timeout: Duration,
        log: &dyn Fn(&str),
    ) -> Result<SecretString, Error> {
        match self {
            SecretSource::Literal(v) => Ok(duplicate(v)),
            SecretSource::Env(var) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
                _ => Err(Error::config(format!(
                    "{what}: environment variable {var} is not set or empty; export it or change the profile's source"
                ))),
            },
            SecretSource::Command(cmd) => run_command(cmd, what, timeout, log),
            SecretSource::Keyring(item) => {
                let Some(reader) = KEYRING_READER.get() else {
                    return Err(Error::config(format!(
                        "{what}: this program has no OS keyring support; use {what}_env or _cmd"
                    )));
                };
                match reader(item)? {
                    Some(v) if !v.expose_secret().trim().is_empty() => Ok(v),
                    _ => Err(Error::config(format!(
                        "{what}: the OS keyring has no item service {:?} account {:?}; store it with `central-auth secret set --profile PROFILE client_secret` (or password)",
                        item.service, item.account
                    ))),
                }
            }
        }
    }
}

/// The wrapper run by `sh -c`: a watchdog that kills the whole process group
/// once its stdin (a pipe only the parent holds) reaches end of file, then the
/// command itself with stdin from `/dev/null`. `$1` is the command.
const WRAPPER: &str = r#"exec 3<&0 </dev/null
{ read -r _ <&3; kill -s KILL 0; } >/dev/null 2>&1 &
exec 3<&-
eval "$1""#;

fn run_command(
    cmd: &str,
    what: &str,
    timeout: Duration,
    log: &dyn Fn(&str),
) -> Result<SecretString, Error> {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(WRAPPER)
        .arg("central-auth-secret-cmd")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .map_err(|e| Error::config(format!("{what}: cannot run `{cmd}`: {e}")))?;
    // Holding the write end keeps the watchdog waiting; dropping it (here, or by
    // dying) makes the watchdog kill the group.
    let watchdog = child.stdin.take();
    let stdout = read_in_background(child.stdout.take());
    let stderr = read_in_background(child.stderr.take());
    let status = wait_bounded(&mut child, timeout);
    drop(watchdog);
    let status = match status {
        Some(s) => s,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::config(format!(
                "{what}: command `{cmd}` did not finish within {} s and was killed (with everything it started); make it faster or raise secret_cmd_timeout",
                timeout.as_secs_f64().ceil() as u64
            )));
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    let secret = String::from_utf8(out)
        .map(|t| SecretString::from(t.trim().to_owned()))
        .ok();
    if let Some(line) = first_line(&err, secret.as_ref()) {
        log(&format!("{what}: command `{cmd}` said on stderr: {line}"));
    }
    if !status.success() {
        // The shell's own codes: the program is not there, or not runnable.
        let message = match status.code() {
            Some(127) => format!(
                "{what}: command `{cmd}`: command not found (exit code 127); install the program it runs or fix the profile's *_cmd"
            ),
            Some(126) => format!(
                "{what}: command `{cmd}`: permission denied or not executable (exit code 126); fix the program's mode or the profile's *_cmd"
            ),
            code => format!(
                "{what}: command `{cmd}` failed with {}; run it by hand to see why",
                code.map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"))
            ),
        };
        return Err(Error::config(message));
    }
    let secret = secret.ok_or_else(|| {
        Error::config(format!("{what}: command `{cmd}` printed non-UTF-8 output"))
    })?;
    if secret.expose_secret().is_empty() {
        return Err(Error::config(format!(
            "{what}: command `{cmd}` printed nothing; it must print the secret on stdout"
        )));
    }
    Ok(secret)
}

fn read_in_background(
    pipe: Option<impl Read + Send + 'static>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = pipe {
            let _ = p.take(MAX_CMD_OUTPUT).read_to_end(&mut buf);
        }
        buf
    })
}

/// Waits for `child` at most `timeout`; `None` when it is still running.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        let spent = start.elapsed();
        if spent >= timeout {
            return None;
        }
        std::thread::sleep(pause.min(timeout - spent));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// The first non-empty stderr line, printable, at most 200 characters, with
/// any occurrence of the secret replaced.
fn first_line(stderr: &[u8], secret: Option<&SecretString>) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let mut line = line.to_owned();
    if let Some(s) = secret {
        let s = s.expose_secret();
        if !s.is_empty() {
            line = line.replace(s, crate::redact::REDACTED);
        }
    }
    let shown: String = line
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(200)
        .collect();
    Some(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::ExposeSecret;

    const T: Duration = Duration::from_secs(10);

    fn resolve(cmd: &str, timeout: Duration) -> (Result<SecretString, Error>, Vec<String>) {
        let lines = std::cell::RefCell::new(Vec::new());
        let r = SecretSource::Command(cmd.into()).resolve("password", timeout, &|l: &str| {
            lines.borrow_mut().push(l.to_owned())
        });
        (r, lines.into_inner())
    }

    #[test]
    fn command_output_is_trimmed() {
        let (s, _) = resolve("printf '  hunter2 \\n'", T);
        assert_eq!(s.unwrap().expose_secret(), "hunter2");
    }

    #[test]
    fn failing_command_is_a_config_error_without_output() {
        let (r, _) = resolve("echo $((6 * 7)); exit 3", T);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("exit code 3") && !e.contains("42"), "{e}");
    }

    #[test]
    fn a_missing_program_is_named_command_not_found() {
        let (r, _) = resolve("central-auth-no-such-program show x", T);
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("command not found") && e.contains("install"),
            "{e}"
        );
        let (r, _) = resolve("/dev/null", T);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("not executable"), "{e}");
    }

    #[test]
    fn stderr_is_captured_and_the_secret_redacted_in_the_log() {
        let (s, lines) = resolve("v=s3c; v=${v}r3t-value; echo \"got $v\" >&2; echo $v", T);
        assert_eq!(s.unwrap().expose_secret(), "s3cr3t-value");
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("got REDACTED") && !lines[0].contains("s3cr3t-value"),
            "{lines:?}"
        );
    }

    #[test]
    fn a_hanging_command_is_killed_with_its_children() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let cmd = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
        let start = Instant::now();
        let (r, _) = resolve(&cmd, Duration::from_millis(500));
        let e = r.unwrap_err().to_string();
        assert!(e.contains("did not finish within 1 s"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(5));
        let pid = std::fs::read_to_string(&pidfile).unwrap();
        let proc_dir = std::path::PathBuf::from(format!("/proc/{}", pid.trim()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while proc_dir.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // A killed child may linger as a zombie of init for a moment; it must not
        // be running.
        let state = std::fs::read_to_string(proc_dir.join("stat")).unwrap_or_default();
        assert!(
            state.is_empty() || state.contains(") Z"),
            "the grandchild still runs: {state}"
        );
    }

    #[test]
    fn only_one_source() {
        assert!(SecretSource::pick(
            "client_secret",
            None,
            Some("A".into()),
            Some("b".into()),
            None
        )
        .is_err());
        assert!(SecretSource::pick("client_secret", None, None, None, None)
            .unwrap()
            .is_none());
        let item = || KeyringItem {
            service: "central-auth".into(),
            account: "p/client_secret".into(),
        };
        assert!(
            SecretSource::pick("client_secret", None, Some("A".into()), None, Some(item()))
                .is_err()
        );
        assert!(matches!(
            SecretSource::pick("client_secret", None, None, None, Some(item())),
            Ok(Some(SecretSource::Keyring(_)))
        ));
        let empty = KeyringItem {
            service: "central-auth".into(),
            account: " ".into(),
        };
        assert!(SecretSource::pick("password", None, None, None, Some(empty)).is_err());
    }
}
