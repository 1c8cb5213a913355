//! End-to-end tests: the real binaries against an in-process `central-sim`, and
//! the real tools (git, kubectl, terraform, ansible-core, pycentral) against them.
//! One test binary for the whole workspace; each module covers one area.

#![allow(clippy::unwrap_used, clippy::print_stderr, missing_docs)]

mod all_tools;
mod ansible;
mod cencli;
mod chain;
mod cli;
mod clients;
mod conventions;
mod docs;
mod edges;
mod fleet;
mod fleet_cluster;
mod gateway_page;
mod git;
mod harness;
mod inventory;
mod kube;
mod leaks;
mod migrate;
mod ops;
mod proxy;
mod pycentral;
mod pycentral_provider;
mod security;
mod soak;
mod terraform;
