//! `cargo xtask fuzz [--seconds N]`: runs every cargo-fuzz target in `fuzz/` for N
//! seconds (default 10) on the checked-in corpus, with the nightly toolchain.
//!
//! New inputs go to a scratch corpus under `target/`, so the checked-in seeds stay
//! small; a crash stops the run and leaves the input in `fuzz/artifacts/<target>/`,
//! to be turned into a regression test. Targets are built without a sanitizer
//! (`-s none`): the code under test forbids `unsafe`, and this halves the build.
//! Installs cargo-fuzz with `cargo install --root target/tools` if it is missing:
//! nothing goes outside the repository (`~/.cargo/bin` is left alone).

use std::process::Command;
use std::time::Instant;

use crate::util::{is_ci, root, say, target_dir, Res};

/// The fuzz targets, one per parser of untrusted input.
pub const TARGETS: &[&str] = &[
    "git_input",
    "token_json",
    "token_response",
    "config",
    "kube_exec_info",
    "terraform_query",
    "http1_request",
];

/// Entry point from `main`.
pub fn run(args: &[String]) -> Res<()> {
    let mut seconds = 10u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seconds needs a whole number")?;
            }
            other => return Err(format!("fuzz: unknown argument `{other}`")),
        }
    }
    fuzz_all(seconds)
}

/// The repository-local install root of cargo-fuzz: `target/tools`.
pub fn tools_root() -> std::path::PathBuf {
    target_dir().join("tools")
}

/// `cargo +nightly` with `target/tools/bin` first on PATH, so the repo-local
/// cargo-fuzz is the `cargo fuzz` subcommand.
fn nightly() -> Command {
    let mut c = Command::new("cargo");
    let mut path = vec![tools_root().join("bin")];
    if let Some(p) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&p));
    }
    c.arg("+nightly")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("CARGO");
    if let Ok(joined) = std::env::join_paths(path) {
        c.env("PATH", joined);
    }
    c
}

/// Runs every target for `seconds`. A missing nightly or cargo-fuzz is fatal under
/// CI and a loud skip elsewhere.
pub fn fuzz_all(seconds: u64) -> Res<()> {
    match prepare(Priority::Normal)? {
        Prepared::Built => run_targets(seconds),
        Prepared::Skipped => Ok(()),
    }
}

/// How the preparation's child processes are scheduled.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// As any command.
    Normal,
    /// `nice -n 19`, output to `target/fuzz-prepare.log`: `cargo xtask test`
    /// builds the targets while the end-to-end tests run, which leave a core
    /// mostly idle; at the lowest priority the build takes only what they leave.
    Background,
}

/// What [`prepare`] ended with.
pub enum Prepared {
    /// cargo-fuzz is installed and every target is built.
    Built,
    /// Not under CI, and nightly or cargo-fuzz is missing: a loud skip was said.
    Skipped,
}

/// `command` as [`Priority`] says (see [`crate::util::in_background`]).
fn scheduled(command: Command, priority: Priority, log: &std::path::Path) -> Res<Command> {
    match priority {
        Priority::Normal => Ok(command),
        Priority::Background => crate::util::in_background(&command, log),
    }
}

/// Installs cargo-fuzz if missing and builds every target. A missing nightly or
/// cargo-fuzz is fatal under CI and a loud skip elsewhere.
pub fn prepare(priority: Priority) -> Res<Prepared> {
    let log = target_dir().join("fuzz-prepare.log");
    let _ = std::fs::remove_file(&log);
    let failed = |what: &str| {
        if priority == Priority::Background {
            format!("{what} (its output: {})", log.display())
        } else {
            what.to_owned()
        }
    };
    let has_nightly = nightly()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nightly {
        let msg = "the nightly toolchain is missing (rustup toolchain install nightly)";
        if is_ci() {
            return Err(format!("fuzz: {msg}"));
        }
        say(format!("!!!!!! SKIPPED fuzzing: {msg} !!!!!!"));
        return Ok(Prepared::Skipped);
    }
    let has_fuzz = nightly()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        say(format!(
            "fuzz: installing cargo-fuzz into {} (cargo install cargo-fuzz --locked --root ...)",
            tools_root().display()
        ));
        let mut install = Command::new("cargo");
        install
            .args(["install", "cargo-fuzz", "--locked", "--root"])
            .arg(tools_root())
            .env_remove("RUSTUP_TOOLCHAIN");
        let ok = scheduled(install, priority, &log)?
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let msg = failed("cargo-fuzz could not be installed");
            if is_ci() {
                return Err(format!("fuzz: {msg}"));
            }
            say(format!("!!!!!! SKIPPED fuzzing: {msg} !!!!!!"));
            return Ok(Prepared::Skipped);
        }
    }
    say("fuzz: building the targets (nightly, no sanitizer)");
    let mut build = nightly();
    build
        .args(["fuzz", "build", "-s", "none"])
        .current_dir(root().join("fuzz"));
    let status = scheduled(build, priority, &log)?
        .status()
        .map_err(|e| format!("fuzz build: {e}"))?;
    if !status.success() {
        return Err(failed("fuzz build failed"));
    }
    Ok(Prepared::Built)
}

/// Runs every (built) target for `seconds` on its corpus.
pub fn run_targets(seconds: u64) -> Res<()> {
    let fuzz_dir = root().join("fuzz");
    for target in TARGETS {
        let scratch = target_dir().join("fuzz-corpus").join(target);
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let started = Instant::now();
        let out = nightly()
            .args(["fuzz", "run", "-s", "none", target])
            .arg(&scratch)
            .arg(fuzz_dir.join("corpus").join(target))
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
            ])
            .current_dir(&fuzz_dir)
            .output()
            .map_err(|e| format!("fuzz run {target}: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let runs = log
            .lines()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
            .map(str::trim)
            .unwrap_or("?");
        if !out.status.success() {
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(format!(
                "fuzz target {target} found a crash (input saved under fuzz/artifacts/{target}/):\n{}",
                tail.join("\n")
            ));
        }
        say(format!(
            "figures: fuzz {target}: {runs} executions in {:.1} s, no crash",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(())
}
