//! The proxy's record in the profile's state directory
//! (`central_auth_core::proxies`), written once it listens and removed when
//! it stops, so `central-auth status` can say a proxy serves the profile and
//! where.

use std::path::{Path, PathBuf};

use central_auth_core::holder::Holder;
use central_auth_core::proxies::{self, ProxyRecord};
use central_auth_core::ProfileName;

use super::transport::Listening;

/// The written record; removed on drop.
#[derive(Debug)]
pub struct Record {
    path: Option<PathBuf>,
}

impl Record {
    /// Writes the record for this process (nothing when the profile has no
    /// state directory yet, or the write fails: status is advisory).
    pub fn write(state_dir: &Path, profile: &ProfileName, on: &Listening) -> Record {
        let (url, socket) = match on {
            Listening::Tcp { addr } => (Some(format!("http://{addr}")), None),
            Listening::Unix { path } => (None, Some(path.clone())),
        };
        let record = ProxyRecord {
            holder: Holder::current(),
            url,
            socket,
            since: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        Record {
            path: proxies::write(state_dir, profile, &record).ok().flatten(),
        }
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if let Some(p) = &self.path {
            let _ = std::fs::remove_file(p);
        }
    }
}
