//! Reproducible archives: a gzip'd tar with sorted entries, one mtime, owner
//! 0 and no names (`tar` + `flate2`), the files of a directory in order, and
//! SHA-256 sums.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::util::Res;

/// Every file under `dir`, sorted.
pub fn walk(dir: &Path) -> Res<Vec<PathBuf>> {
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

/// A relative path with `/` separators, as archive entries name files.
pub fn slash(path: &Path) -> String {
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

/// Lower-case hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
}
