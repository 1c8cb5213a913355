//! The `central-auth` command line as a library: the binary parses it, and
//! `cargo xtask release` renders its man page and shell completions from it.

pub mod cli;
#[cfg(unix)]
pub mod peer;
