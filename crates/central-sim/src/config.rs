//! Simulator configuration ([`SimConfig`]).

use std::time::Duration;

/// Configuration of a simulated Central account and gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Listen address; must be loopback, e.g. `127.0.0.1:0`.
    pub listen: String,
    /// Classic API client id.
    pub client_id: String,
    /// Classic API client secret.
    pub client_secret: String,
    /// Customer id expected by the authorization-code step.
    pub customer_id: String,
    /// Central user name for the login step.
    pub username: String,
    /// Central password for the login step.
    pub password: String,
    /// Classic access-token lifetime (Central: 7200 s).
    pub access_ttl: Duration,
    /// Refresh tokens unused for this long disappear (default 15 days).
    pub refresh_ttl: Duration,
    /// GreenLake / New Central client-credentials client id.
    pub gl_client_id: String,
    /// GreenLake / New Central client-credentials client secret.
    pub gl_client_secret: String,
    /// Lifetime of client-credentials tokens from `/as/token.oauth2`
    /// (Central-scoped, default 7199 s).
    pub gl_ttl: Duration,
    /// Lifetime of tokens from a workspace issuer and of exchanged tenant
    /// tokens (GLP-scoped: 15 minutes, default 899 s).
    pub glp_ttl: Duration,
    /// Requests allowed per wall-clock second (Central: 7).
    pub rate_limit_second: u32,
    /// Requests allowed per simulated UTC day (Central: 5000).
    pub rate_limit_day: u32,
    /// Status answered to a wrong username or password (real value unknown).
    pub login_failure_status: u16,
    /// Whether `/oauth2/*` and client-credentials token calls count against
    /// the app's rate limits (undocumented; default `true`: Central's docs
    /// count "all API calls" through the gateway and show the headers on
    /// every response).
    pub rate_limit_oauth: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            listen: "127.0.0.1:0".into(),
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            customer_id: "sim-customer".into(),
            username: "admin@example.com".into(),
            password: "sim-password".into(),
            access_ttl: Duration::from_secs(7200),
            refresh_ttl: Duration::from_secs(15 * 24 * 3600),
            gl_client_id: "sim-client".into(),
            gl_client_secret: "sim-secret".into(),
            gl_ttl: Duration::from_secs(7199),
            glp_ttl: Duration::from_secs(899),
            rate_limit_second: 7,
            rate_limit_day: 5000,
            login_failure_status: 401,
            rate_limit_oauth: true,
        }
    }
}
