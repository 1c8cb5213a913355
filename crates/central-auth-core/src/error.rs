//! The one error type of the core, named by what the caller does next.
//!
//! Every variant's message is a single line that says what happened and how to fix
//! it. No message ever contains a secret: URLs are redacted before they get here and
//! secret values are never formatted.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong, grouped by what the user or calling tool should do next.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is wrong or incomplete: edit the config file.
    #[error("{message}")]
    Config {
        /// One line saying what is wrong and how to fix it.
        message: String,
    },

    /// Input given on the command line or on stdin is malformed: fix the input.
    #[error("{message}")]
    BadInput {
        /// One line saying what is wrong and how to fix it.
        message: String,
    },

    /// The profile holds no usable token any more: log in or import a new one.
    #[error("profile {profile:?}: {reason}; run `central-auth login --profile {profile}` or download a new token in the Central Web UI and run `central-auth import --profile {profile} FILE`")]
    NeedsLogin {
        /// The profile.
        profile: String,
        /// What happened to the chain.
        reason: String,
    },

    /// Central rejected the client id, client secret, username or password: fix them.
    #[error("profile {profile:?}: Central rejected the {what} ({detail}); fix them in the profile's configuration")]
    CredentialsRejected {
        /// The profile.
        profile: String,
        /// Which credential (client credentials, username/password).
        what: String,
        /// Central's own words, without secrets.
        detail: String,
    },

    /// Central, the network or a shared token store failed for now: try again later.
    #[error("{message}")]
    Unavailable {
        /// What failed, with the redacted URL.
        message: String,
        /// Which side failed: the broker serves a still-valid cached access
        /// token when a store is out, and never when Central is.
        outage: Outage,
    },

    /// The day's API quota is used up: wait until it resets (midnight GMT).
    #[error("Central's per-day API quota is exhausted ({detail}); it resets at midnight GMT")]
    QuotaExhausted {
        /// The gateway's numbers.
        detail: String,
    },

    /// Another process held the profile's lock for too long: retry, or look at it.
    #[error("profile {profile:?}: another central-auth process held the lock {path} for more than {}; retry, or check for a stuck process with `central-auth status`", crate::duration::format_waited(*waited))]
    LockTimeout {
        /// The profile.
        profile: String,
        /// The lock file.
        path: PathBuf,
        /// How long this call waited.
        waited: Duration,
    },

    /// The token store cannot be used as is: fix permissions or disk.
    #[error("{message}")]
    Store {
        /// What is wrong with which path, and how to fix it.
        message: String,
    },

    /// A user-interaction step was needed but is impossible here (no terminal).
    #[error("{message}")]
    NotInteractive {
        /// What was needed.
        message: String,
    },
}

impl Error {
    /// Shorthand for [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::BadInput`].
    pub fn bad_input(message: impl Into<String>) -> Error {
        Error::BadInput {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Store`].
    pub fn store(message: impl Into<String>) -> Error {
        Error::Store {
            message: message.into(),
        }
    }

    /// Shorthand for [`Error::Unavailable`] of Central, the network or a
    /// local service ([`Outage::Network`]).
    pub fn unavailable(message: impl Into<String>) -> Error {
        Error::Unavailable {
            message: message.into(),
            outage: Outage::Network,
        }
    }

    /// Shorthand for [`Error::Unavailable`] of the OS keyring
    /// ([`Outage::Keyring`]): each fault has its own exit code.
    pub fn keyring(fault: KeyringFault, message: impl Into<String>) -> Error {
        Error::Unavailable {
            message: message.into(),
            outage: Outage::Keyring(fault),
        }
    }

    /// Shorthand for [`Error::Unavailable`] of a shared token store
    /// ([`Outage::Store`]: unreachable, sealed, or its lease lost).
    pub fn store_unavailable(message: impl Into<String>) -> Error {
        Error::Unavailable {
            message: message.into(),
            outage: Outage::Store,
        }
    }

    /// The process exit code every central-auth binary uses for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Config { .. } | Error::BadInput { .. } => ExitCode::Usage,
            Error::NeedsLogin { .. } | Error::NotInteractive { .. } => ExitCode::NeedsLogin,
            Error::CredentialsRejected { .. } => ExitCode::CredentialsRejected,
            Error::Unavailable {
                outage: Outage::Keyring(fault),
                ..
            } => match fault {
                KeyringFault::Locked => ExitCode::KeyringLocked,
                KeyringFault::NoService => ExitCode::KeyringMissing,
                KeyringFault::NoAnswer => ExitCode::KeyringSilent,
            },
            Error::Unavailable { .. }
            | Error::QuotaExhausted { .. }
            | Error::LockTimeout { .. } => ExitCode::TryLater,
            Error::Store { .. } => ExitCode::Store,
        }
    }
}

/// What an [`Error::Unavailable`] could not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// Central, the network, or a local service.
    Network,
    /// A shared token store (unreachable, sealed, or its lease lost).
    Store,
    /// The OS keyring holding the profile's record (the `keyring` store).
    Keyring(KeyringFault),
}

/// Why the OS keyring could not be used; each has its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyringFault {
    /// The keyring is locked, or its unlock prompt was dismissed: unlock it.
    Locked,
    /// No keyring service (no D-Bus session, no Secret Service): start one.
    NoService,
    /// The keyring service did not answer within the deadline.
    NoAnswer,
}

/// Exit codes shared by every central-auth binary (documented in each `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Success.
    Ok = 0,
    /// Anything not listed below (also: a command the tool's protocol rejects).
    Other = 1,
    /// Bad command line, config or input: fix it.
    Usage = 2,
    /// No usable token: run `central-auth login` or `central-auth import`.
    NeedsLogin = 3,
    /// Central rejected the client credentials or the password: fix the profile.
    CredentialsRejected = 4,
    /// Network, Central, rate limit or lock busy: try again later.
    TryLater = 5,
    /// The token store is unusable (permissions, disk): fix the path named.
    Store = 6,
    /// The OS keyring is locked or its prompt was dismissed: unlock it.
    KeyringLocked = 7,
    /// No OS keyring service is running: start it, or use the file store.
    KeyringMissing = 8,
    /// The OS keyring did not answer within the deadline: restart it.
    KeyringSilent = 9,
}

/// The text for `--help` listing the exit codes.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other failure
  2  bad command line, configuration or input (fix it)
  3  no usable token: run `central-auth login` or `central-auth import`
  4  Central rejected the client credentials or password (fix the profile)
  5  network, Central, rate limit or lock busy (try again later)
  6  token store unusable: permissions or disk (fix the path named)
  7  the OS keyring is locked or its prompt was dismissed (unlock it)
  8  no OS keyring service is running (start it, or use the file store)
  9  the OS keyring did not answer in time (restart it)";
