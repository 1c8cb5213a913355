//! Filesystem helpers every piece of local state uses: opening without
//! following links ([`nofollow`]), private directories, atomic replacement, and
//! the StrictModes rule for files other tools own ([`foreign`]).

mod atomic;
pub mod foreign;
pub mod nofollow;
mod private_dir;

pub use atomic::{replace_shared, sync_dir, write_atomically};
#[cfg(test)]
pub(crate) use atomic::{write_atomically_with, Writers};
pub use private_dir::{check_private_dir, ensure_private_dir};
