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

use serde::{Deserialize, Serialize};

use crate::config::SimConfig;
use crate::state::{Pair, State};

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
    name: String,
    client_id: String,
    client_secret: String,
    credential_id: String,
    created_ms: u64,
}

/// One token as stored.
#[derive(Debug, Clone)]
pub struct Token {
    id: String,
    name: String,
    client_id: String,
    created_ms: u64,
    current_created_ms: u64,
    access_expires_ms: u64,
    issued: u64,
    revoked_ms: Option<u64>,
}

/// All apps and tokens, in creation order.
#[derive(Debug, Clone)]
pub struct Gateway {
    apps: Vec<App>,
    tokens: Vec<Token>,
    next_token: u64,
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

fn valid_name(name: &str) -> bool {
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

impl State {
    fn app_by_name(&self, name: &str) -> Result<&App, GatewayError> {
        self.gateway
            .apps
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| GatewayError::UnknownApp(name.to_string()))
    }

    fn app_view(&self, a: &App) -> AppInfo {
        AppInfo {
            name: a.name.clone(),
            client_id: a.client_id.clone(),
            client_secret: a.client_secret.clone(),
            application: APPLICATION.to_string(),
            created_at: a.created_ms,
            tokens: self
                .gateway
                .tokens
                .iter()
                .filter(|t| t.client_id == a.client_id)
                .count(),
        }
    }

    fn token_view(&self, t: &Token) -> TokenInfo {
        let app = self
            .gateway
            .apps
            .iter()
            .find(|a| a.client_id == t.client_id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        let now = self.now();
        let chain_alive = self
            .refresh
            .values()
            .any(|r| r.origin == t.id && now < r.last_used + self.cfg.refresh_ttl);
        let status = if t.revoked_ms.is_some() {
            TokenStatus::Revoked
        } else if !chain_alive {
            TokenStatus::Expired
        } else if self.now_ms() >= t.access_expires_ms || !self.chain_access_valid(&t.id) {
            TokenStatus::AccessExpired
        } else {
            TokenStatus::Active
        };
        TokenInfo {
            id: t.id.clone(),
            name: t.name.clone(),
            app,
            client_id: t.client_id.clone(),
            user: self.cfg.username.clone(),
            created_at: t.created_ms,
            expires_at: t.access_expires_ms,
            refresh_used: t.issued > 1,
            refreshes: t.issued.saturating_sub(1),
            revoked: t.revoked_ms.is_some(),
            revoked_at: t.revoked_ms,
            status,
        }
    }

    fn chain_access_valid(&self, id: &str) -> bool {
        let now = self.now();
        self.access
            .values()
            .any(|a| a.origin.as_deref() == Some(id) && now < a.expires_at)
    }

    fn token_by_id(&self, id: &str) -> Result<&Token, GatewayError> {
        self.gateway
            .tokens
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| GatewayError::UnknownToken(id.to_string()))
    }

    /// Every app.
    pub fn apps(&self) -> Vec<AppInfo> {
        self.gateway.apps.iter().map(|a| self.app_view(a)).collect()
    }

    /// Every token (of one app when `app` is set), oldest first.
    pub fn tokens(&self, app: Option<&str>) -> Result<Vec<TokenInfo>, GatewayError> {
        let client = match app {
            Some(name) => Some(self.app_by_name(name)?.client_id.clone()),
            None => None,
        };
        Ok(self
            .gateway
            .tokens
            .iter()
            .filter(|t| client.as_ref().is_none_or(|c| *c == t.client_id))
            .map(|t| self.token_view(t))
            .collect())
    }

    /// One token.
    pub fn token_info(&self, id: &str) -> Result<TokenInfo, GatewayError> {
        Ok(self.token_view(self.token_by_id(id)?))
    }

    /// Starts a new token chain for `client_id` (mints its first pair);
    /// returns the token id and the pair.
    pub fn mint_token(
        &mut self,
        client_id: &str,
        name: Option<&str>,
        scope: &str,
    ) -> (String, Pair) {
        let id = self.rng.uuid();
        let n = self.gateway.next_token;
        self.gateway.next_token += 1;
        let now_ms = self.now_ms();
        self.gateway.tokens.push(Token {
            id: id.clone(),
            name: name.map_or_else(|| format!("token-{n}"), str::to_string),
            client_id: client_id.to_string(),
            created_ms: now_ms,
            current_created_ms: now_ms,
            access_expires_ms: now_ms,
            issued: 0,
            revoked_ms: None,
        });
        let pair = self.issue_pair(scope, client_id, &id);
        (id, pair)
    }

    /// "+ Add Apps & Token": a new app with its own client, and its first token.
    pub fn create_app(
        &mut self,
        name: &str,
        token_name: Option<&str>,
    ) -> Result<(AppInfo, TokenInfo), GatewayError> {
        if !valid_name(name) {
            return Err(GatewayError::BadName(name.to_string()));
        }
        if token_name.is_some_and(|t| !valid_name(t)) {
            return Err(GatewayError::BadName(token_name.unwrap_or_default().into()));
        }
        if self.gateway.apps.iter().any(|a| a.name == name) {
            return Err(GatewayError::AppExists(name.to_string()));
        }
        let app = App {
            name: name.to_string(),
            client_id: self.rng.alnum(32),
            client_secret: self.rng.alnum(32),
            credential_id: self.rng.uuid(),
            created_ms: self.now_ms(),
        };
        let client_id = app.client_id.clone();
        self.gateway.apps.push(app);
        let (id, _) = self.mint_token(&client_id, token_name, "all");
        let app = self.app_view(self.app_by_name(name)?);
        Ok((app, self.token_info(&id)?))
    }

    /// Adds a token to an existing app.
    pub fn add_token(
        &mut self,
        app: &str,
        token_name: Option<&str>,
    ) -> Result<TokenInfo, GatewayError> {
        if token_name.is_some_and(|t| !valid_name(t)) {
            return Err(GatewayError::BadName(token_name.unwrap_or_default().into()));
        }
        let client_id = self.app_by_name(app)?.client_id.clone();
        let (id, _) = self.mint_token(&client_id, token_name, "all");
        self.token_info(&id)
    }

    /// The ten-field Download Token JSON of the chain's current pair.
    pub fn download(&self, id: &str) -> Result<serde_json::Value, GatewayError> {
        let t = self.token_by_id(id)?;
        if t.revoked_ms.is_some() {
            return Err(GatewayError::Revoked(id.to_string()));
        }
        let now = self.now();
        let Some((refresh, r)) = self
            .refresh
            .iter()
            .find(|(_, r)| r.origin == t.id && now < r.last_used + self.cfg.refresh_ttl)
        else {
            return Err(GatewayError::Expired(id.to_string()));
        };
        let credential_id = self
            .gateway
            .apps
            .iter()
            .find(|a| a.client_id == t.client_id)
            .map(|a| a.credential_id.clone())
            .unwrap_or_default();
        Ok(serde_json::json!({
            "access_token": r.access_token,
            "appname": APPLICATION,
            "authenticated_userid": self.cfg.username,
            "created_at": t.current_created_ms,
            "credential_id": credential_id,
            "expires_in": self.cfg.access_ttl.as_secs(),
            "id": t.id,
            "refresh_token": refresh,
            "scope": r.scope,
            "token_type": "bearer",
        }))
    }

    /// Revokes one token: its chain's access and refresh tokens stop
    /// working; other tokens are untouched. Revoking twice is a no-op.
    pub fn revoke_token(&mut self, id: &str) -> Result<TokenInfo, GatewayError> {
        self.token_by_id(id)?;
        let now_ms = self.now_ms();
        self.refresh.retain(|_, r| r.origin != id);
        self.access.retain(|_, a| a.origin.as_deref() != Some(id));
        if let Some(t) = self.gateway.tokens.iter_mut().find(|t| t.id == id) {
            t.revoked_ms.get_or_insert(now_ms);
        }
        self.token_info(id)
    }

    /// Mints a token in the `default` app (what `POST /_sim/download-token`
    /// and [`Sim::download_token`](crate::Sim::download_token) do).
    pub fn download_new_default(&mut self) -> serde_json::Value {
        let client_id = self.cfg.client_id.clone();
        let (id, _) = self.mint_token(&client_id, None, "all");
        self.download(&id).unwrap_or_default()
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
