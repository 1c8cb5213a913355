//! `cargo xtask mutants [--minutes N] [--timeout S] [--group NAME] [--list]`:
//! mutation testing with cargo-mutants over the code that guards the chain and
//! the helpers' protocol code, within a time bound. Run by hand, never in CI.
//!
//! cargo-mutants is installed under `target/tools/` (`cargo install --locked
//! --root target/tools cargo-mutants`) when missing. The mutants are made and
//! tested in a private copy of the source under `target/mutants/tree` (synced
//! from the worktree each run, content-compared so its own `target/` stays warm)
//! with `--in-place`, so the worktree is never mutated and each run after the
//! first only rebuilds what a mutant touches.
//!
//! Each group mutates some files and, per mutant, runs the unit tests of the
//! workspace (`tests::`) plus a small end-to-end subset that exercises those
//! files through the real binaries; the e2e support rebuilds the binaries from
//! the mutated source first (`CENTRAL_AUTH_E2E_BUILD_BINS`). The whole run is
//! bounded by `--minutes` (default 30), shared by the groups in order; a group
//! still running when its share is spent is interrupted (SIGINT: cargo-mutants
//! restores the file and stops) and its results so far are reported. The report
//! lists the missed mutants (survivors) from `target/mutants/<group>/mutants.out`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::source_copy::sync_tree;
use crate::util::{cargo, is_ci, say, target_dir, which, Res};

/// The cargo-mutants release `cargo xtask mutants` installs.
const CARGO_MUTANTS_VERSION: &str = "27.1.0";

/// One set of files mutated together, and the tests run on each mutant.
struct Group {
    name: &'static str,
    /// Files to mutate (cargo-mutants `--file`).
    files: &'static [&'static str],
    /// Packages whose tests run (`--test-package`).
    test_packages: &'static [&'static str],
    /// Test-name filters for the test binaries (any match runs the test).
    filters: &'static [&'static str],
    /// Share of the time bound, in parts of the sum of all weights.
    weight: u32,
}

/// Unit tests everywhere are named `tests::name` (in a crate root) or
/// `module::tests::name`; no end-to-end test name contains `tests::`.
const UNIT: &str = "tests::";

const GROUPS: &[Group] = &[
    Group {
        name: "core",
        files: &[
            "crates/central-auth-core/src/broker/handout.rs",
            "crates/central-auth-core/src/broker/lock.rs",
            "crates/central-auth-core/src/broker/renew.rs",
            "crates/central-auth-core/src/broker/recover.rs",
            "crates/central-auth-core/src/broker/grant.rs",
            "crates/central-auth-core/src/store/file.rs",
            "crates/central-auth-core/src/store/lock.rs",
            "crates/central-auth-core/src/store/mod.rs",
        ],
        test_packages: &["central-auth-core", "central-auth-e2e"],
        filters: &[
            UNIT,
            "cli::",
            "chain::a_",
            "chain::profiles_do_not_wait",
            "ops::",
            "leaks::",
        ],
        weight: 6,
    },
    Group {
        name: "git",
        files: &[
            "crates/git-credential-central/src/protocol.rs",
            "crates/git-credential-central/src/protocol/request.rs",
            "crates/git-credential-central/src/protocol/answer.rs",
        ],
        test_packages: &["git-credential-central", "central-auth-e2e"],
        filters: &[
            UNIT,
            "git::git_credential_fill",
            "git::git_never",
            "git::helper_",
        ],
        weight: 2,
    },
    Group {
        name: "kube",
        files: &[
            "crates/central-auth-kube/src/exec_info.rs",
            "crates/central-auth-kube/src/credential.rs",
        ],
        test_packages: &["central-auth-kube", "central-auth-e2e"],
        filters: &[UNIT, "kube::"],
        weight: 1,
    },
    Group {
        name: "terraform",
        files: &["crates/central-auth-terraform/src/query.rs"],
        test_packages: &["central-auth-terraform", "central-auth-e2e"],
        filters: &[UNIT, "terraform::external"],
        weight: 1,
    },
];

/// Parsed arguments.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    minutes: u64,
    timeout_secs: u64,
    group: Option<String>,
    list: bool,
}

fn parse(args: &[String]) -> Res<Args> {
    let mut out = Args {
        minutes: 30,
        timeout_secs: 300,
        group: None,
        list: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut number = |what: &str| -> Res<u64> {
            it.next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("mutants: {what} needs a whole number above 0"))
        };
        match a.as_str() {
            "--minutes" => out.minutes = number("--minutes")?,
            "--timeout" => out.timeout_secs = number("--timeout")?,
            "--group" => {
                let g = it.next().ok_or("mutants: --group needs a name")?;
                if !GROUPS.iter().any(|x| x.name == g) {
                    return Err(format!(
                        "mutants: unknown group `{g}`; groups: {}",
                        names()
                    ));
                }
                out.group = Some(g.clone());
            }
            "--list" => out.list = true,
            other => {
                return Err(format!(
                    "mutants: unknown argument `{other}` (--minutes N, --timeout SECONDS, --group {}, --list)",
                    names()
                ))
            }
        }
    }
    Ok(out)
}

fn names() -> String {
    GROUPS.iter().map(|g| g.name).collect::<Vec<_>>().join("|")
}

/// Entry point from `main`.
pub fn run(args: &[String]) -> Res<()> {
    let args = parse(args)?;
    if is_ci() {
        say("mutants: note: CI=true, but this task is meant to be run by hand");
    }
    let exe = ensure_cargo_mutants()?;
    let tree = sync_tree()?;
    let groups: Vec<&Group> = GROUPS
        .iter()
        .filter(|g| args.group.as_deref().is_none_or(|n| n == g.name))
        .collect();
    if !args.list {
        // The first build of the copy is cold (many minutes on a busy machine);
        // done here, before the bound starts, the baselines and mutants only
        // rebuild what changed.
        say("mutants: building the source copy (cargo build --workspace --bins --tests)");
        let cargo_bin = PathBuf::from(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        let mut warm = low_priority(&cargo_bin);
        warm.args(["build", "--workspace", "--bins", "--tests", "--quiet"])
            .current_dir(&tree)
            .env_remove("CARGO_TARGET_DIR");
        crate::util::run(&mut warm, "cargo build in the source copy")?;
        // The binaries alone resolve features differently (no dev-dependencies):
        // this is the build the e2e support repeats per mutant.
        let mut bins = low_priority(&cargo_bin);
        bins.args(["build", "--workspace", "--bins", "--quiet"])
            .current_dir(&tree)
            .env_remove("CARGO_TARGET_DIR");
        crate::util::run(&mut bins, "cargo build --bins in the source copy")?;
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.minutes * 60);
    let mut weights_left: u32 = groups.iter().map(|g| g.weight).sum();
    let mut reports = Vec::new();
    for g in &groups {
        let out_dir = target_dir().join("mutants").join(g.name);
        let mut cmd = mutants_command(&exe, &tree, g, &out_dir, args.timeout_secs, args.list);
        if args.list {
            say(format!("mutants: group {}", g.name));
            crate::util::run(&mut cmd, "cargo mutants --list")?;
            continue;
        }
        // This group's share of the time left; an early finish leaves more for
        // the next groups.
        let left = deadline.saturating_duration_since(Instant::now());
        if left < Duration::from_secs(60) {
            reports.push(format!(
                "\nmutants group {}: not run, the time bound is spent",
                g.name
            ));
            continue;
        }
        let share = left.mul_f64(f64::from(g.weight) / f64::from(weights_left.max(1)));
        weights_left -= g.weight;
        say(format!(
            "mutants: group {} ({} files) for at most {:.0} min: {}",
            g.name,
            g.files.len(),
            share.as_secs_f64() / 60.0,
            g.files.join(", ")
        ));
        let interrupted = run_bounded(&mut cmd, share)?;
        reports.push(summarize(g.name, &out_dir.join("mutants.out"), interrupted));
    }
    if args.list {
        return Ok(());
    }
    say(format!(
        "mutants: done in {:.1} min (bound {} min); results under {}",
        started.elapsed().as_secs_f64() / 60.0,
        args.minutes,
        target_dir().join("mutants").display()
    ));
    for r in &reports {
        println!("{r}");
    }
    Ok(())
}

/// `target/tools/bin/cargo-mutants`, installed if missing.
fn ensure_cargo_mutants() -> Res<PathBuf> {
    let tools = target_dir().join("tools");
    let exe = tools.join("bin").join("cargo-mutants");
    if exe.is_file() {
        return Ok(exe);
    }
    say(format!(
        "mutants: installing cargo-mutants {CARGO_MUTANTS_VERSION} under {}",
        tools.display()
    ));
    let mut c = cargo();
    c.args(["install", "--locked", "--root"]).arg(&tools).args([
        "--version",
        CARGO_MUTANTS_VERSION,
        "cargo-mutants",
    ]);
    crate::util::run(&mut c, "cargo install cargo-mutants")?;
    Ok(exe)
}

/// The cargo-mutants command for one group, at low CPU priority.
fn mutants_command(
    exe: &Path,
    tree: &Path,
    g: &Group,
    out_dir: &Path,
    timeout: u64,
    list: bool,
) -> Command {
    let mut c = low_priority(exe);
    c.arg("mutants")
        .arg("--dir")
        .arg(tree)
        .arg("--in-place")
        // The root package holds only the e2e tests: mutate the whole workspace,
        // narrowed by --file.
        .arg("--workspace")
        .arg("--output")
        .arg(out_dir)
        // --iterate: a bounded run goes on where the last one stopped (mutants
        // caught before are skipped; survivors are tried again).
        .args([
            "--colors",
            "never",
            "--no-shuffle",
            "--iterate",
            "--test-tool",
            "cargo",
        ])
        .args(["--timeout", &timeout.to_string()])
        .args(["--build-timeout", &(timeout * 2).to_string()]);
    for f in g.files {
        c.args(["--file", f]);
    }
    for p in g.test_packages {
        c.args(["--test-package", p]);
    }
    if list {
        c.arg("--list");
    }
    // No doctests: unit and integration test targets only.
    c.arg("--cargo-test-arg=--tests");
    // After `--`: arguments for `cargo test`; after its own `--`: for the test
    // binaries (the name filters).
    c.args(["--", "--", "--test-threads", "2"]).args(g.filters);
    c.current_dir(tree)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CENTRAL_AUTH_BIN_DIR")
        .env_remove("CENTRAL_AUTH_SKIPS_FILE")
        .env("CENTRAL_AUTH_VENVS", crate::venv::venvs_dir())
        .env("CENTRAL_AUTH_E2E_BUILD_BINS", "1");
    c
}

/// `program` under `nice -n 19` (the machine is shared), or as is without nice.
fn low_priority(program: &Path) -> Command {
    match which("nice") {
        Some(nice) => {
            let mut c = Command::new(nice);
            c.args(["-n", "19"]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// Runs `cmd` for at most `bound`; past it, interrupts it (SIGINT, then SIGKILL
/// after a grace period). Returns whether it was interrupted. Its exit status
/// is not an error: cargo-mutants exits non-zero when mutants survive.
fn run_bounded(cmd: &mut Command, bound: Duration) -> Res<bool> {
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("mutants: cannot start cargo-mutants: {e}"))?;
    let start = Instant::now();
    loop {
        if child
            .try_wait()
            .map_err(|e| format!("mutants: wait: {e}"))?
            .is_some()
        {
            return Ok(false);
        }
        if start.elapsed() >= bound {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    say("mutants: time share spent; interrupting cargo-mutants (it restores the mutated file)");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let grace = Instant::now();
    while grace.elapsed() < Duration::from_secs(120) {
        if child.try_wait().ok().flatten().is_some() {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = child.kill();
    let _ = child.wait();
    say("mutants: cargo-mutants did not stop within 2 min and was killed; the next run re-syncs the source copy");
    Ok(true)
}

/// A summary of one group's `mutants.out`: counts and the missed mutants.
fn summarize(group: &str, out: &Path, interrupted: bool) -> String {
    let read = |name: &str| -> Vec<String> {
        std::fs::read_to_string(out.join(name))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (caught, missed, timeout, unviable) = (
        read("caught.txt"),
        read("missed.txt"),
        read("timeout.txt"),
        read("unviable.txt"),
    );
    let mut s = format!(
        "\nmutants group {group}{}: caught {}, missed {}, timeout {}, unviable {}",
        if interrupted {
            " (interrupted at its time share)"
        } else {
            ""
        },
        caught.len(),
        missed.len(),
        timeout.len(),
        unviable.len()
    );
    for m in &missed {
        s.push_str(&format!("\n  MISSED  {m}"));
    }
    for m in &timeout {
        s.push_str(&format!("\n  TIMEOUT {m}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::root;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn args_have_defaults_and_checks() {
        let a = parse(&[]).unwrap();
        assert_eq!((a.minutes, a.timeout_secs, a.list), (30, 300, false));
        let a = parse(&strings(&["--minutes", "15", "--group", "git", "--list"])).unwrap();
        assert_eq!(
            (a.minutes, a.group.as_deref(), a.list),
            (15, Some("git"), true)
        );
        assert!(parse(&strings(&["--minutes", "0"])).is_err());
        assert!(parse(&strings(&["--group", "nope"])).is_err());
        assert!(parse(&strings(&["--frobnicate"])).is_err());
    }

    #[test]
    fn every_mutated_file_exists() {
        for g in GROUPS {
            for f in g.files {
                assert!(root().join(f).is_file(), "{f}");
            }
        }
    }

    #[test]
    fn summary_lists_the_survivors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("caught.txt"), "a\nb\n").unwrap();
        std::fs::write(
            dir.path().join("missed.txt"),
            "src/x.rs:1:1: replace f -> bool with true\n",
        )
        .unwrap();
        let s = summarize("core", dir.path(), true);
        assert!(
            s.contains("caught 2, missed 1, timeout 0, unviable 0"),
            "{s}"
        );
        assert!(
            s.contains("MISSED  src/x.rs:1:1: replace f -> bool with true"),
            "{s}"
        );
        assert!(s.contains("interrupted"), "{s}");
    }
}
