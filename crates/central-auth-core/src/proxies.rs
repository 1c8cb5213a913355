//! The `central-auth proxy` processes serving a profile, so `status` can say
//! whether one is running and where it listens.
//!
//! Each proxy writes `profiles/<name>/proxy-<pid>.json` when it starts
//! listening (its [`Holder`]: host, pid, start time; its URL or socket path;
//! when it started) and removes it when it stops. A proxy killed without a
//! chance to clean up leaves its file: [`live`] shows only records whose
//! process is still running here (same pid *and* start time), so a stale or
//! reused pid is never reported. No secret is in a record.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::fsutil::write_atomically;
use crate::holder::Holder;
use crate::local_state::profile_dir;
use crate::profile_name::ProfileName;

/// Where one proxy listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyRecord {
    /// The proxy process.
    pub holder: Holder,
    /// `http://127.0.0.1:PORT` for TCP.
    #[serde(default)]
    pub url: Option<String>,
    /// The Unix socket path.
    #[serde(default)]
    pub socket: Option<PathBuf>,
    /// Start time (unix seconds).
    pub since: i64,
}

const PREFIX: &str = "proxy-";
const SUFFIX: &str = ".json";

/// The record path of process `pid` for a profile.
pub fn path(state_dir: &Path, profile: &ProfileName, pid: u32) -> PathBuf {
    profile_dir(state_dir, profile).join(format!("{PREFIX}{pid}{SUFFIX}"))
}

/// Writes this process's record. The profile's directory belongs to the store
/// (made with its permissions when a token is stored); without it nothing is
/// written and `None` is returned.
pub fn write(
    state_dir: &Path,
    profile: &ProfileName,
    record: &ProxyRecord,
) -> Result<Option<PathBuf>, Error> {
    let path = path(state_dir, profile, record.holder.pid);
    if path.parent().is_some_and(|d| !d.is_dir()) {
        return Ok(None);
    }
    let json = serde_json::to_vec(record)
        .map_err(|e| Error::store(format!("cannot encode the proxy record: {e}")))?;
    write_atomically(&path, &json)?;
    Ok(Some(path))
}

/// The records of proxies running now, oldest first.
pub fn live(state_dir: &Path, profile: &ProfileName) -> Vec<ProxyRecord> {
    let dir = profile_dir(state_dir, profile);
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<ProxyRecord> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .filter_map(|e| std::fs::read(e.path()).ok())
        .filter_map(|bytes| serde_json::from_slice::<ProxyRecord>(&bytes).ok())
        .filter(|r| r.holder.running_here())
        .collect();
    out.sort_by_key(|r| (r.since, r.holder.pid));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_shows_while_its_process_runs() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        let name = ProfileName::new("p").unwrap();
        let none = ProxyRecord {
            holder: Holder::current(),
            url: Some("http://127.0.0.1:1".into()),
            socket: None,
            since: 1,
        };
        // No profile directory yet: nothing written.
        assert_eq!(write(state, &name, &none).unwrap(), None);
        std::fs::create_dir_all(path(state, &name, 1).parent().unwrap()).unwrap();
        let written = write(state, &name, &none).unwrap().unwrap();
        assert_eq!(live(state, &name), vec![none.clone()]);
        // A record of a process that is gone is not shown.
        let gone = ProxyRecord {
            holder: Holder {
                pid: 999_999_999,
                ..none.holder.clone()
            },
            ..none.clone()
        };
        let gone_path = path(state, &name, gone.holder.pid);
        std::fs::write(&gone_path, serde_json::to_vec(&gone).unwrap()).unwrap();
        std::fs::write(path(state, &name, 9), b"not json").unwrap();
        assert_eq!(live(state, &name), vec![none]);
        std::fs::remove_file(written).unwrap();
        assert!(live(state, &name).is_empty());
    }
}
