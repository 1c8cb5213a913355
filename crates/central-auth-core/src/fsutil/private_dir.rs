//! The private directories state lives in: created 0700, refused when linked,
//! not a directory, or writable by others.

use std::path::Path;

use crate::error::Error;
use crate::fsutil::nofollow;

/// Creates `dir` (and parents) with mode 0700; refuses an existing one that others
/// can write to, or a symbolic link.
pub fn ensure_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            builder.create(dir).map_err(|e| {
                Error::store(format!(
                    "cannot create state directory {}: {e}; create it or set CENTRAL_AUTH_HOME to a writable place",
                    dir.display()
                ))
            })?;
            std::fs::symlink_metadata(dir)
                .map_err(|e| Error::store(format!("cannot inspect {}: {e}", dir.display())))?
        }
        Err(e) => {
            return Err(Error::store(format!(
                "cannot inspect {}: {e}",
                dir.display()
            )))
        }
    };
    check_private_dir(dir, &meta)
}

/// Refuses a link, a non-directory, or a directory others can write to.
pub fn check_private_dir(dir: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    if meta.file_type().is_symlink() {
        return Err(nofollow::symlink_refused(dir, "state directory"));
    }
    if !meta.is_dir() {
        return Err(Error::store(format!(
            "state directory {} is not a directory; move it away and retry",
            dir.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o022 != 0 {
            return Err(Error::store(format!(
                "state directory {} is writable by group or others; run `chmod 700 {}`",
                dir.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}
