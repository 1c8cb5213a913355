//! The `central-auth` command line as a library: the binary parses it, and
//! `cargo xtask release` and `cargo xtask install` render its man pages and
//! shell completions from it ([`completion`] fixes clap_complete's scripts).

pub mod cli;
pub mod completion;
#[cfg(unix)]
pub mod peer;
