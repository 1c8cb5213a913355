//! `cargo xtask install [--prefix DIR] [--debug]`: the binaries built from
//! `Cargo.lock` (`cargo build --locked`), their bash, zsh and fish completions
//! and every man page, where the shells and `man` look under DIR (default
//! `~/.local`), and one line per file written:
//!
//! - `DIR/bin/NAME` (mode 0755);
//! - `DIR/share/bash-completion/completions/NAME`: bash-completion loads it on
//!   first TAB (it looks under `$XDG_DATA_HOME`, by default `~/.local/share`,
//!   and `$XDG_DATA_DIRS`, by default `/usr/local/share:/usr/share`);
//! - `DIR/share/zsh/site-functions/_NAME` (on zsh's `fpath` for `/usr/local`;
//!   for `~/.local` the printed note says the `fpath` line to add);
//! - `DIR/share/fish/vendor_completions.d/NAME.fish` (fish looks there for
//!   `~/.local` and the `$XDG_DATA_DIRS`);
//! - `DIR/share/man/man1/*.1`: man-db finds `DIR/share/man` for `DIR/bin` on
//!   `PATH`, so `man central-auth-token` works;
//! - `DIR/share/doc/central-auth/`: the docs pages (the pages messages name),
//!   the README and the licenses.
//!
//! The same files as the release archive (`release_contents`). `--debug`
//! installs the test build (`target/debug`) instead of the shipped one, for a
//! quick try; `--bin-dir DIR` installs binaries already built there (the test
//! that runs this command passes the ones `cargo xtask test` built, with
//! `--locked`).

use std::path::{Path, PathBuf};

use clap_complete::Shell;

use central_auth_core::docs_ref::DOCS_DIR;

use crate::archive::{slash, walk};
use crate::release::workspace_version;
use crate::release_contents::{completion_scripts, man_pages, BINARIES, TOP_FILES};
use crate::util::{build_bins, root, say, Res};

/// Entry point from `main`.
pub fn run(args: &[String]) -> Res<()> {
    let mut prefix = None;
    let mut debug = false;
    let mut built = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--prefix" => {
                prefix = Some(PathBuf::from(
                    it.next().ok_or("--prefix needs a directory")?,
                ))
            }
            "--debug" => debug = true,
            "--bin-dir" => {
                built = Some(PathBuf::from(
                    it.next().ok_or("--bin-dir needs a directory")?,
                ))
            }
            other => return Err(format!("install: unknown argument `{other}`")),
        }
    }
    let prefix = match prefix {
        Some(p) => p,
        None => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".local"))
            .ok_or("HOME is not set: name the directory with --prefix")?,
    };
    let prefix = std::path::absolute(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
    let bin_dir = match built {
        Some(dir) => dir,
        None => build_bins(!debug)?,
    };
    let written = install(&bin_dir, &prefix)?;
    for path in &written {
        say(format!("installed {}", path.display()));
    }
    say(format!(
        "{} files under {}; put {} on PATH (man finds the pages from there); zsh: add `fpath=({} $fpath)` before compinit in ~/.zshrc unless it is already on fpath",
        written.len(),
        prefix.display(),
        prefix.join("bin").display(),
        prefix.join("share/zsh/site-functions").display()
    ));
    Ok(())
}

/// Where a shell looks for a completion file of `name` under a prefix.
pub fn completion_path(shell: Shell, name: &str) -> Option<String> {
    match shell {
        Shell::Bash => Some(format!("share/bash-completion/completions/{name}")),
        Shell::Zsh => Some(format!("share/zsh/site-functions/_{name}")),
        Shell::Fish => Some(format!("share/fish/vendor_completions.d/{name}.fish")),
        _ => None,
    }
}

/// Copies the binaries of `bin_dir` and writes the completions and man pages
/// under `prefix`; returns every path written.
pub fn install(bin_dir: &Path, prefix: &Path) -> Res<Vec<PathBuf>> {
    let mut written = Vec::new();
    for name in BINARIES {
        let data = std::fs::read(bin_dir.join(name))
            .map_err(|e| format!("{}: {e}", bin_dir.join(name).display()))?;
        written.push(put(prefix, &format!("bin/{name}"), &data, 0o755)?);
    }
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        for (name, script) in completion_scripts(shell) {
            if let Some(rel) = completion_path(shell, name) {
                written.push(put(prefix, &rel, script.as_bytes(), 0o644)?);
            }
        }
    }
    for (file, page) in man_pages(&bin_dir.join("central-sim"), &workspace_version()?)? {
        written.push(put(
            prefix,
            &format!("share/man/man1/{file}"),
            &page,
            0o644,
        )?);
    }
    // The pages messages name (`central_auth_core::docs_ref`), as in the
    // release archive's docs/.
    let docs = root().join("docs");
    for path in walk(&docs)? {
        let rel = path
            .strip_prefix(&docs)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let to = format!("{DOCS_DIR}/{}", slash(rel));
        written.push(put(prefix, &to, &data, 0o644)?);
    }
    for name in TOP_FILES {
        let data = std::fs::read(root().join(name)).map_err(|e| format!("{name}: {e}"))?;
        written.push(put(prefix, &format!("{DOCS_DIR}/{name}"), &data, 0o644)?);
    }
    Ok(written)
}

/// Writes `prefix/rel` by a rename of a temporary file beside it, so a
/// running binary being replaced keeps its old text and a reader never sees
/// half a file.
fn put(prefix: &Path, rel: &str, data: &[u8], mode: u32) -> Res<PathBuf> {
    use std::io::Write;
    let path = prefix.join(rel);
    let dir = path
        .parent()
        .ok_or_else(|| format!("{rel}: no directory"))?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    tmp.write_all(data)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.persist(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
