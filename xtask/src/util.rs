//! Shared helpers: workspace paths, running cargo and programs, building the
//! binaries, finding programs, and shortening a token for display.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Whether this is a CI run (`CI=true` or `CI=1`): then missing tools are fatal.
/// One rule for the tests and xtask: the test support's.
pub use central_auth_e2e::is_ci;

/// Result type of every task: the error is a one-line message for the user.
pub type Res<T> = Result<T, String>;

/// Prints one progress line prefixed `xtask: `.
pub fn say(msg: impl AsRef<str>) {
    println!("xtask: {}", msg.as_ref());
}

/// The workspace root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The cargo target directory (`CARGO_TARGET_DIR`, else `<root>/target`), absolute.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                root().join(d)
            }
        }
        None => root().join("target"),
    }
}

/// A `cargo` command (the cargo that runs us, else `cargo` on PATH), in the root.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut c = Command::new(cargo);
    c.current_dir(root());
    c
}

/// Runs a command with inherited stdio; an error names `what` on failure.
pub fn run(cmd: &mut Command, what: &str) -> Res<()> {
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}

/// `command` (program, arguments, environment, directory) behind `nice -n 19`,
/// its output appended to `log`: a build `cargo xtask test` runs while the
/// end-to-end tests leave a core mostly idle takes only what they leave.
pub fn in_background(command: &Command, log: &Path) -> Res<Command> {
    let mut c = Command::new("nice");
    c.args(["-n", "19"])
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(v) => c.env(key, v),
            None => c.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        c.current_dir(dir);
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("{}: {e}", log.display()))?;
    c.stdout(out).stderr(err);
    Ok(c)
}

/// `cargo build --locked --workspace --bins`, debug or the shipped profile; returns the
/// binary directory.
pub fn build_bins(release: bool) -> Res<PathBuf> {
    let mut c = cargo();
    // What Cargo.lock says, or an error: never a fresh resolution.
    c.args(["build", "--locked", "--workspace", "--bins"]);
    // Release means what ships (`cargo xtask release`'s profile).
    let profile = if release {
        crate::shipped::SHIPPED_PROFILE
    } else {
        "debug"
    };
    // The shipped build names the host as its target, as `release` does, so
    // that the shipped flags (`shipped::shipped_rustflags`) reach only the
    // binaries, not build scripts and proc-macros.
    let mut bin_dir = target_dir();
    if release {
        let host = host_triple()?;
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push(' ');
        flags.push_str(crate::shipped::shipped_rustflags(&host));
        c.args(["--profile", profile, "--target", &host])
            .env("RUSTFLAGS", flags.trim());
        bin_dir.push(host);
    }
    say(format!(
        "building binaries (cargo build --workspace --bins, {profile})"
    ));
    let t = Instant::now();
    run(&mut c, "cargo build")?;
    say(format!("built in {:.1} s", t.elapsed().as_secs_f64()));
    Ok(bin_dir.join(profile))
}

/// The host's target triple, from `rustc -vV`.
pub fn host_triple() -> Res<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV printed no host line".to_owned())
}

/// Finds an executable on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// A token shortened for display: its first 6 characters and an ellipsis.
pub fn short(token: &str) -> String {
    let head: String = token.chars().take(6).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_token_keeps_six_chars() {
        assert_eq!(short("abcdefghij"), "abcdef…");
        assert_eq!(short("abc"), "abc…");
    }
}
