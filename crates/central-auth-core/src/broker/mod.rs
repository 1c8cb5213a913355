//! The broker: the current access token of a profile, refreshed once for everyone.
//!
//! [`Broker::token`] takes the profile's exclusive lock, reads the stored token, and
//! returns it if it stays valid long enough. Otherwise it refreshes (classic) or
//! mints (client credentials), writes the result atomically, and releases the lock;
//! processes that waited then read the fresh token. A stored refresh token is only
//! ever replaced by a newer one from Central, or by an explicit `import`/`login`.
//!
//! Never hand out a token the broker has reason to believe is dead:
//!
//! - **Write-ahead rotation mark.** Before a refresh request is sent, the record
//!   is rewritten (durably) with a [`RotationMark`]: a rotation is in flight, since
//!   when, by which process. The write of the refresh's result clears it. A later
//!   holder that finds a mark whose writer is gone does not trust the stored access
//!   token on the clock's word (Kong deletes it when it rotates); it settles the
//!   question with Central by refreshing with the stored refresh token: success
//!   means the old pair was alive, `Invalid refresh_token` means the pair was
//!   rotated and the answer lost. A mark whose writer still runs on this host
//!   (possible only when the lock file was replaced under it) is waited for. The
//!   cached path only reads the record, as before.
//! - **A lost chain is state.** When Central rejects the refresh token (or
//!   answered a refresh with something unusable, or a rotated pair could not be
//!   saved) and no automatic login is possible, the record is marked lost and
//!   every later call fails fast with the login/import hint, without calling
//!   Central, until `import` or `login` replaces it.
//! - **Bounded.** One operation under the lock (secret commands and every HTTP
//!   attempt) ends within [`OPERATION_BUDGET`](crate::oauth::retry::OPERATION_BUDGET).
//!
//! One file per phase (the algorithm at the top of docs/ARCHITECTURE.md):
//! [`open`] the broker and [`choice`] of the profile, once; take the [`lock`]
//! (and wait out a live holder's rotation); [`handout`] a token that is good
//! enough; else [`renew`] it under a rotation mark, through the calls of
//! [`grant`]; [`recover`] when the chain died. Beside the algorithm:
//! [`import_login`], [`reject`], [`report`] (`status`), [`probe`] (all that
//! `doctor` may ask), and [`record`] (building records). The phases' unit
//! tests (`tests`) run over an in-memory store and a scripted transport
//! (`testing`).

mod choice;
mod grant;
mod handout;
mod import_login;
mod lock;
mod open;
mod probe;
mod record;
mod recover;
mod reject;
mod renew;
mod report;
mod tenant;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
mod unmoved;

use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::config::{Config, Profile};
use crate::home::Home;
use crate::http::Transport;
use crate::oauth::retry::RetryPolicy;
use crate::secret::SecretString;
use crate::store::TokenStore;
use crate::token::StoredToken;

pub use choice::{ProfileChoice, ProfileSource};
pub use probe::{DoctorAccess, ProbeAnswer, SecretKind};
pub use tenant::TenantEntry;

/// A token handed to a tool.
#[derive(Debug)]
pub struct AccessToken {
    /// The bearer token.
    pub token: SecretString,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// When Central issued it.
    pub issued_at: OffsetDateTime,
    /// The profile's API base URL.
    pub base_url: String,
    /// True when this call obtained it from Central (refresh, login or mint).
    pub fresh: bool,
    /// The minimum validity this call asked for.
    pub min_valid: Duration,
    /// The minimum validity actually applied: at most half the token's lifetime,
    /// so asking for more than a token can give does not refresh on every call.
    pub effective_min_valid: Duration,
}

/// What `import` did.
#[derive(Debug, PartialEq, Eq)]
pub enum ImportOutcome {
    /// The pair was stored.
    Stored {
        /// Whether it replaced an existing record.
        replaced: bool,
    },
    /// The same refresh token was already stored; nothing changed.
    AlreadyStored,
}

/// What `keepalive` did for a profile.
#[derive(Debug, PartialEq, Eq)]
pub enum KeepaliveOutcome {
    /// The refresh token was this old and has been replaced.
    Refreshed {
        /// Age before the refresh.
        age: Duration,
    },
    /// Younger than the threshold; nothing done.
    Fresh {
        /// Current age.
        age: Duration,
    },
    /// Client-credentials profile: no refresh token to keep alive.
    NotApplicable,
}

/// The token broker of one machine (or one `CENTRAL_AUTH_HOME`).
pub struct Broker {
    home: Home,
    config: Config,
    store: Box<dyn TokenStore>,
    shared: std::collections::BTreeMap<String, Box<dyn TokenStore>>,
    log: Box<dyn Fn(&str)>,
    client: Option<String>,
    retry: RetryPolicy,
    transport: Option<Box<dyn Transport>>,
    memo: Option<std::cell::RefCell<Option<Memo>>>,
    request: choice::ProfileRequest,
}

/// How long a long-lived process reuses a token it read without looking at
/// the store again, at most (see [`Broker::with_memo`]).
pub const MEMO_TTL: Duration = Duration::from_secs(30);

/// The last record `token` read or wrote, and the store's stamp of it then.
struct Memo {
    profile: String,
    stamp: crate::store::RecordStamp,
    record: StoredToken,
    at: Instant,
}

impl Broker {
    /// The loaded configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The resolved locations.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The token store that holds `profile`'s record.
    pub fn store_for(&self, profile: &Profile) -> &dyn TokenStore {
        profile
            .store
            .as_ref()
            .and_then(|name| self.shared.get(name))
            .unwrap_or(&self.store)
            .as_ref()
    }

    /// The local file store (for `store migrate`).
    pub fn file_store(&self) -> &dyn TokenStore {
        self.store.as_ref()
    }
}
