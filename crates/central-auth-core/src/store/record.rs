//! Reading a record file of the file store (or of its old flat layout): no link followed, owner-only permissions,
//! bounded size, the known format; a damaged record is named, never dropped.

use std::fs::OpenOptions;
use std::io::Read;
use std::path::Path;

use crate::error::Error;
use crate::fsutil::nofollow;
use crate::token::{StoredToken, FORMAT_VERSION};

/// Largest record we are willing to read; real ones are well under 4 KiB.
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// Reads and checks a record: permissions, size, format.
pub fn read_record(path: &Path) -> Result<Option<StoredToken>, Error> {
    let mut options = OpenOptions::new();
    options.read(true);
    let mut file = match nofollow::no_follow(&mut options).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if nofollow::is_symlink_error(&e) => {
            return Err(nofollow::symlink_refused(path, "token file"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Error::store(format!(
                "cannot read token file {}: permission denied; it must be owned by you with mode 0600 (`chmod 600 {}`)",
                path.display(),
                path.display()
            )))
        }
        Err(e) => {
            return Err(Error::store(format!(
                "cannot read token file {}: {e}",
                path.display()
            )))
        }
    };
    let meta = file
        .metadata()
        .map_err(|e| Error::store(format!("cannot inspect {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::store(format!(
                "token file {} is readable by group or others (mode {:o}); run `chmod 600 {}` and consider the tokens in it exposed",
                path.display(),
                meta.permissions().mode() & 0o777,
                path.display()
            )));
        }
    }
    if meta.len() > MAX_RECORD_BYTES {
        return Err(Error::store(format!(
            "token file {} is {} bytes, too large to be a token record (`central-auth import --force` replaces it, `central-auth logout` removes it)",
            path.display(),
            meta.len()
        )));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| Error::store(format!("cannot read {}: {e}", path.display())))?;
    let record: StoredToken = serde_json::from_str(&text).map_err(|e| {
        Error::store(format!(
            "token file {} is damaged ({}; `central-auth import --force` replaces it, `central-auth logout` removes it)",
            path.display(),
            e.classify_name()
        ))
    })?;
    if record.format != FORMAT_VERSION {
        return Err(Error::store(format!(
            "token file {} has format {} but this central-auth reads format {FORMAT_VERSION}; use a matching central-auth version, or replace it with `central-auth import --force`",
            path.display(),
            record.format
        )));
    }
    Ok(Some(record))
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        if self.is_eof() {
            "truncated"
        } else if self.is_syntax() {
            "not JSON"
        } else {
            "missing or wrong fields"
        }
    }
}
