//! What ships: the Cargo profile of the release binaries and its flags, which
//! `cargo xtask release` packs and `cargo xtask bench` measures.

/// The Cargo profile of the shipped binaries: `release` with fat LTO and one
/// codegen unit (Cargo.toml), smaller binaries and a cheaper cached call.
pub const SHIPPED_PROFILE: &str = "dist";

/// `RUSTFLAGS` of the shipped build only (`SHIPPED_PROFILE`, built by `release`
/// and `bench` with an explicit `--target`, so build scripts and proc-macros
/// keep the default): on Linux, a position-dependent executable (rustc then
/// links `-no-pie`). The loader no longer relocates the binary's ~3,700 pointer
/// slots, whose pages were copied on write at every start: a cached call costs
/// about 12% fewer instructions and a sixth fewer page faults. The libraries, heap
/// and stack stay randomized; the trade-off and the levers measured and
/// rejected are in docs/ARCHITECTURE.md, "The cached path".
pub fn shipped_rustflags(target: &str) -> &'static str {
    if target.contains("-linux-") {
        "-C relocation-model=static"
    } else {
        ""
    }
}
