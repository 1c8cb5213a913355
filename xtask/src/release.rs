//! `cargo xtask release [--target TRIPLE] [--out DIR]` and
//! `cargo xtask release --check ARCHIVE`.
//!
//! Builds the release binaries for the target (default: the host) and writes
//! `DIR/central-auth-<version>-<target>.tar.gz` (default DIR: `dist/`), whose
//! one top folder `central-auth-<version>-<target>/` holds `bin/` (every binary),
//! `completions/` (bash, zsh, fish, PowerShell), `man/man1/` (one page per
//! binary), the README, the license files and `docs/`. Also the Ansible
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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use clap_complete::Shell;
use sha2::{Digest, Sha256};

use crate::util::{cargo, is_ci, root, say, target_dir, Res};

/// Every binary shipped in `bin/`.
pub const BINARIES: &[&str] = &[
    "central-auth",
    "git-credential-central",
    "central-auth-kube",
    "central-auth-terraform",
    "central-auth-ansible",
    "central-sim",
];

/// The shells completions are generated for, with the file name of each.
const SHELLS: &[Shell] = &[Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

/// Files at the archive's top level, from the repository root.
const TOP_FILES: &[&str] = &["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

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
    for (name, mut cmd) in commands() {
        for shell in SHELLS {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut cmd, name, &mut buf);
            let file = clap_complete::Generator::file_name(shell, name);
            files.insert(format!("completions/{file}"), (buf, 0o644));
        }
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| format!("man page of {name}: {e}"))?;
        files.insert(format!("man/man1/{name}.1"), (page, 0o644));
    }
    files.insert(
        "man/man1/central-sim.1".to_owned(),
        (
            sim_man_page(&bin_dir.join(format!("central-sim{exe}")), &version)?,
            0o644,
        ),
    );
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

/// The Cargo profile of the shipped binaries: `release` with fat LTO and one
/// codegen unit (Cargo.toml), smaller binaries and a cheaper cached call.
pub const SHIPPED_PROFILE: &str = "dist";

/// `RUSTFLAGS` of the shipped build only (`SHIPPED_PROFILE`, built by `release`
/// and `bench` with an explicit `--target`, so build scripts and proc-macros
/// keep the default): on Linux, a position-dependent executable (rustc then
/// links `-no-pie`). The loader no longer relocates the binary's ~3,700 pointer
/// slots, whose pages were copied on write at every start: a cached call costs
/// about 12% fewer instructions and a sixth fewer page faults. The libraries, heap
/// and stack stay randomized; the trade-off and the levers measured and
/// rejected are in docs/ARCHITECTURE.md, "The cached path".
pub fn shipped_rustflags(target: &str) -> &'static str {
    if target.contains("-linux-") {
        "-C relocation-model=static"
    } else {
        ""
    }
}

/// `cargo build --profile PROFILE --locked --target TARGET` of every shipped
/// binary, with the checkout and `CARGO_HOME` remapped out of the binaries.
fn build(target: &str, profile: &str) -> Res<PathBuf> {
    say(format!(
        "release: building the release binaries for {target}"
    ));
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
    crate::util::run(&mut c, "cargo build (release binaries)")?;
    Ok(target_dir().join(target).join(profile))
}

/// The clap definitions of the binaries that have one in a library.
fn commands() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("central-auth", central_auth::cli::Cli::command()),
        (
            "git-credential-central",
            git_credential_central::cli::Cli::command(),
        ),
        ("central-auth-kube", central_auth_kube::Cli::command()),
        (
            "central-auth-terraform",
            central_auth_terraform::Cli::command(),
        ),
        ("central-auth-ansible", central_auth_ansible::Cli::command()),
    ]
}

/// A man page for `central-sim` from its `--help` (its command line lives in its
/// binary, not in a library).
fn sim_man_page(bin: &Path, version: &str) -> Res<Vec<u8>> {
    let out = Command::new(bin)
        .arg("--help")
        .output()
        .map_err(|e| format!("{} --help: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("{} --help failed", bin.display()));
    }
    let help = String::from_utf8_lossy(&out.stdout);
    let mut page = format!(
        ".TH central-sim 1 \"\" \"central-sim {version}\"\n.SH NAME\ncentral-sim \\- local simulator of the HPE Aruba Networking Central API gateway\n.SH DESCRIPTION\n.nf\n"
    );
    for line in help.lines() {
        let line = line.replace('\\', "\\e");
        if line.starts_with('.') || line.starts_with('\'') {
            page.push_str("\\&");
        }
        page.push_str(&line);
        page.push('\n');
    }
    page.push_str(".fi\n.SH SEE ALSO\ndocs/simulator.md\n");
    Ok(page.into_bytes())
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Res<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A gzip'd tar of `files` (path under `top`, or at the root when `top` is
/// empty → data and mode), reproducible:
/// directories and files sorted, mtime `mtime`, uid/gid 0, no user or group
/// names, gzip header without a time or OS.
pub fn write_tar_gz(
    top: &str,
    files: &BTreeMap<String, (Vec<u8>, u32)>,
    mtime: u64,
) -> Res<Vec<u8>> {
    let prefix = if top.is_empty() {
        String::new()
    } else {
        format!("{top}/")
    };
    let mut paths = BTreeMap::new();
    if !top.is_empty() {
        paths.insert(prefix.clone(), None);
    }
    for (path, entry) in files {
        let mut dir = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir.push_str(part);
            dir.push('/');
            paths.insert(format!("{prefix}{dir}"), None);
        }
        paths.insert(format!("{prefix}{path}"), Some(entry));
    }
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, entry) in &paths {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header
            .set_username("")
            .and_then(|()| header.set_groupname(""))
            .map_err(|e| format!("tar header: {e}"))?;
        match entry {
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_cksum();
                tar.append_data(&mut header, path, std::io::empty())
            }
            Some((data, mode)) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(data.len() as u64);
                header.set_cksum();
                tar.append_data(&mut header, path, data.as_slice())
            }
        }
        .map_err(|e| format!("tar {path}: {e}"))?;
    }
    let gz = tar.into_inner().map_err(|e| format!("tar: {e}"))?;
    gz.finish().map_err(|e| format!("gzip: {e}"))
}

/// `ansible-galaxy collection build` from the test venv into `out`, with its
/// file mtimes normalised by rebuilding from a copy; `None` (and a loud line)
/// when the venv is missing outside CI.
fn build_collection(out: &Path, mtime: u64) -> Res<Option<PathBuf>> {
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

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Verifies an archive: its checksum against `SHA256SUMS` beside it (and every
/// other file listed there), the layout, uid/gid 0, and, for the host's target,
/// that each binary runs `--version` and prints its name and the version.
pub fn check_archive(archive: &Path) -> Res<String> {
    let dir = archive.parent().unwrap_or(Path::new("."));
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or("--check needs an archive file")?;
    let top = name
        .strip_suffix(".tar.gz")
        .ok_or_else(|| format!("{name}: not a .tar.gz"))?
        .to_owned();
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS"))
        .map_err(|e| format!("{}: {e}", dir.join("SHA256SUMS").display()))?;
    let mut listed_archive = false;
    for line in sums.lines() {
        let (hash, file) = line
            .split_once("  ")
            .ok_or_else(|| format!("SHA256SUMS: malformed line {line:?}"))?;
        let data = std::fs::read(dir.join(file)).map_err(|e| format!("{file}: {e}"))?;
        if sha256_hex(&data) != hash {
            return Err(format!("{file}: SHA-256 does not match SHA256SUMS"));
        }
        listed_archive |= file == name;
    }
    if !listed_archive {
        return Err(format!("{name} is not listed in SHA256SUMS"));
    }
    let version = top
        .strip_prefix("central-auth-")
        .and_then(|rest| rest.split_once('-'))
        .map(|(v, _)| v.to_owned())
        .ok_or_else(|| format!("{name}: not central-auth-<version>-<target>.tar.gz"))?;
    let target = &top[format!("central-auth-{version}-").len()..];

    let bytes = std::fs::read(archive).map_err(|e| format!("{}: {e}", archive.display()))?;
    let tmp = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut entries = Vec::new();
    for entry in tar.entries().map_err(|e| format!("{name}: {e}"))? {
        let mut entry = entry.map_err(|e| format!("{name}: {e}"))?;
        let path = entry
            .path()
            .map_err(|e| format!("{name}: {e}"))?
            .to_string_lossy()
            .into_owned();
        let header = entry.header();
        if header.uid().ok() != Some(0) || header.gid().ok() != Some(0) {
            return Err(format!("{path}: owner is not uid/gid 0"));
        }
        if !path.starts_with(&format!("{top}/")) {
            return Err(format!("{path}: outside the top folder {top}/"));
        }
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| format!("{path}: {e}"))?;
        entries.push(path.trim_end_matches('/').to_owned());
        if !data.is_empty() {
            let dest = tmp.path().join(&path);
            if let Some(parent) = dest.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            std::fs::write(&dest, &data).map_err(|e| format!("{}: {e}", dest.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = entry.header().mode().unwrap_or(0o644);
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| format!("{}: {e}", dest.display()))?;
            }
        }
    }
    if entries.windows(2).any(|w| w[0] >= w[1]) {
        return Err(format!("{name}: entries are not sorted"));
    }
    let exe = if target.contains("windows") {
        ".exe"
    } else {
        ""
    };
    let mut required: Vec<String> = TOP_FILES.iter().map(|f| (*f).to_owned()).collect();
    required.push("docs/ARCHITECTURE.md".to_owned());
    for bin in BINARIES {
        required.push(format!("bin/{bin}{exe}"));
        required.push(format!("man/man1/{bin}.1"));
    }
    for (bin, _) in commands() {
        for shell in SHELLS {
            required.push(format!(
                "completions/{}",
                clap_complete::Generator::file_name(shell, bin)
            ));
        }
    }
    for file in &required {
        if !entries.contains(&format!("{top}/{file}")) {
            return Err(format!("{name}: {file} is missing"));
        }
    }
    let mut ran = 0;
    if target == host_triple()? {
        for bin in BINARIES {
            let path = tmp
                .path()
                .join(&top)
                .join("bin")
                .join(format!("{bin}{exe}"));
            let out = Command::new(&path)
                .arg("--version")
                .output()
                .map_err(|e| format!("{bin} --version: {e}"))?;
            let printed = String::from_utf8_lossy(&out.stdout);
            if !out.status.success() || printed.trim() != format!("{bin} {version}") {
                return Err(format!(
                    "{bin} --version printed {:?} (exit {:?}); expected \"{bin} {version}\"",
                    printed.trim(),
                    out.status.code()
                ));
            }
            ran += 1;
        }
    } else {
        say(format!(
            "release --check: {target} is not this host; binaries not run"
        ));
    }
    Ok(format!(
        "{} entries, {} checksums, {ran} binaries ran --version",
        entries.len(),
        sums.lines().count()
    ))
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

    fn files() -> BTreeMap<String, (Vec<u8>, u32)> {
        let mut f = BTreeMap::new();
        f.insert("bin/tool".to_owned(), (b"#!/bin/sh\n".to_vec(), 0o755));
        f.insert("docs/a/b.md".to_owned(), (b"b".to_vec(), 0o644));
        f.insert("README.md".to_owned(), (b"r".to_vec(), 0o644));
        f
    }

    #[test]
    fn archive_is_byte_identical_sorted_and_owned_by_root() {
        let a = write_tar_gz("top", &files(), 1_700_000_000).expect("archive");
        let b = write_tar_gz("top", &files(), 1_700_000_000).expect("archive");
        assert_eq!(a, b);
        // gzip header: no mtime (bytes 4..8), OS unknown (byte 9).
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        assert_eq!(a[9], 255);
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
        let mut paths = Vec::new();
        for e in tar.entries().expect("entries") {
            let e = e.expect("entry");
            let h = e.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.mtime().unwrap(), 1_700_000_000);
            assert_eq!(h.username().unwrap(), Some(""));
            paths.push(e.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            paths,
            [
                "top/",
                "top/README.md",
                "top/bin/",
                "top/bin/tool",
                "top/docs/",
                "top/docs/a/",
                "top/docs/a/b.md"
            ]
        );
        let other = write_tar_gz("top", &files(), 1_700_000_001).expect("archive");
        assert_ne!(a, other, "the mtime is what SOURCE_DATE_EPOCH sets");
    }

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

    #[test]
    fn every_cli_renders_a_man_page_and_completions() {
        for (name, mut cmd) in commands() {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd.clone())
                .render(&mut page)
                .expect("man page");
            assert!(String::from_utf8_lossy(&page).contains(".TH"), "{name}");
            for shell in SHELLS {
                let mut buf = Vec::new();
                clap_complete::generate(*shell, &mut cmd, name, &mut buf);
                assert!(
                    String::from_utf8_lossy(&buf).contains("profile"),
                    "{name} {shell}"
                );
            }
        }
    }
}
