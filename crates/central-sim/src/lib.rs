//! `central-sim`: a local simulator of the HPE Aruba Networking Central API
//! gateway (Kong 0.14) for tests of the `central-auth` token broker.
//!
//! It speaks the classic three-step OAuth flow (login, authorization code,
//! `/oauth2/token` with code and refresh grants), the New Central /
//! GreenLake client-credentials endpoints, a few protected APIs, Kong's
//! exact error bodies, statuses and headers, and Kong-style rate limiting.
//! Tests steer it in-process through [`Sim`] or over HTTP through the
//! `/_sim/` control endpoints, and can inject [`Fault`]s.
//!
//! Requests are read by `central-auth-http1`, the strict HTTP/1.1 reader the
//! loopback proxy uses too; the serving loop is hand-written on `std::net` so
//! that a fault can close the TCP connection after a request has been
//! processed.
//!
//! ```no_run
//! let sim = central_sim::Sim::start(central_sim::SimConfig::default()).expect("start");
//! let base = sim.url(); // "http://127.0.0.1:PORT"
//! # drop(base);
//! ```

mod api;
mod config;
mod control;
mod encoding;
mod faults;
mod gateway;
mod gateway_actions;
mod gateway_http;
mod greenlake;
mod http;
mod inventory;
mod inventory_json;
mod inventory_seed;
mod jwt;
mod msp;
mod msp_seed;
mod oauth;
mod page;
mod params;
mod ratelimit;
mod rng;
mod router;
mod server;
mod shared;
mod state;

use std::net::{TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

pub use config::SimConfig;
pub use faults::Fault;
pub use gateway::{AppInfo, GatewayError, TokenInfo, TokenStatus};
pub use msp_seed::{Msp, Tenant, TenantListMode, MSP_WORKSPACE_ID};
pub use state::{Counters, TokenCall};

use server::Server;
use shared::Shared;
use state::State;

/// A running simulator. Dropping it stops the server.
pub struct Sim {
    shared: Arc<Shared>,
    server: Server,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("url", &self.url()).finish()
    }
}

/// Checks that every address `listen` resolves to is a loopback address.
pub fn check_loopback(listen: &str) -> std::io::Result<()> {
    let addrs: Vec<_> = listen.to_socket_addrs()?.collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("listen address {listen} is not a loopback address"),
        ));
    }
    Ok(())
}

impl Sim {
    /// Binds `cfg.listen` (which must be loopback) and starts serving.
    pub fn start(cfg: SimConfig) -> std::io::Result<Sim> {
        check_loopback(&cfg.listen)?;
        let listener = TcpListener::bind(cfg.listen.as_str())?;
        let shared = Arc::new(Shared::new(State::new(cfg)));
        let sh = Arc::clone(&shared);
        let counted = Arc::clone(&shared);
        let hooks = server::Hooks {
            handler: Arc::new(move |req| router::handle(&sh, req)),
            refused: Arc::new(move |_| counted.lock().counters.requests += 1),
        };
        let server = Server::start(listener, hooks)?;
        Ok(Sim { shared, server })
    }

    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Changes the MSP part of the simulator (tenants, hostile-list and
    /// exchange knobs) in place.
    pub fn msp(&self, change: impl FnOnce(&mut Msp)) {
        change(&mut self.shared.lock().msp);
    }

    /// Snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.shared.counters()
    }

    /// Queues a fault for the next matching requests.
    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    /// Removes all pending faults.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Pending faults with their remaining counts.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.faults()
    }

    /// Every issued access token (classic and client credentials) expires now.
    pub fn expire_access_tokens(&self) {
        self.shared.expire_access_tokens();
    }

    /// Revokes all access and refresh tokens.
    pub fn revoke_all(&self) {
        self.shared.revoke_all();
    }

    /// Moves the simulated clock forward (token and code expiry,
    /// refresh-token idle expiry, `Date` header, daily rate-limit window).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    /// Mints a fresh pair as the Web UI would (a new token of the `default`
    /// app) and returns the ten-field "Download Token" JSON (`created_at` in
    /// milliseconds). Not a refresh.
    pub fn download_token(&self) -> serde_json::Value {
        self.shared.download_token()
    }

    /// API Gateway "+ Add Apps & Token": creates an app (a new client id and
    /// secret) with its first token. Names: 1 to 64 of `[A-Za-z0-9._-]`.
    pub fn create_app(
        &self,
        name: &str,
        token_name: Option<&str>,
    ) -> Result<(AppInfo, TokenInfo), GatewayError> {
        self.shared.create_app(name, token_name)
    }

    /// Adds a token (a new refresh chain) to an app; `default` is the app of
    /// the configured client id.
    pub fn add_token(
        &self,
        app: &str,
        token_name: Option<&str>,
    ) -> Result<TokenInfo, GatewayError> {
        self.shared.add_token(app, token_name)
    }

    /// Every app, `default` first.
    pub fn apps(&self) -> Vec<AppInfo> {
        self.shared.apps()
    }

    /// Every token (of one app when `app` is set), expired and revoked included.
    pub fn tokens(&self, app: Option<&str>) -> Result<Vec<TokenInfo>, GatewayError> {
        self.shared.tokens(app)
    }

    /// One token's state.
    pub fn token_info(&self, id: &str) -> Result<TokenInfo, GatewayError> {
        self.shared.token_info(id)
    }

    /// "Download Token": the ten-field JSON of the token's current pair (after
    /// refreshes, the newest one). Refused for revoked or expired tokens.
    pub fn download(&self, id: &str) -> Result<serde_json::Value, GatewayError> {
        self.shared.download(id)
    }

    /// "Revoke": the token's access token and refresh chain stop working;
    /// other tokens, of this app or others, are untouched.
    pub fn revoke_token(&self, id: &str) -> Result<TokenInfo, GatewayError> {
        self.shared.revoke_token(id)
    }

    /// Would the protected APIs accept this bearer token now?
    pub fn access_token_valid(&self, token: &str) -> bool {
        self.shared.access_token_valid(token)
    }

    /// Would `/oauth2/token` accept this refresh token now?
    pub fn refresh_token_valid(&self, token: &str) -> bool {
        self.shared.refresh_token_valid(token)
    }

    /// Every call to a token endpoint, in arrival order.
    pub fn token_log(&self) -> Vec<TokenCall> {
        self.shared.token_log()
    }

    /// Authorization codes, session cookies and CSRF tokens issued so far (for
    /// secret-leak audits).
    pub fn issued_login_secrets(&self) -> Vec<String> {
        self.shared.issued_login_secrets()
    }

    /// Every access and refresh token issued so far, including pairs that were
    /// rotated away or whose answer was dropped (for secret-leak audits).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.issued_tokens()
    }

    /// Every refresh token issued so far, live or rotated (for scanning disks).
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.shared.issued_refresh_tokens()
    }

    /// Changes the rate limits at run time (usage so far is kept).
    pub fn set_rate_limits(&self, per_second: u32, per_day: u32) {
        self.shared.set_rate_limits(per_second, per_day);
    }

    /// Forgets all rate-limit usage.
    pub fn reset_rate_limits(&self) {
        self.shared.reset_rate_limits();
    }

    /// Stops the server and joins its threads.
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}
