//! What ships: the Cargo profile of the release binaries, which
//! `cargo xtask release` packs and `cargo xtask bench` measures.

/// The Cargo profile of the shipped binaries: `release` with fat LTO and one
/// codegen unit (Cargo.toml), smaller binaries and a cheaper cached call.
pub const SHIPPED_PROFILE: &str = "dist";
