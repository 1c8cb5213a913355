//! The Ansible collection tarball of a release: `ansible-galaxy collection
//! build` from the test venv, rewritten with the archive rules so it is
//! reproducible too.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::archive::write_tar_gz;
use crate::util::{is_ci, root, say, Res};

/// `ansible-galaxy collection build` from the test venv into `out`, with its
/// file mtimes normalised by rebuilding from a copy; `None` (and a loud line)
/// when the venv is missing outside CI.
pub fn build_collection(out: &Path, mtime: u64) -> Res<Option<PathBuf>> {
    let galaxy = crate::venv::venvs_dir()
        .join("ansible")
        .join("bin")
        .join("ansible-galaxy");
    if !galaxy.exists() {
        let msg = format!(
            "{} is missing (run `cargo xtask test` once to create the venv)",
            galaxy.display()
        );
        if is_ci() {
            return Err(format!("release: {msg}"));
        }
        say(format!(
            "!!!!!! SKIPPED the Ansible collection: {msg} !!!!!!"
        ));
        return Ok(None);
    }
    say("release: building the Ansible collection (ansible-galaxy collection build)");
    let before: Vec<PathBuf> = collection_tarballs(out)?;
    for old in before {
        std::fs::remove_file(&old).map_err(|e| format!("{}: {e}", old.display()))?;
    }
    let out_abs = if out.is_absolute() {
        out.to_path_buf()
    } else {
        root().join(out)
    };
    let status = Command::new(&galaxy)
        .args(["collection", "build", "--force", "--output-path"])
        .arg(&out_abs)
        .arg(root().join("ansible").join("central_auth").join("central"))
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("ansible-galaxy: {e}"))?;
    if !status.success() {
        return Err(format!("ansible-galaxy collection build failed ({status})"));
    }
    let Some(built) = collection_tarballs(&out_abs)?.into_iter().next() else {
        return Err("ansible-galaxy wrote no central_auth-central-*.tar.gz".into());
    };
    normalise_tarball(&built, mtime)?;
    Ok(Some(built))
}

/// Rewrites a tarball with [`write_tar_gz`]'s rules (ansible-galaxy stamps the
/// build time into the gzip header and the entries); contents are unchanged.
fn normalise_tarball(path: &Path, mtime: u64) -> Res<()> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut files = BTreeMap::new();
    for entry in tar
        .entries()
        .map_err(|e| format!("{}: {e}", path.display()))?
    {
        let mut entry = entry.map_err(|e| format!("{}: {e}", path.display()))?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = entry
            .path()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .to_string_lossy()
            .into_owned();
        let mode = entry.header().mode().unwrap_or(0o644);
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("{name}: {e}"))?;
        files.insert(name, (data, mode));
    }
    let out = write_tar_gz("", &files, mtime)?;
    std::fs::write(path, out).map_err(|e| format!("{}: {e}", path.display()))
}

fn collection_tarballs(out: &Path) -> Res<Vec<PathBuf>> {
    if !out.exists() {
        return Ok(Vec::new());
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(out)
        .map_err(|e| format!("{}: {e}", out.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("central_auth-central-"))
        })
        .collect();
    found.sort();
    Ok(found)
}
