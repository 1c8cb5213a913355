//! StrictModes, like OpenSSH's: refuse a config or state that another user could
//! have written, before any secret is read or any `*_cmd` runs.
//!
//! Checked, when they exist: the directory holding `config.toml` (the home with
//! `CENTRAL_AUTH_HOME`), `config.toml` itself and the state directory. Each must be
//! owned by the effective user (or root) and not writable by group or others;
//! otherwise [`enforce`] fails with an [`Error::Store`] (exit 6) naming the path
//! and the `chown`/`chmod` that fixes it. Links are followed here (a config
//! symlinked from a dotfiles repository is checked at its target); the store
//! below `state/` never follows links (`fsutil::nofollow`).
//!
//! Softer findings, which do not stop a command: [`exposure_warning`] (a literal
//! secret in a config file others can read; every binary prints it) and
//! [`findings`] (also a state directory others can read or enter; `doctor`).

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::Error;
use crate::home::Home;
use crate::secret_source::SecretSource;

/// One problem found with a path's owner or mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The path concerned.
    pub path: PathBuf,
    /// True when commands refuse to run because of it.
    pub fatal: bool,
    /// What is wrong and the command that fixes it.
    pub message: String,
}

/// The paths whose owner and mode are enforced, with what they are.
fn guarded(home: &Home) -> Vec<(&Path, &'static str, bool)> {
    let mut out = Vec::new();
    if let Some(dir) = home.config_file.parent() {
        out.push((dir, "config directory", true));
    }
    out.push((home.config_file.as_path(), "config file", false));
    out.push((home.state_dir.as_path(), "state directory", true));
    out
}

/// Refuses (exit 6) when the home, `config.toml` or `state/` is owned by another
/// user (root aside) or writable by group or others.
pub fn enforce(home: &Home) -> Result<(), Error> {
    match findings_of(home).into_iter().find(|f| f.fatal) {
        Some(f) => Err(Error::store(f.message)),
        None => Ok(()),
    }
}

/// Everything [`enforce`] refuses, plus a state directory others can read, and
/// the literal-secret exposure of `config`: for `doctor`.
pub fn findings(home: &Home, config: &Config) -> Vec<Finding> {
    let mut out = findings_of(home);
    if let Some(message) = exposure_warning(home, config) {
        out.push(Finding {
            path: home.config_file.clone(),
            fatal: false,
            message,
        });
    }
    out
}

/// The warning every command prints when `config.toml` holds a literal secret and
/// is readable by group or others.
pub fn exposure_warning(home: &Home, config: &Config) -> Option<String> {
    let is_literal =
        |p: &&crate::config::Profile| matches!(p.client_secret, SecretSource::Literal(_));
    // The common case costs nothing: no literal secret read or left unread.
    if !config.unread_literal_secret && !config.profiles.values().any(|p| is_literal(&p)) {
        return None;
    }
    let mode = mode_of(&home.config_file)?;
    if mode & 0o044 == 0 {
        return None;
    }
    // Readable by others: every profile counts, also those a one-profile call
    // did not read (`Config::load_for`); the whole file is parsed only when one
    // of those has a literal secret.
    let whole = config
        .unread_literal_secret
        .then(|| Config::load(&home.config_file).ok())
        .flatten();
    let literal: Vec<&str> = std::iter::once(config)
        .chain(whole.as_ref())
        .flat_map(|c| c.profiles.values())
        .filter(is_literal)
        .map(|p| p.name.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if literal.is_empty() {
        return None;
    }
    let path = home.config_file.display();
    Some(format!(
        "warning: {path} holds a literal client_secret (profile {}) and is readable by others (mode {mode:03o}); run `chmod 600 {path}` or use client_secret_cmd",
        literal.join(", ")
    ))
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
fn findings_of(home: &Home) -> Vec<Finding> {
    use crate::fsutil::foreign;
    use std::os::unix::fs::MetadataExt;
    let me = foreign::euid();
    let mut out = Vec::new();
    for (path, what, is_dir) in guarded(home) {
        let Ok(meta) = std::fs::metadata(path) else {
            continue;
        };
        let shown = path.display();
        let mode = meta.mode() & 0o7777;
        // The one rule, shared with the files other tools own (`fsutil::foreign`).
        let flaw = foreign::flaw(meta.uid(), mode, foreign::Readers::Any, me);
        if let Some(foreign::Flaw::Owner(uid)) = flaw {
            out.push(Finding {
                path: path.to_owned(),
                fatal: true,
                message: format!(
                    "{what} {shown} is owned by uid {uid}, not by you (uid {me}): another user could have written it; nothing was read or run. Check it, then `chown {me} {shown}` (or set CENTRAL_AUTH_HOME to a directory of yours)"
                ),
            });
        } else if flaw.is_some() {
            let fix = if is_dir { "700" } else { "600" };
            out.push(Finding {
                path: path.to_owned(),
                fatal: true,
                message: format!(
                    "{what} {shown} is writable by group or others (mode {mode:03o}): another user could have changed it; nothing was read or run. Check it, then `chmod {fix} {shown}`"
                ),
            });
        } else if is_dir && what == "state directory" && mode & 0o077 != 0 {
            out.push(Finding {
                path: path.to_owned(),
                fatal: false,
                message: format!(
                    "{what} {shown} can be listed by others (mode {mode:03o}); run `chmod 700 {shown}`"
                ),
            });
        }
    }
    out
}

#[cfg(not(unix))]
fn findings_of(_home: &Home) -> Vec<Finding> {
    Vec::new()
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn writable_paths_are_refused_and_readable_state_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::under(dir.path().to_owned());
        std::fs::write(&home.config_file, "").unwrap();
        std::fs::create_dir(&home.state_dir).unwrap();
        chmod(&home.state_dir, 0o700);
        chmod(&home.config_file, 0o600);
        chmod(dir.path(), 0o700);
        enforce(&home).unwrap();
        chmod(&home.config_file, 0o666);
        let e = enforce(&home).unwrap_err().to_string();
        assert!(e.contains("writable by group or others (mode 666)"), "{e}");
        assert!(e.contains("chmod 600"), "{e}");
        chmod(&home.config_file, 0o644);
        chmod(&home.state_dir, 0o755);
        enforce(&home).unwrap();
        let config = Config::parse(
            "[profiles.p]\nbase_url = \"https://x.example\"\nclient_id = \"c\"\nclient_secret = \"s3cr3t\"\n",
            &home.config_file,
        )
        .unwrap();
        let all = findings(&home, &config);
        assert_eq!(all.len(), 2, "{all:?}");
        assert!(all
            .iter()
            .all(|f| !f.fatal && !f.message.contains("s3cr3t")));
        chmod(dir.path(), 0o777);
        let e = enforce(&home).unwrap_err().to_string();
        assert!(e.contains("config directory"), "{e}");
    }
}

#[cfg(all(test, unix))]
mod exposure_tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_one_profile_call_still_warns_about_every_literal_secret() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::under(dir.path().to_path_buf());
        let text = "default_profile = \"envonly\"\n[profiles.envonly]\ncluster = \"US-2\"\nclient_id = \"a\"\nclient_secret_env = \"S\"\n[profiles.literal]\ncluster = \"US-2\"\nclient_id = \"b\"\nclient_secret = \"not-for-others\"\n";
        std::fs::write(&home.config_file, text).expect("write config");
        std::fs::set_permissions(&home.config_file, std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        // The call reads only `envonly`; the warning names `literal` anyway.
        let partial = Config::load_for(&home.config_file, Some("envonly")).expect("loads");
        assert_eq!(partial.profiles.len(), 1);
        let warning = exposure_warning(&home, &partial).expect("warns");
        assert!(warning.contains("profile literal"), "{warning}");
        assert!(!warning.contains("not-for-others"), "{warning}");
        std::fs::set_permissions(&home.config_file, std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
        assert_eq!(exposure_warning(&home, &partial), None);
    }
}
