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
mod completion;
mod conventions;
mod docs;
mod edges;
mod first_hour;
mod fleet;
mod fleet_cluster;
mod fleet_first_hour;
mod foreign_files;
mod gateway_page;
mod git;
mod harness;
mod install;
mod inventory;
mod keyring;
mod kube;
mod leaks;
mod migrate;
mod msp;
mod ops;
mod proxy;
mod pycentral;
mod pycentral2;
mod pycentral_provider;
mod security;
mod soak;
mod terraform;
