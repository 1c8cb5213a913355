//! `cargo xtask release [--target TRIPLE] [--out DIR]` and
//! `cargo xtask release --check ARCHIVE`.
//!
//! Builds the release binaries for the target (default: the host) and writes
//! `DIR/central-auth-<version>-<target>.tar.gz` (default DIR: `dist/`), whose
//! one top folder `central-auth-<version>-<target>/` holds `bin/` (every binary),
//! `completions/` (bash, zsh, fish, PowerShell), `man/man1/` (one page per
//! binary and per subcommand), the README, the license files and `docs/`. Also the Ansible
//! collection tarball (`ansible-galaxy collection build` from the test venv) and
//! `SHA256SUMS`.
//!
//! Reproducible: the archive is written here, in Rust (`tar` + `flate2`), with
//! sorted entries, every mtime the commit time (or `SOURCE_DATE_EPOCH`), uid/gid
//! 0 and no user names, and a gzip header with mtime 0 and OS "unknown"; the
//! binaries are built with `--remap-path-prefix` for the checkout and
//! `CARGO_HOME`, so no local path is left in them. When HEAD carries a tag
//! `vX.Y.Z` it must equal the workspace version.
//!
//! Man pages and completions come from the clap definitions linked into xtask
//! (`central_auth::cli`, each helper's `Cli`), so no shipped binary depends on
//! `clap_mangen`. `central-sim` keeps its command line in its binary; its man
//! page is rendered from its `--help` output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::archive::{sha256_hex, slash, walk, write_tar_gz};
use crate::collection::build_collection;
use crate::release_check::check_archive;
use crate::release_contents::{completion_scripts, man_pages, BINARIES, SHELLS, TOP_FILES};
use crate::shipped::{shipped_rustflags, SHIPPED_PROFILE};
use crate::util::{cargo, host_triple, root, say, target_dir, Res};

/// Entry point from `main`.
pub fn run(args: &[String]) -> Res<()> {
    let mut target = None;
    let mut check = None;
    let mut out = root().join("dist");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--target" => target = Some(it.next().ok_or("--target needs a triple")?.clone()),
            "--check" => check = Some(PathBuf::from(it.next().ok_or("--check needs a path")?)),
            "--out" => out = PathBuf::from(it.next().ok_or("--out needs a directory")?),
            "--self-test" => return self_test(),
            other => return Err(format!("release: unknown argument `{other}`")),
        }
    }
    if let Some(archive) = check {
        let report = check_archive(&archive)?;
        say(format!(
            "release --check: {} ok ({report})",
            archive.display()
        ));
        return Ok(());
    }
    let target = match target {
        Some(t) => t,
        None => host_triple()?,
    };
    let archive = release(&target, &out, SHIPPED_PROFILE)?;
    say(format!("release: wrote {}", archive.display()));
    Ok(())
}

/// The workspace version (`[workspace.package] version` of the root manifest).
pub fn workspace_version() -> Res<String> {
    let text = std::fs::read_to_string(root().join("Cargo.toml"))
        .map_err(|e| format!("Cargo.toml: {e}"))?;
    let value: toml::Table = toml::from_str(&text).map_err(|e| format!("Cargo.toml: {e}"))?;
    value
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or_else(|| "Cargo.toml has no [workspace.package] version".to_owned())
}

/// The commit time of HEAD, and the `v*` tags pointing at HEAD, of the
/// repository holding `dir` (git2).
fn head_info(dir: &Path) -> Res<(i64, Vec<String>)> {
    let repo = git2::Repository::discover(dir).map_err(|e| format!("git: {e}"))?;
    let head = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .map_err(|e| format!("git HEAD: {e}"))?;
    let mut tags = Vec::new();
    let names = repo
        .tag_names(Some("v*"))
        .map_err(|e| format!("git tags: {e}"))?;
    for name in names.iter().flatten().flatten() {
        let points_here = repo
            .revparse_single(&format!("refs/tags/{name}"))
            .and_then(|o| o.peel_to_commit())
            .is_ok_and(|c| c.id() == head.id());
        if points_here {
            tags.push(name.to_owned());
        }
    }
    Ok((head.time().seconds(), tags))
}

/// A tag `vX.Y.Z` on HEAD must name the workspace version.
pub fn check_tags(version: &str, tags: &[String]) -> Res<()> {
    for tag in tags {
        let Some(v) = tag.strip_prefix('v') else {
            continue;
        };
        let is_semver = v.split('.').count() == 3
            && v.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if is_semver && v != version {
            return Err(format!(
                "HEAD is tagged {tag} but the workspace version is {version}; bump [workspace.package] version in Cargo.toml or move the tag"
            ));
        }
    }
    Ok(())
}

/// The timestamp of every archive entry: `SOURCE_DATE_EPOCH`, else the commit time.
fn source_date_epoch(commit_time: i64) -> Res<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds")),
        Err(_) => u64::try_from(commit_time).map_err(|_| "commit time before 1970".to_owned()),
    }
}

/// Builds everything and writes the archive, the collection and SHA256SUMS into
/// `out`; returns the archive's path.
pub fn release(target: &str, out: &Path, profile: &str) -> Res<PathBuf> {
    let version = workspace_version()?;
    let (commit_time, tags) = head_info(&root())?;
    check_tags(&version, &tags)?;
    let mtime = source_date_epoch(commit_time)?;
    let bin_dir = build(target, profile)?;
    let top = format!("central-auth-{version}-{target}");

    let mut files = BTreeMap::new();
    let exe = if target.contains("windows") {
        ".exe"
    } else {
        ""
    };
    for name in BINARIES {
        let path = bin_dir.join(format!("{name}{exe}"));
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.insert(format!("bin/{name}{exe}"), (data, 0o755));
    }
    for shell in SHELLS {
        for (name, script) in completion_scripts(*shell) {
            let file = clap_complete::Generator::file_name(shell, name);
            files.insert(format!("completions/{file}"), (script.into_bytes(), 0o644));
        }
    }
    for (file, page) in man_pages(&bin_dir.join(format!("central-sim{exe}")), &version)? {
        files.insert(format!("man/man1/{file}"), (page, 0o644));
    }
    for name in TOP_FILES {
        let data = std::fs::read(root().join(name)).map_err(|e| format!("{name}: {e}"))?;
        files.insert((*name).to_owned(), (data, 0o644));
    }
    for path in walk(&root().join("docs"))? {
        let rel = path
            .strip_prefix(root())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.insert(slash(rel), (data, 0o644));
    }

    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let archive = out.join(format!("{top}.tar.gz"));
    let bytes = write_tar_gz(&top, &files, mtime)?;
    std::fs::write(&archive, &bytes).map_err(|e| format!("{}: {e}", archive.display()))?;

    let mut sums = vec![(sha256_hex(&bytes), format!("{top}.tar.gz"))];
    if let Some(collection) = build_collection(out, mtime)? {
        let data =
            std::fs::read(&collection).map_err(|e| format!("{}: {e}", collection.display()))?;
        let name = collection
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        sums.push((sha256_hex(&data), name));
    }
    sums.sort_by(|a, b| a.1.cmp(&b.1));
    let text: String = sums.iter().map(|(h, n)| format!("{h}  {n}\n")).collect();
    std::fs::write(out.join("SHA256SUMS"), text).map_err(|e| format!("SHA256SUMS: {e}"))?;
    Ok(archive)
}

/// `cargo build --profile PROFILE --locked --target TARGET` of every shipped
/// binary, with the checkout and `CARGO_HOME` remapped out of the binaries.
fn build(target: &str, profile: &str) -> Res<PathBuf> {
    say(format!(
        "release: building the release binaries for {target}"
    ));
    crate::util::run(
        &mut build_command(target, profile)?,
        "cargo build (release binaries)",
    )?;
    Ok(target_dir().join(target).join(profile))
}

/// Builds what [`self_test`] will build, in the background at the lowest
/// priority (output in `target/release-prebuild.log`), so that its own build
/// finds everything done. A failure here is only reported by that build.
pub fn prebuild_in_background() {
    let log = target_dir().join("release-prebuild.log");
    let _ = std::fs::remove_file(&log);
    let command = host_triple()
        .and_then(|target| build_command(&target, "release"))
        .and_then(|c| crate::util::in_background(&c, &log));
    if let Ok(mut c) = command {
        let _ = c.status();
    }
}

/// The `cargo build` of the release binaries of `target` in `profile`, with
/// the flags that make the archive reproducible.
fn build_command(target: &str, profile: &str) -> Res<Command> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if profile == SHIPPED_PROFILE {
        flags.push(' ');
        flags.push_str(shipped_rustflags(target));
    }
    for (from, to) in [(root(), "/central-auth"), (cargo_home, "/cargo")] {
        flags.push_str(&format!(" --remap-path-prefix={}={to}", from.display()));
    }
    let mut c = cargo();
    c.args([
        "build",
        "--profile",
        profile,
        "--locked",
        "--target",
        target,
    ])
    .env("RUSTFLAGS", flags.trim())
    .env(
        format!("CARGO_PROFILE_{}_STRIP", profile.to_uppercase()),
        "symbols",
    );
    // Each binary lives in the package of the same name.
    for name in BINARIES {
        c.args(["-p", name]);
    }
    c.arg("--bins");
    Ok(c)
}

/// The release test `cargo xtask test` runs: two releases of this commit into
/// two directories must be byte-identical, `--check` must pass on one, and must
/// fail once a byte of the archive changed. Reuses one release build.
pub fn self_test() -> Res<()> {
    let started = std::time::Instant::now();
    let target = host_triple()?;
    let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    // The `release` profile, not `dist`: the archive, reproducibility and
    // `--check` are the same, and the test suite stays within its time budget
    // (fat LTO would add minutes on two cores).
    let archive = release(&target, &a, "release")?;
    let built = started.elapsed();
    release(&target, &b, "release")?;
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&a).map_err(|e| format!("{}: {e}", a.display()))? {
        let name = entry.map_err(|e| format!("{e}"))?.file_name();
        let one = std::fs::read(a.join(&name)).map_err(|e| format!("{e}"))?;
        let two = std::fs::read(b.join(&name)).map_err(|e| format!("{e}"))?;
        if one != two {
            return Err(format!(
                "release is not reproducible: {} differs between two runs",
                name.to_string_lossy()
            ));
        }
        names.push(name.to_string_lossy().into_owned());
    }
    names.sort();
    let report = check_archive(&archive)?;
    let mut bytes = std::fs::read(&archive).map_err(|e| format!("{e}"))?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&archive, &bytes).map_err(|e| format!("{e}"))?;
    if check_archive(&archive).is_ok() {
        return Err("release --check accepted an archive with a changed byte".into());
    }
    say(format!(
        "figures: release: {} byte-identical across two runs; --check: {report}; a changed byte is refused; {:.1} s (first run, with the build: {:.1} s)",
        names.join(", "),
        started.elapsed().as_secs_f64(),
        built.as_secs_f64()
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_on_head_are_found_with_git2() {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = git2::Repository::init(dir.path()).expect("git init");
        let sig = git2::Signature::new("t", "t@example.test", &git2::Time::new(1_700_000_000, 0))
            .expect("signature");
        let tree = {
            let mut index = repo.index().expect("index");
            let id = index.write_tree().expect("tree");
            repo.find_tree(id).expect("tree")
        };
        let first = repo
            .commit(Some("HEAD"), &sig, &sig, "one", &tree, &[])
            .expect("commit");
        let first = repo.find_commit(first).expect("commit");
        repo.tag_lightweight("v0.0.1", first.as_object(), false)
            .expect("tag");
        let second = repo
            .commit(Some("HEAD"), &sig, &sig, "two", &tree, &[&first])
            .expect("commit");
        let second = repo.find_object(second, None).expect("object");
        repo.tag("v9.9.9", &second, &sig, "release", false)
            .expect("annotated tag");
        let (time, tags) = head_info(dir.path()).expect("head info");
        assert_eq!(time, 1_700_000_000);
        assert_eq!(tags, ["v9.9.9"], "only tags on HEAD, annotated ones peeled");
        let e = check_tags("0.1.0", &tags).expect_err("mismatch stops the release");
        assert!(e.contains("v9.9.9"), "{e}");
    }

    #[test]
    fn a_version_tag_must_match() {
        assert!(check_tags("0.1.0", &["v0.1.0".to_owned()]).is_ok());
        assert!(check_tags("0.1.0", &["vnext".to_owned()]).is_ok());
        let e = check_tags("0.1.0", &["v0.2.0".to_owned()]).expect_err("mismatch");
        assert!(e.contains("v0.2.0") && e.contains("0.1.0"), "{e}");
    }
}
