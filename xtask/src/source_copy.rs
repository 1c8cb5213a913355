//! The private copy of the source that `cargo xtask mutants` mutates:
//! `target/mutants/tree`, synced from the worktree each run (tracked and
//! untracked files, not ignored ones), content-compared so its own `target/`
//! stays warm.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{root, say, target_dir, Res};

/// Copies the worktree's source files (tracked and untracked, not ignored) to
/// `target/mutants/tree`, rewriting only files whose content differs, and
/// removes files that are gone from the worktree.
pub fn sync_tree() -> Res<PathBuf> {
    let src = root();
    let dst = target_dir().join("mutants").join("tree");
    let out = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(&src)
        .output()
        .map_err(|e| format!("mutants: cannot run git ls-files: {e}"))?;
    if !out.status.success() {
        return Err("mutants: git ls-files failed; run from a git checkout".into());
    }
    let files: Vec<PathBuf> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .filter(|p| src.join(p).is_file())
        .collect();
    let mut changed = 0;
    for rel in &files {
        let from = src.join(rel);
        let to = dst.join(rel);
        let bytes = std::fs::read(&from).map_err(|e| format!("read {}: {e}", from.display()))?;
        if std::fs::read(&to).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        }
        std::fs::write(&to, &bytes).map_err(|e| format!("write {}: {e}", to.display()))?;
        let perms = std::fs::metadata(&from)
            .map_err(|e| format!("stat {}: {e}", from.display()))?
            .permissions();
        std::fs::set_permissions(&to, perms).map_err(|e| format!("chmod {}: {e}", to.display()))?;
        changed += 1;
    }
    let removed = remove_extra(&dst, &dst, &files);
    say(format!(
        "mutants: source copy {} ({} files, {changed} updated, {removed} removed)",
        dst.display(),
        files.len()
    ));
    Ok(dst)
}

/// Removes files under `dir` (outside `target/`) that are not in `keep`.
fn remove_extra(base: &Path, dir: &Path, keep: &[PathBuf]) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let path = e.path();
        let Ok(rel) = path.strip_prefix(base) else {
            continue;
        };
        if rel == Path::new("target") || rel.starts_with("mutants.out") {
            continue;
        }
        if path.is_dir() {
            removed += remove_extra(base, &path, keep);
        } else if !keep.iter().any(|k| k == rel) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}
