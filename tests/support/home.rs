//! A private `CENTRAL_AUTH_HOME`: a temporary directory for `config.toml` and
//! the store, the environment that points the workspace binaries at it (home,
//! secrets), the paths of a profile's files, and the calls made on a home
//! (`central-auth ARGS`, importing a Download Token, a stampede of
//! `central-auth token`).
//!
//! The one home of the workspace: the end-to-end tests use it through
//! [`crate::TestHome`] (which adds an in-process simulator, the test profiles
//! and assertions), `cargo xtask demo` and `bench` use it directly. It never
//! panics: errors are one-line messages, so xtask can report them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temporary `CENTRAL_AUTH_HOME`, removed on drop.
pub struct Home {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    secrets: Vec<(&'static str, String)>,
}

impl Home {
    /// An empty home in the system temp directory (`prefix` and a random tail),
    /// whose commands run the binaries in `bin_dir` with `secrets` set as
    /// environment variables (the `*_env` names the config refers to).
    pub fn new(
        prefix: &str,
        bin_dir: &Path,
        secrets: &[(&'static str, &str)],
    ) -> Result<Home, String> {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(|e| format!("cannot create a temp dir: {e}"))?;
        Ok(Home {
            dir,
            bin_dir: bin_dir.to_path_buf(),
            secrets: secrets.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
        })
    }

    /// The `CENTRAL_AUTH_HOME` directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The config file.
    pub fn config_path(&self) -> PathBuf {
        self.path().join("config.toml")
    }

    /// The config file's text.
    pub fn config(&self) -> Result<String, String> {
        let file = self.config_path();
        std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }

    /// Writes the config file.
    pub fn set_config(&self, text: &str) -> Result<(), String> {
        let file = self.config_path();
        std::fs::write(&file, text).map_err(|e| format!("cannot write {}: {e}", file.display()))
    }

    /// Appends `text` to the config file.
    pub fn append_config(&self, text: &str) -> Result<(), String> {
        let mut config = self.config()?;
        config.push_str(text);
        self.set_config(&config)
    }

    /// The directory of a profile in the store (`state/profiles/<name>/`).
    pub fn profile_dir(&self, profile: &str) -> PathBuf {
        self.path().join("state").join("profiles").join(profile)
    }

    /// The token record of a profile.
    pub fn record_path(&self, profile: &str) -> PathBuf {
        self.profile_dir(profile).join("token.json")
    }

    /// The lock file of a profile.
    pub fn lock_path(&self, profile: &str) -> PathBuf {
        self.profile_dir(profile).join("lock")
    }

    /// The usage file of a profile.
    pub fn usage_path(&self, profile: &str) -> PathBuf {
        self.profile_dir(profile).join("usage.json")
    }

    /// Path of a workspace binary.
    pub fn exe(&self, name: &str) -> PathBuf {
        self.bin_dir.join(name)
    }

    /// A command for a workspace binary with this home's environment.
    pub fn cmd(&self, name: &str) -> Command {
        let mut c = Command::new(self.exe(name));
        self.apply_env(&mut c);
        c
    }

    /// Sets this home's environment on any command (also for real tools that
    /// call our helpers): private `CENTRAL_AUTH_HOME` and `HOME`, no
    /// `CENTRAL_AUTH_PROFILE`, the secrets, and stdin from `/dev/null`.
    pub fn apply_env(&self, c: &mut Command) {
        c.env("CENTRAL_AUTH_HOME", self.path())
            .env("HOME", self.path())
            .env_remove("CENTRAL_AUTH_PROFILE");
        for (name, value) in &self.secrets {
            c.env(name, value);
        }
        c.stdin(Stdio::null());
    }

    /// Runs `central-auth ARGS` and returns its output, whatever its exit.
    pub fn cli_output(&self, args: &[&str]) -> Result<Output, String> {
        self.cmd("central-auth")
            .args(args)
            .output()
            .map_err(|e| format!("cannot run central-auth: {e}"))
    }

    /// Runs `central-auth ARGS`; returns its stdout, or an error with its stderr.
    pub fn cli_stdout(&self, args: &[&str]) -> Result<String, String> {
        let out = self.cli_output(args)?;
        if !out.status.success() {
            return Err(format!(
                "`central-auth {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Writes `download` (a Download Token JSON) to `file_name` in the home,
    /// runs `central-auth import ARGS FILE`, removes the file and returns the
    /// import's output.
    pub fn import(
        &self,
        download: &serde_json::Value,
        file_name: &str,
        args: &[&str],
    ) -> Result<Output, String> {
        let file = self.path().join(file_name);
        std::fs::write(&file, download.to_string())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let file_arg = file.to_string_lossy().into_owned();
        let mut import = vec!["import"];
        import.extend_from_slice(args);
        import.push(&file_arg);
        let out = self.cli_output(&import);
        let removed = std::fs::remove_file(&file);
        let out = out?;
        removed.map_err(|e| format!("cannot remove {}: {e}", file.display()))?;
        Ok(out)
    }

    /// Starts `n` `central-auth token` processes at once, then waits for all.
    /// Returns their tokens and the wall time from first spawn to last exit.
    pub fn stampede(&self, n: usize) -> Result<(Vec<String>, Duration), String> {
        let start = Instant::now();
        let mut children = Vec::with_capacity(n);
        for _ in 0..n {
            let child = self
                .cmd("central-auth")
                .arg("token")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start central-auth: {e}"))?;
            children.push(child);
        }
        let mut outputs = Vec::with_capacity(n);
        for child in children {
            outputs.push(
                child
                    .wait_with_output()
                    .map_err(|e| format!("waiting for central-auth: {e}"))?,
            );
        }
        let wall = start.elapsed();
        let mut tokens = Vec::with_capacity(n);
        for (i, out) in outputs.iter().enumerate() {
            if !out.status.success() {
                return Err(format!(
                    "stampede caller {i} failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            tokens.push(String::from_utf8_lossy(&out.stdout).trim_end().to_owned());
        }
        Ok((tokens, wall))
    }
}

/// A Download Token JSON with its `created_at` moved `age_secs` into the past
/// (an age beyond the access token's lifetime gives an expired access token
/// with a live refresh token).
pub fn aged(mut download: serde_json::Value, age_secs: u64) -> Result<serde_json::Value, String> {
    let created = download["created_at"]
        .as_u64()
        .ok_or("download token has no created_at")?;
    download["created_at"] = serde_json::json!(created.saturating_sub(age_secs * 1000));
    Ok(download)
}
