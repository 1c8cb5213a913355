//! `central-auth-core`: the one place that holds HPE Aruba Networking Central API
//! tokens on a machine.
//!
//! Every tool (the `central-auth` CLI and the credential helpers for git, kubectl,
//! Terraform and Ansible) asks the [`Broker`] for the current access token of a
//! profile. The broker takes a per-profile lock, reads the stored token, and when it
//! is not valid long enough refreshes it exactly once (or mints a new one for
//! client-credentials profiles), writes it atomically and releases the lock.
//!
//! The crate is synchronous, never prints, and is the only crate that speaks HTTP to
//! Central. It owns the token store contract and the file store; a shared store
//! is a backend crate behind that contract ([`store::backend`]). See
//! `docs/ARCHITECTURE.md` for the layers and the invariants.

pub mod adapter;
mod agents;
pub mod broker;
pub mod chain_move;
pub(crate) mod clusters;
pub mod config;
pub(crate) mod config_index;
pub mod docs_ref;
pub mod doctor;
pub mod duration;
pub mod error;
pub mod forward;
pub mod fsutil;
pub mod holder;
pub(crate) mod home;
pub mod http;
pub mod import;
pub(crate) mod local_state;
pub(crate) mod logout_mark;
pub mod net;
pub mod oauth;
pub mod process;
pub mod profile_name;
pub mod proxies;
pub mod quota;
pub mod redact;
pub(crate) mod resolver;
pub mod secret;
pub mod secret_source;
pub mod sections;
pub mod status;
pub mod store;
pub mod strict;
pub mod timefmt;
pub mod token;
pub(crate) mod usage;

pub use broker::{AccessToken, Broker, TenantEntry};
pub use config::{Config, Grant, Profile, ProfileName};
pub use error::{Error, ExitCode};
pub use home::Home;
pub use secret::SecretString;
