//! `cargo xtask`: project automation for central-auth.
//!
//! * `cargo xtask test [--no-setup] [-- ARGS]`: builds every binary, sets up the
//!   Python venvs the end-to-end tests drive (pycentral, ansible-core, kubernetes,
//!   openbao, centralcli, playwright) and Debian's chromium, checks the real tools
//!   (git, kubectl, terraform, openssl, curl) and runs
//!   `cargo test --workspace`. Under `CI=true` a tool that cannot be set up is fatal.
//! * `cargo xtask demo`: a readable story against the `central-sim` binary: the
//!   API Gateway life cycle (app, tokens, download, import, revoke), then login,
//!   status, token, expiry and refresh, then a 16-process stampede with one refresh.
//! * `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target for N seconds.
//! * `cargo xtask install [--prefix DIR] [--debug]`: the binaries built from
//!   `Cargo.lock`, completions and man pages where the shells and `man` look.
//! * `cargo xtask release [--target TRIPLE] [--out DIR] | --check ARCHIVE`: the
//!   reproducible release archive (see `release.rs`).
//! * `cargo xtask bench [--runs N]`: a Markdown table of per-call costs (release build).
//! * `cargo xtask structure [--graph]`: each target's files by floor, from the
//!   code's own imports; fails on an import cycle (also run by `test`).
//! * `cargo xtask mutants [--minutes N]`: cargo-mutants over the broker, the store
//!   and the helpers' protocol code, time-bounded; by hand, not in CI.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod archive;
mod bench;
mod bench_cluster;
mod bench_fleet;
mod bench_keyring;
mod bench_proxy;
mod browser;
mod collection;
mod demo;
mod demo_gateway;
mod demo_home;
mod failures;
mod fuzz;
mod install;
mod measure;
mod mutants;
mod release;
mod release_check;
mod release_contents;
mod shipped;
mod sim_process;
mod source_copy;
mod structure;
mod test;
mod util;
mod venv;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  test [--no-setup] [-- CARGO_TEST_ARGS...]
        build all binaries, set up the Python venvs under target/venvs, check the
        real tools, run `cargo test --workspace` (CI=true: missing tools are fatal)
  demo  API Gateway life cycle (app, tokens, download, import, revoke), login, status, token, expiry + refresh, and a 16-process stampede against
        the central-sim binary (about 8 s after the build)
  fuzz [--seconds N]
        run every cargo-fuzz target N seconds (default 10) on the checked-in
        corpus with nightly (installs cargo-fuzz into target/tools if missing)
  install [--prefix DIR] [--debug | --bin-dir DIR]
        build the shipped binaries from Cargo.lock (--locked; --debug: the test
        build) and install them into DIR/bin, their bash, zsh and fish
        completions under DIR/share and every man page into DIR/share/man/man1
        (default DIR: ~/.local); prints each file written; --bin-dir: binaries
        already built there
  release [--target TRIPLE] [--out DIR]
        release binaries, completions, man pages, README, licenses and docs in
        dist/central-auth-<version>-<target>.tar.gz (reproducible), the Ansible
        collection tarball and dist/SHA256SUMS
  release --check ARCHIVE
        verify an archive: SHA256SUMS, layout, each binary runs --version
  release --self-test
        two releases must be byte-identical, --check must pass, and fail on a
        changed byte (also run by `test`)
  bench [--runs N]
        release build; medians of each helper against `cat` of the token file, and
        stampede wall time for 1, 16 and 64 callers
  structure [--graph]
        each crate target's files by floor, read from their imports (--graph:
        every file-to-file import); fails on an import cycle (also run by `test`)
  mutants [--minutes N] [--timeout SECONDS] [--group core|git|kube|terraform] [--list]
        cargo-mutants (installed under target/tools) over broker/, store/ and the
        helpers' protocol modules, each mutant against the unit tests and a small
        e2e subset, at most N minutes (default 30); run by hand, not in CI
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((task, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match task.as_str() {
        "test" => test::run(rest),
        "demo" => demo::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "mutants" => mutants::run(rest),
        "release" => release::run(rest),
        "install" => install::run(rest),
        "structure" => structure::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown task `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
