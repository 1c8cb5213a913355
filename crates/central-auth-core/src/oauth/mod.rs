//! Talking to Central's token endpoints: the classic OAuth flow and refresh
//! ([`classic`]), the New Central / GreenLake client-credentials grant
//! ([`client_credentials`]), and the retry policy every call goes through
//! ([`retry`]).

pub mod classic;
pub mod client_credentials;
pub mod retry;

use serde::Deserialize;

use crate::error::Error;
use crate::http::{Response, Transport};
use crate::secret::{ExposeSecret, SecretString};

/// Receives one already-redacted line per HTTP call or lock wait (`-v` output).
pub type Log<'a> = &'a dyn Fn(&str);

/// What a gateway call needs besides the request.
pub struct Gateway<'a> {
    /// The transport (ureq in production).
    pub transport: &'a dyn Transport,
    /// Verbose log sink.
    pub log: Log<'a>,
    /// Retry policy.
    pub retry: retry::RetryPolicy,
}

/// A successful token-endpoint answer.
#[derive(Debug)]
pub struct TokenResponse {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token (classic only).
    pub refresh_token: Option<SecretString>,
    /// Token type as sent.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: SecretString,
    refresh_token: Option<SecretString>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
}

/// Default lifetime assumed when a response omits `expires_in` (classic: 2 h).
const DEFAULT_EXPIRES_IN: u64 = 7200;

impl TokenResponse {
    /// Parses a 200 token response; `what` names the call in errors.
    pub fn parse(response: &Response, what: &str) -> Result<TokenResponse, Error> {
        let raw: RawTokenResponse =
            serde_json::from_str(response.body.expose_secret()).map_err(|_| {
                Error::unavailable(format!(
                    "{what}: Central answered 200 without a valid token JSON; try again later"
                ))
            })?;
        if raw.access_token.expose_secret().trim().is_empty() {
            return Err(Error::unavailable(format!(
                "{what}: Central answered with an empty access_token; try again later"
            )));
        }
        let expires_in = match raw.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_EXPIRES_IN);
        Ok(TokenResponse {
            access_token: raw.access_token,
            refresh_token: raw
                .refresh_token
                .filter(|r| !r.expose_secret().trim().is_empty()),
            token_type: raw.token_type.unwrap_or_else(|| "bearer".to_owned()),
            expires_in,
        })
    }
}

/// The error body shapes Central's gateway uses.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    /// OAuth error code (`invalid_request`, `invalid_client`, ...).
    pub error: Option<String>,
    /// Human text (`Invalid refresh_token`, ...).
    pub error_description: Option<String>,
    /// Kong's plain message (`API rate limit exceeded`) or the login service's.
    pub message: Option<String>,
}

impl ErrorBody {
    /// Parses an error body; unknown shapes give an empty value.
    pub fn parse(response: &Response) -> ErrorBody {
        serde_json::from_str(response.body.expose_secret()).unwrap_or_default()
    }

    /// A short description for messages: status plus Central's words, at most
    /// 200 characters, control characters removed.
    pub fn describe(&self, status: u16) -> String {
        let words = [&self.error, &self.error_description, &self.message]
            .iter()
            .filter_map(|v| v.as_deref())
            .collect::<Vec<_>>()
            .join(": ");
        let words: String = words
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        if words.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status} {words}")
        }
    }

    /// True for Kong's `invalid_client` answer.
    pub fn is_invalid_client(&self) -> bool {
        self.error.as_deref() == Some("invalid_client")
    }
}

/// Runs a request through the gateway's retry policy.
pub fn send(gateway: &Gateway<'_>, request: &crate::http::Request) -> Result<Response, Error> {
    retry::send(gateway, request)
}
