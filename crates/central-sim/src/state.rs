//! Shared simulator state: the simulated clock, sessions, authorization
//! codes, token tables, counters and the token-call log.
//!
//! Everything lives behind one mutex ([`State`]); handlers lock it for the
//! duration of one request's processing (never while sleeping or doing
//! socket I/O).

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::config::SimConfig;
use crate::faults::FaultQueue;
use crate::gateway::Gateway;
use crate::ratelimit::RateLimiter;
use crate::rng::Rng;

/// Lifetime of an authorization code.
pub const CODE_TTL: Duration = Duration::from_secs(300);

/// Snapshot of what the simulator has seen.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Counters {
    /// Successful logins (step 1).
    pub login: u64,
    /// Rejected logins (wrong user name or password).
    pub login_failed: u64,
    /// Authorization codes issued (step 2).
    pub authorize: u64,
    /// Successful code exchanges (step 3).
    pub code_exchange: u64,
    /// Successful refreshes (rotations).
    pub refresh: u64,
    /// Rejected `grant_type=refresh_token` requests.
    pub refresh_rejected: u64,
    /// Client-credentials tokens issued.
    pub client_credentials: u64,
    /// Rejected client-credentials requests.
    pub client_credentials_rejected: u64,
    /// Protected API calls answered 200.
    pub api_ok: u64,
    /// Protected API calls answered 401.
    pub api_unauthorized: u64,
    /// Requests rejected by the real rate limiter (not by faults).
    pub rate_limited: u64,
    /// Requests affected by an injected fault.
    pub faults_served: u64,
    /// Every POST to a token endpoint, including failures and faults.
    pub token_requests: u64,
    /// Secret parameters (`client_secret`, `refresh_token`, `code`, `password`,
    /// `access_token`) seen in a query string, where proxies and gateways log
    /// them. Clients should send them in the body: this should stay 0.
    #[serde(default)]
    pub secrets_in_query: u64,
    /// Every request received outside the `/_sim/` control endpoints,
    /// whatever the answer: routed requests (404s, 401s, token calls, faults,
    /// dropped connections) and requests the HTTP reader refused (400, 413,
    /// 431, 501, 505). A connection closed before a request counts nothing.
    /// Tests of the proxy check it stays unchanged for a refused request.
    #[serde(default)]
    pub requests: u64,
    /// Client-credentials tokens issued at the MSP workspace's issuer (also
    /// counted in `client_credentials`).
    #[serde(default)]
    pub msp_mints: u64,
    /// RFC 8693 token exchanges answered 200.
    #[serde(default)]
    pub token_exchanges: u64,
    /// Token exchanges refused (any error).
    #[serde(default)]
    pub token_exchanges_rejected: u64,
    /// Tenant-list pages answered 200.
    #[serde(default)]
    pub tenant_lists: u64,
    /// Tenant-scoped API calls answered 200.
    #[serde(default)]
    pub tenant_api_ok: u64,
    /// GLP / New Central API calls answered 401 or 403.
    #[serde(default)]
    pub glp_unauthorized: u64,
}

/// One call to a token endpoint (`/oauth2/token` or client credentials).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TokenCall {
    /// Request path.
    pub path: String,
    /// `grant_type` parameter as sent (empty when absent).
    pub grant_type: String,
    /// Status answered; for a dropped connection the status the request
    /// would have had (200 for a rotate-then-drop, 0 for a plain drop).
    pub status: u16,
    /// The connection was closed without a response.
    pub dropped: bool,
    /// Simulated time of the call, milliseconds since the Unix epoch.
    pub unix_ms: u64,
}

/// An issued access token (classic or client credentials; both are
/// accepted by the protected APIs).
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// Expiry on the simulated clock.
    pub expires_at: SystemTime,
    /// Client id of the app it was issued to (its rate-limit bucket).
    pub client_id: String,
    /// API Gateway token (chain) it belongs to; `None` for client credentials.
    pub origin: Option<String>,
    /// The GreenLake workspace it is scoped to (workspace issuer and
    /// exchange tokens), without dashes.
    pub workspace: Option<String>,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    /// Paired access token.
    pub access_token: String,
    /// Last issue or use, on the simulated clock (idle-expiry base).
    pub last_used: SystemTime,
    /// Scope carried over to the next pair.
    pub scope: String,
    /// Client id of the app it was issued to.
    pub client_id: String,
    /// API Gateway token (chain) it belongs to.
    pub origin: String,
}

/// An issued authorization code.
#[derive(Debug, Clone)]
pub struct AuthCode {
    /// Expiry on the simulated clock.
    pub expires_at: SystemTime,
    /// Requested scope.
    pub scope: String,
    /// Client id the code was issued to.
    pub client_id: String,
}

/// A freshly minted classic token pair.
#[derive(Debug, Clone)]
pub struct Pair {
    /// Access token.
    pub access_token: String,
    /// Refresh token.
    pub refresh_token: String,
}

/// All mutable simulator state.
#[derive(Debug)]
pub struct State {
    /// Configuration (rate limits are in `rate`).
    pub cfg: SimConfig,
    /// Added to the wall clock to give the simulated clock.
    pub clock_offset: Duration,
    /// Token generator.
    pub rng: Rng,
    /// Counters.
    pub counters: Counters,
    /// Login sessions: session cookie value to csrftoken value.
    pub sessions: HashMap<String, String>,
    /// Unused authorization codes.
    pub codes: HashMap<String, AuthCode>,
    /// Live access tokens.
    pub access: HashMap<String, AccessToken>,
    /// Live refresh tokens.
    pub refresh: HashMap<String, RefreshToken>,
    /// Injected faults.
    pub faults: FaultQueue,
    /// Rate limiter.
    pub rate: RateLimiter,
    /// Token-endpoint call log.
    pub token_log: Vec<TokenCall>,
    /// Every authorization code, session cookie and CSRF token ever issued, so
    /// secret-leak audits know what to look for.
    pub issued_login_secrets: Vec<String>,
    /// Every access and refresh token ever issued (pairs and client-credentials
    /// tokens), so secret-leak audits can rescan against all of them.
    pub issued_tokens: Vec<String>,
    /// Every refresh token ever issued, live or rotated, so tests can scan
    /// disks for them.
    pub issued_refresh_tokens: Vec<String>,
    /// API Gateway apps and tokens.
    pub gateway: Gateway,
    /// The seeded MSP and its tenants.
    pub msp: crate::msp_seed::Msp,
}

impl State {
    /// Fresh state for `cfg`.
    pub fn new(cfg: SimConfig) -> State {
        let mut rng = Rng::from_os();
        let credential_id = rng.uuid();
        let gateway = Gateway::new(
            &cfg,
            &credential_id,
            unix(SystemTime::now()).as_millis() as u64,
        );
        State {
            rate: RateLimiter::new(cfg.rate_limit_second, cfg.rate_limit_day),
            cfg,
            clock_offset: Duration::ZERO,
            rng,
            counters: Counters::default(),
            sessions: HashMap::new(),
            codes: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            faults: FaultQueue::default(),
            token_log: Vec::new(),
            issued_login_secrets: Vec::new(),
            issued_tokens: Vec::new(),
            issued_refresh_tokens: Vec::new(),
            gateway,
            msp: crate::msp_seed::Msp::default(),
        }
    }

    /// The simulated current time.
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + self.clock_offset
    }

    /// Simulated time in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        unix(self.now()).as_millis() as u64
    }

    /// Index of the simulated UTC day (for the daily rate limit).
    pub fn sim_day(&self) -> i64 {
        (unix(self.now()).as_secs() / 86_400) as i64
    }

    /// A new random 32-character alphanumeric token.
    pub fn token(&mut self) -> String {
        self.rng.alnum(32)
    }

    /// Stores a new authorization code.
    pub fn issue_code(&mut self, scope: &str, client_id: &str) -> String {
        let code = self.token();
        self.issued_login_secrets.push(code.clone());
        let expires_at = self.now() + CODE_TTL;
        self.codes.insert(
            code.clone(),
            AuthCode {
                expires_at,
                scope: scope.to_string(),
                client_id: client_id.to_string(),
            },
        );
        code
    }

    /// Consumes a code; `None` if unknown, used or expired.
    pub fn take_code(&mut self, code: &str) -> Option<AuthCode> {
        let c = self.codes.remove(code)?;
        (self.now() < c.expires_at).then_some(c)
    }

    /// Mints and stores a classic access/refresh pair for `client_id`, as
    /// the newest link of API Gateway token `origin`'s chain.
    pub fn issue_pair(&mut self, scope: &str, client_id: &str, origin: &str) -> Pair {
        let access_token = self.token();
        let refresh_token = self.token();
        self.issued_tokens
            .extend([access_token.clone(), refresh_token.clone()]);
        let now = self.now();
        let expires_at = now + self.cfg.access_ttl;
        self.access.insert(
            access_token.clone(),
            AccessToken {
                expires_at,
                client_id: client_id.to_string(),
                origin: Some(origin.to_string()),
                workspace: None,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            RefreshToken {
                access_token: access_token.clone(),
                last_used: now,
                scope: scope.to_string(),
                client_id: client_id.to_string(),
                origin: origin.to_string(),
            },
        );
        self.issued_refresh_tokens.push(refresh_token.clone());
        self.gateway.on_issue(
            origin,
            unix(now).as_millis() as u64,
            unix(expires_at).as_millis() as u64,
        );
        Pair {
            access_token,
            refresh_token,
        }
    }

    /// Rotates a refresh token: the old refresh token and its access token
    /// are deleted and a new pair stored. `None` if the refresh token is
    /// unknown, already used, revoked or idle-expired (then it is removed).
    pub fn rotate(&mut self, refresh_token: &str) -> Option<Pair> {
        let old = self.refresh.remove(refresh_token)?;
        if self.now() >= old.last_used + self.cfg.refresh_ttl {
            return None;
        }
        self.access.remove(&old.access_token);
        Some(self.issue_pair(&old.scope, &old.client_id, &old.origin))
    }

    /// Stores a client-credentials or exchanged access token, scoped to
    /// `workspace` when it came from a workspace issuer.
    pub fn store_cc_token(
        &mut self,
        token: &str,
        client_id: &str,
        workspace: Option<&str>,
        ttl: Duration,
    ) {
        let expires_at = self.now() + ttl;
        self.issued_tokens.push(token.to_string());
        self.access.insert(
            token.to_string(),
            AccessToken {
                expires_at,
                client_id: client_id.to_string(),
                origin: None,
                workspace: workspace.map(str::to_owned),
            },
        );
    }

    /// Would the protected API accept this bearer token now?
    pub fn access_valid(&self, token: &str) -> bool {
        self.access
            .get(token)
            .is_some_and(|t| self.now() < t.expires_at)
    }

    /// Makes every issued access token expired as of now.
    pub fn expire_access(&mut self) {
        let now = self.now();
        for t in self.access.values_mut() {
            t.expires_at = t.expires_at.min(now);
        }
    }

    /// Revokes every access and refresh token.
    pub fn revoke_all(&mut self) {
        self.access.clear();
        self.refresh.clear();
        let now_ms = self.now_ms();
        self.gateway.mark_all_revoked(now_ms);
    }

    /// Drops refresh tokens idle longer than `refresh_ttl` and codes past
    /// their lifetime (housekeeping; lookups check expiry themselves).
    pub fn purge_expired(&mut self) {
        let now = self.now();
        let ttl = self.cfg.refresh_ttl;
        self.refresh.retain(|_, r| now < r.last_used + ttl);
        self.codes.retain(|_, c| now < c.expires_at);
    }
}

/// Duration since the Unix epoch (zero before it).
pub fn unix(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
}
