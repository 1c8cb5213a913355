//! The API Gateway's actions on the simulator state: list apps and tokens
//! with their derived status, create an app, add (mint) a token, download its
//! current pair as the Web UI's ten-field JSON, and revoke one token's chain.
//! The tables themselves are in `gateway`.

use crate::gateway::{
    valid_name, App, AppInfo, GatewayError, Token, TokenInfo, TokenStatus, APPLICATION,
};
use crate::state::{Pair, State};

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
