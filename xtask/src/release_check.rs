//! `cargo xtask release --check ARCHIVE`: verifies a release archive against
//! its `SHA256SUMS`, its layout and owners, and (for the host's target) that
//! each binary runs `--version`.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use crate::archive::sha256_hex;
use crate::release_contents::{commands, BINARIES, SHELLS, TOP_FILES};
use crate::util::{host_triple, say, Res};

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
