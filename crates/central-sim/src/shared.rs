//! Operations on the shared state used by both the library API ([`Sim`](crate::Sim))
//! and the `/_sim/` control endpoints.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::faults::Fault;
use crate::gateway::{AppInfo, GatewayError, TokenInfo};
use crate::state::{Counters, State, TokenCall};

/// State plus the server's base URL.
#[derive(Debug)]
pub struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// Wraps fresh state.
    pub fn new(state: State) -> Shared {
        Shared {
            state: Mutex::new(state),
        }
    }

    /// Locks the state, ignoring poisoning.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counter snapshot.
    pub fn counters(&self) -> Counters {
        self.lock().counters.clone()
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Removes all pending faults.
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Pending faults.
    pub fn faults(&self) -> Vec<Fault> {
        self.lock().faults.pending()
    }

    /// Expires every issued access token.
    pub fn expire_access_tokens(&self) {
        self.lock().expire_access();
    }

    /// Revokes every access and refresh token.
    pub fn revoke_all(&self) {
        self.lock().revoke_all();
    }

    /// Moves the simulated clock forward.
    pub fn advance_clock(&self, by: Duration) {
        let mut st = self.lock();
        st.clock_offset += by;
        st.purge_expired();
    }

    /// Mints a pair as the Web UI would (a new token of the `default` app)
    /// and returns the Download Token JSON.
    pub fn download_token(&self) -> serde_json::Value {
        self.lock().download_new_default()
    }

    /// "+ Add Apps & Token": a new app with its own client and first token.
    pub fn create_app(
        &self,
        name: &str,
        token_name: Option<&str>,
    ) -> Result<(AppInfo, TokenInfo), GatewayError> {
        self.lock().create_app(name, token_name)
    }

    /// Adds a token to an app.
    pub fn add_token(
        &self,
        app: &str,
        token_name: Option<&str>,
    ) -> Result<TokenInfo, GatewayError> {
        self.lock().add_token(app, token_name)
    }

    /// Every app.
    pub fn apps(&self) -> Vec<AppInfo> {
        self.lock().apps()
    }

    /// Every token, or one app's.
    pub fn tokens(&self, app: Option<&str>) -> Result<Vec<TokenInfo>, GatewayError> {
        self.lock().tokens(app)
    }

    /// One token.
    pub fn token_info(&self, id: &str) -> Result<TokenInfo, GatewayError> {
        self.lock().token_info(id)
    }

    /// Download Token JSON of a token's current pair.
    pub fn download(&self, id: &str) -> Result<serde_json::Value, GatewayError> {
        self.lock().download(id)
    }

    /// Revokes one token's chain.
    pub fn revoke_token(&self, id: &str) -> Result<TokenInfo, GatewayError> {
        self.lock().revoke_token(id)
    }

    /// Would the API accept this bearer token now?
    pub fn access_token_valid(&self, token: &str) -> bool {
        self.lock().access_valid(token)
    }

    /// Is this refresh token still usable?
    pub fn refresh_token_valid(&self, token: &str) -> bool {
        let st = self.lock();
        let now = st.now();
        st.refresh
            .get(token)
            .is_some_and(|r| now < r.last_used + st.cfg.refresh_ttl)
    }

    /// Token-endpoint call log.
    pub fn token_log(&self) -> Vec<TokenCall> {
        self.lock().token_log.clone()
    }

    /// Authorization codes, session cookies and CSRF tokens issued so far.
    pub fn issued_login_secrets(&self) -> Vec<String> {
        self.lock().issued_login_secrets.clone()
    }

    /// Every access and refresh token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.lock().issued_tokens.clone()
    }

    /// Every refresh token issued so far, live or rotated.
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.lock().issued_refresh_tokens.clone()
    }

    /// Changes the rate limits (usage is kept).
    pub fn set_rate_limits(&self, per_second: u32, per_day: u32) {
        let mut st = self.lock();
        st.rate.per_second = per_second;
        st.rate.per_day = per_day;
    }

    /// Forgets all rate-limit usage.
    pub fn reset_rate_limits(&self) {
        self.lock().rate.reset();
    }
}
