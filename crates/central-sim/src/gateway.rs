//! The Web UI's "API Gateway": apps (API clients with their own client id
//! and secret) and, per app, several tokens. Each token is the head of a
//! refresh chain: every pair minted for it, first by the UI and then by
//! each refresh, carries the token's id as its `origin`, so revoking the
//! token kills exactly that chain's access and refresh tokens.
//!
//! A token's state is derived from the chain: `revoked` (revoked here),
//! `expired` (no usable refresh token left: idle past `refresh_ttl`),
//! `access_expired` (the current access token expired but a refresh would
//! still work), else `active`; `refresh_used` says the downloaded refresh
//! token has been exchanged at least once.
//!
//! The app the simulator starts with, `default`, holds the configured
//! classic client id and secret; the three-step OAuth login and
//! `POST /_sim/download-token` add their tokens to the app of the client id
//! they used.
//!
//! This module holds the tables and what the token endpoints record in them
//! ([`Gateway::on_issue`], [`Gateway::mark_all_revoked`]); the actions that
//! also touch the token tables (list, mint, download, revoke) are in
//! `gateway_actions`.

use serde::{Deserialize, Serialize};

use crate::config::SimConfig;

/// Name of the app the simulator starts with (configured client id).
pub const DEFAULT_APP: &str = "default";

/// The UI's "Application" for classic API tokens ("Network Operations").
pub const APPLICATION: &str = "nms";

/// Why a gateway action was refused; each maps to one HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No app with this name: list apps with `GET /_sim/apps`.
    #[error("no app named {0:?}: list apps with GET /_sim/apps")]
    UnknownApp(String),
    /// No token with this id: list tokens with `GET /_sim/tokens`.
    #[error("no token with id {0:?}: list tokens with GET /_sim/tokens")]
    UnknownToken(String),
    /// An app with this name already exists: pick another name.
    #[error("an app named {0:?} already exists: pick another name")]
    AppExists(String),
    /// The name is unusable: say how to fix it.
    #[error("invalid name {0:?}: use 1 to 64 letters, digits, '-', '_' or '.'")]
    BadName(String),
    /// The token was revoked: add a new token to the app.
    #[error("token {0} is revoked: add a new token to its app")]
    Revoked(String),
    /// The token's refresh chain expired: add a new token to the app.
    #[error("token {0} has expired (refresh token unused too long): add a new token")]
    Expired(String),
}

impl GatewayError {
    /// HTTP status the control endpoints answer with.
    pub fn status(&self) -> u16 {
        match self {
            GatewayError::UnknownApp(_) | GatewayError::UnknownToken(_) => 404,
            GatewayError::AppExists(_) => 409,
            GatewayError::BadName(_) => 400,
            GatewayError::Revoked(_) | GatewayError::Expired(_) => 410,
        }
    }
}

/// One app as stored.
#[derive(Debug, Clone)]
pub struct App {
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) credential_id: String,
    pub(crate) created_ms: u64,
}

/// One token as stored.
#[derive(Debug, Clone)]
pub struct Token {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) client_id: String,
    pub(crate) created_ms: u64,
    pub(crate) current_created_ms: u64,
    pub(crate) access_expires_ms: u64,
    pub(crate) issued: u64,
    pub(crate) revoked_ms: Option<u64>,
}

/// All apps and tokens, in creation order.
#[derive(Debug, Clone)]
pub struct Gateway {
    pub(crate) apps: Vec<App>,
    pub(crate) tokens: Vec<Token>,
    pub(crate) next_token: u64,
}

/// What a token list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// Access token valid, refresh token usable.
    Active,
    /// Access token expired; a refresh would still work.
    AccessExpired,
    /// No usable refresh token left (idle past the refresh lifetime).
    Expired,
    /// Revoked in the API Gateway.
    Revoked,
}

impl TokenStatus {
    /// Label shown on the page's badge.
    pub fn label(self) -> &'static str {
        match self {
            TokenStatus::Active => "Active",
            TokenStatus::AccessExpired => "Access expired",
            TokenStatus::Expired => "Expired",
            TokenStatus::Revoked => "Revoked",
        }
    }
}

/// An app as listed by `GET /_sim/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppInfo {
    /// App name (unique).
    pub name: String,
    /// Its classic client id.
    pub client_id: String,
    /// Its client secret (the UI shows it to the admin too).
    pub client_secret: String,
    /// The UI's "Application", always `nms`.
    pub application: String,
    /// Creation time, ms since the Unix epoch (simulated clock).
    pub created_at: u64,
    /// Number of tokens, revoked and expired included.
    pub tokens: usize,
}

/// A token as listed by `GET /_sim/tokens` (expired and revoked included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Token id (also the Download Token JSON's `id`).
    pub id: String,
    /// Token name.
    pub name: String,
    /// Name of its app.
    pub app: String,
    /// Client id of its app.
    pub client_id: String,
    /// Central user it was issued for.
    pub user: String,
    /// Creation, ms since the Unix epoch.
    pub created_at: u64,
    /// Expiry of the chain's newest access token, ms since the Unix epoch.
    pub expires_at: u64,
    /// Whether the downloaded refresh token has been exchanged.
    pub refresh_used: bool,
    /// Refreshes so far on this chain.
    pub refreshes: u64,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Revocation time, ms since the Unix epoch.
    pub revoked_at: Option<u64>,
    /// Derived state.
    pub status: TokenStatus,
}

pub(crate) fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl Gateway {
    /// A gateway holding the `default` app with the configured client.
    pub fn new(cfg: &SimConfig, credential_id: &str, now_ms: u64) -> Gateway {
        Gateway {
            apps: vec![App {
                name: DEFAULT_APP.to_string(),
                client_id: cfg.client_id.clone(),
                client_secret: cfg.client_secret.clone(),
                credential_id: credential_id.to_string(),
                created_ms: now_ms,
            }],
            tokens: Vec::new(),
            next_token: 1,
        }
    }

    /// Whether `id`/`secret` are some app's client credentials.
    pub fn client_ok(&self, id: &str, secret: &str) -> bool {
        self.apps
            .iter()
            .any(|a| a.client_id == id && a.client_secret == secret)
    }

    /// Whether `id` is some app's client id.
    pub fn is_client(&self, id: &str) -> bool {
        self.apps.iter().any(|a| a.client_id == id)
    }

    /// Records that a pair was minted for token `origin`.
    pub fn on_issue(&mut self, origin: &str, created_ms: u64, expires_ms: u64) {
        if let Some(t) = self.tokens.iter_mut().find(|t| t.id == origin) {
            t.issued += 1;
            t.current_created_ms = created_ms;
            t.access_expires_ms = expires_ms;
        }
    }

    /// Marks every token revoked (for `revoke-all`).
    pub fn mark_all_revoked(&mut self, now_ms: u64) {
        for t in &mut self.tokens {
            t.revoked_ms.get_or_insert(now_ms);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_name("ci-bot_1.2"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"x".repeat(65)));
    }
}
