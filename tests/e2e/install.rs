//! `cargo xtask install` into a temporary prefix (issue 23): every binary,
//! completion script and man page lands where the shells and `man` look, the
//! installed files work from there, and the binaries were built from the
//! dependency versions in `Cargo.lock`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use central_auth_e2e::*;

/// Every `name-version` the lock file pins.
fn locked_packages() -> BTreeSet<String> {
    let lock = std::fs::read_to_string(workspace().join("Cargo.lock")).unwrap();
    let lock: toml::Table = toml::from_str(&lock).unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}-{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// The registry crates a binary was compiled from: the `name-version`
/// directory of every `registry/src/<index>/name-version/` source path the
/// compiler left in it (panic locations name their source file).
pub fn crates_in_binary(data: &[u8]) -> BTreeSet<String> {
    let needle = b"registry/src/";
    let mut found = BTreeSet::new();
    let mut at = 0;
    while let Some(pos) = find(&data[at..], needle) {
        let rest = &data[at + pos + needle.len()..];
        at += pos + needle.len();
        // <index>/<name-version>/
        let Some(slash) = rest.iter().position(|&b| b == b'/') else {
            continue;
        };
        let tail = &rest[slash + 1..];
        let end = tail
            .iter()
            .position(|&b| b == b'/' || !(b.is_ascii_alphanumeric() || b"-_.+".contains(&b)))
            .unwrap_or(tail.len());
        if tail.get(end) == Some(&b'/') && end > 0 {
            found.insert(String::from_utf8_lossy(&tail[..end]).into_owned());
        }
    }
    found
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `cargo xtask ARGS`: the xtask binary `cargo xtask test` built with the
/// others (running it again through cargo would rebuild shared crates with
/// xtask's features alone), else through cargo.
pub(crate) fn xtask(args: &[&str]) -> Command {
    let built = bin_dir().join("xtask");
    let mut c = if built.is_file() {
        Command::new(built)
    } else {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut c = Command::new(cargo);
        c.arg("xtask");
        c
    };
    c.args(args).current_dir(workspace());
    c
}

fn run_install(prefix: &Path) -> String {
    let out = xtask(&["install", "--bin-dir"])
        .arg(bin_dir())
        .arg("--prefix")
        .arg(prefix)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo xtask install failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn xtask_install_puts_binaries_completions_and_man_pages_where_they_are_looked_for() {
    // The default prefix of a user: ~/.local.
    let home = tempfile::tempdir().unwrap();
    let prefix = home.path().join(".local");
    let stdout = run_install(&prefix);
    let p = |rel: &str| -> PathBuf { prefix.join(rel) };

    // Each file written is named on stdout.
    let mut files = vec![];
    for bin in [
        "central-auth",
        "git-credential-central",
        "central-auth-kube",
        "central-auth-terraform",
        "central-auth-ansible",
        "central-sim",
    ] {
        files.push(format!("bin/{bin}"));
        files.push(format!("share/man/man1/{bin}.1"));
    }
    for rel in [
        "share/bash-completion/completions/central-auth",
        "share/zsh/site-functions/_central-auth",
        "share/fish/vendor_completions.d/central-auth.fish",
        "share/bash-completion/completions/central-auth-kube",
        "share/man/man1/central-auth-token.1",
        "share/man/man1/central-auth-store-migrate.1",
        // The pages messages name.
        "share/doc/central-auth/configuration.md",
        "share/doc/central-auth/fleet.md",
        "share/doc/central-auth/README.md",
    ] {
        files.push(rel.to_owned());
    }
    for rel in &files {
        assert!(p(rel).is_file(), "{rel} missing; stdout:\n{stdout}");
        assert!(
            stdout.contains(&format!("installed {}", p(rel).display())),
            "{rel} not reported:\n{stdout}"
        );
    }
    // The installed binary is the one that runs, and its script is the fixed one.
    let out = Command::new(p("bin/central-auth"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(text(&out.stdout).starts_with("central-auth "));
    let bash_script =
        std::fs::read_to_string(p("share/bash-completion/completions/central-auth")).unwrap();
    assert!(bash_script.contains("profiles --names"), "the fixed script");

    // `man` finds a subcommand's page from PATH alone.
    let path = format!(
        "{}:{}",
        p("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    if let Some(man) = require_tool("man (Debian package man-db)", &on_path("man")) {
        let out = Command::new(man)
            .args(["-w", "central-auth-token"])
            .env("PATH", &path)
            .env_remove("MANPATH")
            .output()
            .unwrap();
        assert_eq!(
            text(&out.stdout).trim(),
            p("share/man/man1/central-auth-token.1")
                .display()
                .to_string(),
            "{}",
            text(&out.stderr)
        );
    }
    // bash-completion loads the script on first TAB (from
    // $XDG_DATA_HOME, by default ~/.local/share).
    if std::path::Path::new("/usr/share/bash-completion/bash_completion").is_file() {
        let out = Command::new("bash")
            .args([
                "--norc",
                "-c",
                "source /usr/share/bash-completion/bash_completion; __load_completion central-auth && complete -p central-auth",
            ])
            .env("PATH", &path)
            .env("HOME", home.path())
            .env_remove("XDG_DATA_HOME")
            .output()
            .unwrap();
        assert!(
            text(&out.stdout).contains("central-auth"),
            "bash-completion did not load it: {}",
            text(&out.stderr)
        );
    } else {
        skip("bash-completion (Debian package bash-completion) not installed");
    }

    // Built from Cargo.lock: every registry crate compiled into each binary is
    // a locked name-version.
    let locked = locked_packages();
    for bin in [
        "central-auth",
        "git-credential-central",
        "central-auth-kube",
    ] {
        let found = crates_in_binary(&std::fs::read(p(&format!("bin/{bin}"))).unwrap());
        assert!(
            found.iter().any(|c| c.starts_with("clap_builder-")),
            "{bin}: no source paths found: {found:?}"
        );
        let foreign: Vec<_> = found.difference(&locked).collect();
        assert!(
            foreign.is_empty(),
            "{bin} was built with versions Cargo.lock does not pin: {foreign:?}"
        );
    }
}

#[test]
fn the_version_check_sees_an_unlocked_version() {
    let data = b"..\0/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/clap_builder-4.6.8/src/parser.rs\0x/registry/src/idx/ureq-3.5.2/src/lib.rs";
    let found = crates_in_binary(data);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["clap_builder-4.6.8", "ureq-3.5.2"]
    );
    assert!(!locked_packages().contains("clap_builder-4.6.8"));
}
