//! `cargo xtask test`: the one test command. Builds every binary, sets up the
//! Python venvs and Debian's chromium in parallel (unless `--no-setup`), checks
//! the real tools the end-to-end tests drive, then runs `cargo test --workspace` with `CENTRAL_AUTH_VENVS` and
//! `CENTRAL_AUTH_BIN_DIR` set. Arguments before `--` go to `cargo test`, after it
//! to the test binaries. Under `CI=true` a tool that cannot be set up is fatal.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::util::{self, build_bins, cargo, is_ci, say, which, Res};
use crate::{browser, fuzz, venv};

/// Parsed `cargo xtask test` arguments.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TestArgs {
    /// Skip the venv setup and the apt fallbacks.
    pub no_setup: bool,
    /// Extra arguments for `cargo test` (before its `--`).
    pub cargo_args: Vec<String>,
    /// Arguments for the test binaries (after `--`).
    pub test_args: Vec<String>,
}

/// Splits `[--no-setup] [CARGO_ARGS] [-- TEST_ARGS]`.
pub fn parse(args: &[String]) -> TestArgs {
    let mut out = TestArgs::default();
    let mut iter = args.iter();
    for a in iter.by_ref() {
        match a.as_str() {
            "--" => break,
            "--no-setup" => out.no_setup = true,
            _ => out.cargo_args.push(a.clone()),
        }
    }
    out.test_args = iter.cloned().collect();
    out
}

/// Runs the whole test command.
pub fn run_tests(args: &TestArgs) -> Res<()> {
    let started = Instant::now();
    say(format!(
        "test: CI={}",
        if is_ci() {
            "true (missing tools are fatal)"
        } else {
            "unset (missing tools are skipped)"
        }
    ));
    // No import cycle anywhere in the workspace (docs/ARCHITECTURE.md, Layers).
    crate::structure::check(false, false)?;
    // What the release test and the fuzz step need builds in the background,
    // at the lowest priority, from here on: the venv setup waits on the
    // network and the tests on servers, sockets and clocks more than they
    // compute, and the builds take only the CPU they leave.
    let fuzzing = !args.no_setup;
    let releasing = args.cargo_args.is_empty() && args.test_args.is_empty();
    let background = fuzzing.then(|| {
        std::thread::spawn(move || {
            if releasing {
                crate::release::prebuild_in_background();
            }
            fuzz::prepare(fuzz::Priority::Background)
        })
    });
    let bin_dir = build_bins(false)?;
    if args.no_setup {
        say("--no-setup: not touching the Python venvs");
        browser::ensure_chromium(false)?;
    } else {
        // The browser's apt install runs beside the pip installs.
        let (venvs, chromium) = std::thread::scope(|s| {
            let browser = s.spawn(|| browser::ensure_chromium(true));
            let venvs = venv::setup_all();
            let chromium = browser
                .join()
                .unwrap_or_else(|_| Err("chromium setup thread panicked".to_owned()));
            (venvs, chromium)
        });
        venvs?;
        chromium?;
    }
    check_tools(!args.no_setup)?;

    let skips_file = util::target_dir().join("test-skips.txt");
    let _ = std::fs::remove_file(&skips_file);
    let mut c = cargo();
    c.args(["test", "--workspace", "--no-fail-fast"])
        .args(&args.cargo_args)
        .env("CENTRAL_AUTH_VENVS", venv::venvs_dir())
        .env("CENTRAL_AUTH_BIN_DIR", &bin_dir)
        .env(SKIPS_FILE_ENV, &skips_file);
    if !args.test_args.is_empty() {
        c.arg("--").args(&args.test_args);
    }
    say(format!(
        "cargo test --workspace --no-fail-fast {} (CENTRAL_AUTH_VENVS={}, CENTRAL_AUTH_BIN_DIR={})",
        shown(args),
        venv::venvs_dir().display(),
        bin_dir.display()
    ));
    let (mut result, failures) = crate::failures::run_collecting(&mut c, "cargo test --workspace");
    crate::failures::report(&failures);
    let skipped = skips(&std::fs::read_to_string(&skips_file).unwrap_or_default());
    report_skips(&skipped);
    if result.is_ok() && args.cargo_args.is_empty() && args.test_args.is_empty() {
        // The release test: reproducible archive, --check, tamper refused.
        say("release: two reproducible releases and --check (cargo xtask release)");
        result = crate::release::self_test();
    }
    // Joined whatever the tests gave, so that no build outlives a test run
    // (a setup error above ends the command first; those builds then finish
    // on their own, at the lowest priority).
    let prepared = background.map(|p| {
        p.join()
            .unwrap_or_else(|_| Err("the fuzz build thread panicked".to_owned()))
    });
    if result.is_ok() {
        // The fuzz suite: every target for a short, bounded time.
        result = match prepared {
            Some(Ok(fuzz::Prepared::Built)) => fuzz::run_targets(FUZZ_SECONDS),
            Some(Ok(fuzz::Prepared::Skipped)) | None => Ok(()),
            Some(Err(e)) => Err(e),
        };
    }
    say(format!(
        "total wall time {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        match (&result, skipped.len()) {
            (Err(_), _) => "TESTS FAILED".to_owned(),
            (Ok(()), 0) => "all tests passed".to_owned(),
            (Ok(()), n) => format!("all tests passed, {n} SKIPPED (listed above)"),
        }
    ));
    result
}

/// How long the test suite fuzzes each target: a smoke run that keeps the cold
/// suite within its budget (`cargo xtask fuzz` runs 10 s by default).
const FUZZ_SECONDS: u64 = 5;

/// The environment variable naming the skips file; the same name as
/// `central_auth_e2e::SKIPS_FILE_ENV` in `tests/support`.
const SKIPS_FILE_ENV: &str = "CENTRAL_AUTH_SKIPS_FILE";

/// The skipped tests from the skips file (`test<TAB>reason` lines), in order,
/// each once, as `test: reason`.
fn skips(file: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for line in file.lines().filter(|l| !l.trim().is_empty()) {
        let entry = match line.split_once('\t') {
            Some((test, reason)) => format!("{test}: {reason}"),
            None => line.to_owned(),
        };
        if !seen.contains(&entry) {
            seen.push(entry);
        }
    }
    seen
}

/// Prints the skipped tests after the harness output, where they cannot be
/// missed (a skipped test reports `ok`, and its stderr line is captured).
fn report_skips(skipped: &[String]) {
    if skipped.is_empty() {
        say("no test was skipped");
        return;
    }
    say(format!(
        "!!!!!! {} SKIPPED (they reported ok but did not run; `cargo xtask test` without --no-setup sets the tools up, and under CI=true a skip fails):",
        skipped.len()
    ));
    for s in skipped {
        say(format!("  SKIPPED {s}"));
    }
}

/// Entry point from `main`.
pub fn run(args: &[String]) -> Res<()> {
    run_tests(&parse(args))
}

fn shown(args: &TestArgs) -> String {
    let mut parts = args.cargo_args.clone();
    if !args.test_args.is_empty() {
        parts.push("--".to_owned());
        parts.extend(args.test_args.iter().cloned());
    }
    parts.join(" ")
}

/// A real tool: how to find it and the Debian package that provides it (if any).
struct Tool {
    name: &'static str,
    apt: Option<&'static str>,
}

const TOOLS: [Tool; 15] = [
    Tool {
        name: "git",
        apt: Some("git"),
    },
    Tool {
        name: "kubectl",
        apt: None,
    },
    Tool {
        name: "terraform",
        apt: None,
    },
    Tool {
        name: "openssl",
        apt: Some("openssl"),
    },
    // The security suite: peak memory with `/usr/bin/time -f %M`, other users
    // with `setpriv --reuid/--regid`.
    Tool {
        name: "time",
        apt: Some("time"),
    },
    Tool {
        name: "setpriv",
        apt: Some("util-linux"),
    },
    Tool {
        name: "curl",
        apt: Some("curl"),
    },
    // The keyring store's suite: a private session bus, GNOME Keyring on it,
    // `dbus-send` to lock it and `secret-tool` to read items as a user would.
    Tool {
        name: "dbus-daemon",
        apt: Some("dbus-daemon"),
    },
    Tool {
        name: "dbus-send",
        apt: Some("dbus-bin"),
    },
    Tool {
        name: "gnome-keyring-daemon",
        apt: Some("gnome-keyring"),
    },
    Tool {
        name: "secret-tool",
        apt: Some("libsecret-tools"),
    },
    // The completion suite (tests/e2e/completion.rs): bash with
    // bash-completion, fish, and zsh typed into through tmux.
    Tool {
        name: "bash-completion",
        apt: Some("bash-completion"),
    },
    Tool {
        name: "zsh",
        apt: Some("zsh"),
    },
    Tool {
        name: "fish",
        apt: Some("fish"),
    },
    Tool {
        name: "tmux",
        apt: Some("tmux"),
    },
];

fn find_tool(name: &str) -> Option<PathBuf> {
    if name == "bash-completion" {
        // A script bash sources, not a program.
        let p = PathBuf::from("/usr/share/bash-completion/bash_completion");
        return p.is_file().then_some(p);
    }
    if let Some(p) = which(name) {
        return Some(p);
    }
    if name == "kubectl" {
        return versioned_kubectl();
    }
    None
}

/// The newest `/usr/lib/google-cloud-sdk/bin/kubectl.1.*`.
fn versioned_kubectl() -> Option<PathBuf> {
    let dir = std::fs::read_dir("/usr/lib/google-cloud-sdk/bin").ok()?;
    let mut found: Vec<(u32, PathBuf)> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let minor = name.strip_prefix("kubectl.1.")?.parse().ok()?;
            Some((minor, e.path()))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

/// Checks git, kubectl, terraform, openssl, time, setpriv, curl (the proxy
/// suite), dbus-daemon, dbus-send, gnome-keyring-daemon and secret-tool (the
/// keyring suite), bash-completion, zsh, fish and tmux (the completion suite); installs
/// those with a Debian package with apt when allowed. Under CI a
/// missing tool is an error; elsewhere a loud SKIPPED line.
fn check_tools(allow_apt: bool) -> Res<()> {
    let mut missing = Vec::new();
    for tool in &TOOLS {
        let mut path = find_tool(tool.name);
        if path.is_none() && allow_apt {
            if let Some(pkg) = tool.apt {
                if which("apt-get").is_some() {
                    say(format!(
                        "{} is missing: apt-get install -y {pkg}",
                        tool.name
                    ));
                    let _ = Command::new("sh")
                        .arg("-c")
                        .arg(format!(
                            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq {pkg}"
                        ))
                        .status();
                    path = find_tool(tool.name);
                }
            }
        }
        match path {
            Some(p) => say(format!("tool {}: {}", tool.name, p.display())),
            None if is_ci() => missing.push(tool.name),
            None => say(format!(
                "!!!!!! SKIPPED: real tool {} not found; the tests that drive it will skip !!!!!!",
                tool.name
            )),
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "under CI=true these real tools are required but missing: {} (kubectl: install Google Cloud SDK's kubectl package; terraform: put terraform on PATH)",
            missing.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn args_split_at_double_dash() {
        let a = parse(&strings(&[
            "--no-setup",
            "-p",
            "xtask",
            "--",
            "git::",
            "--nocapture",
        ]));
        assert_eq!(
            a,
            TestArgs {
                no_setup: true,
                cargo_args: strings(&["-p", "xtask"]),
                test_args: strings(&["git::", "--nocapture"]),
            }
        );
        assert_eq!(shown(&a), "-p xtask -- git:: --nocapture");
    }

    #[test]
    fn skips_are_listed_once_in_order() {
        let file = "git::a\treal tool git not found\nkube::b\tno kubectl\ngit::a\treal tool git not found\n\n";
        assert_eq!(
            skips(file),
            strings(&["git::a: real tool git not found", "kube::b: no kubectl"])
        );
        assert!(skips("").is_empty());
    }

    #[test]
    fn no_args_is_plain_test() {
        assert_eq!(parse(&[]), TestArgs::default());
    }
}
