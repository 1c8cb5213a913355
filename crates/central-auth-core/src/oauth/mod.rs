//! Talking to Central's token endpoints: the classic OAuth flow and refresh
//! ([`classic`]), the New Central / GreenLake client-credentials grant
//! ([`client_credentials`]), the MSP's RFC 8693 exchange for a tenant token
//! ([`token_exchange`]) and tenant list ([`msp_tenants`]), and the retry policy every call goes through
//! ([`retry`]), through one operation's gateway context (`Gateway`).

pub mod classic;
pub mod client_credentials;
mod gateway;
pub mod msp_tenants;
pub mod retry;
pub mod token_exchange;

pub use gateway::{Gateway, Log};

use serde::Deserialize;

use crate::error::Error;
use crate::http::Response;
use crate::secret::{ExposeSecret, SecretString};

/// Longest token accepted from Central or an import (access or refresh token).
/// Classic tokens are 32 characters and GreenLake JWTs about 1.5 KiB; the bound
/// keeps a record far below the store's size limit.
pub const MAX_TOKEN_BYTES: usize = 8192;

pub use crate::token::MAX_TRUSTED_LIFETIME;

/// What kind of grant an answer belongs to: classic answers must carry a new
/// refresh token, client-credentials answers carry none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Code exchange or refresh: access and refresh token.
    Classic,
    /// Client credentials: access token only.
    ClientCredentials,
}

impl Shape {
    /// Lifetime assumed when an answer carries no `expires_in`.
    fn default_lifetime(self) -> u64 {
        match self {
            // Central's documented, fixed lifetime.
            Shape::Classic => 7200,
            // The shortest documented New Central / GreenLake lifetime (15 min):
            // minting again early costs one request, trusting too long hands
            // out dead tokens.
            Shape::ClientCredentials => 900,
        }
    }
}

/// A successful token-endpoint answer, validated.
#[derive(Debug)]
pub struct TokenResponse {
    /// The new access token.
    pub access_token: SecretString,
    /// The new refresh token (classic only).
    pub refresh_token: Option<SecretString>,
    /// Token type, lowercase (`bearer`).
    pub token_type: String,
    /// Lifetime in seconds, at most [`MAX_TRUSTED_LIFETIME`].
    pub expires_in: u64,
    /// The lifetime Central sent when it was larger and has been clamped.
    pub clamped_from: Option<u64>,
}

/// Why a 200 answer from a token endpoint cannot be used. The message names the
/// field and the rule, never a value from the answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadAnswer(pub String);

#[derive(Deserialize)]
struct RawTokenResponse {
    access_token: Option<serde_json::Value>,
    refresh_token: Option<serde_json::Value>,
    token_type: Option<serde_json::Value>,
    expires_in: Option<serde_json::Value>,
}

impl TokenResponse {
    /// Parses and validates a 200 token response as strictly as `import` does:
    /// tokens are 1 to [`MAX_TOKEN_BYTES`] printable ASCII characters without
    /// spaces, `token_type` is bearer, `expires_in` is a positive integer
    /// (clamped to [`MAX_TRUSTED_LIFETIME`]), and a classic answer carries a
    /// refresh token.
    pub fn parse(response: &Response, shape: Shape) -> Result<TokenResponse, BadAnswer> {
        let raw: RawTokenResponse = serde_json::from_str(response.body.expose_secret())
            .map_err(|_| BadAnswer("the body is not a JSON object with token fields".into()))?;
        let access_token = token_field(raw.access_token, "access_token")?
            .ok_or_else(|| BadAnswer("it has no access_token".into()))?;
        let refresh_token = token_field(raw.refresh_token, "refresh_token")?;
        if shape == Shape::Classic && refresh_token.is_none() {
            return Err(BadAnswer("it has no refresh_token".into()));
        }
        let token_type = match raw.token_type {
            None | Some(serde_json::Value::Null) => "bearer".to_owned(),
            Some(serde_json::Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {
                "bearer".to_owned()
            }
            Some(_) => {
                return Err(BadAnswer(
                    "its token_type is not bearer (the only type Central issues)".into(),
                ))
            }
        };
        let sent = match raw.expires_in {
            None | Some(serde_json::Value::Null) => shape.default_lifetime(),
            Some(v) => positive_integer(&v).ok_or_else(|| {
                BadAnswer("its expires_in is not a positive whole number of seconds".into())
            })?,
        };
        let expires_in = sent.min(MAX_TRUSTED_LIFETIME);
        Ok(TokenResponse {
            access_token,
            refresh_token: if shape == Shape::Classic {
                refresh_token
            } else {
                None
            },
            token_type,
            expires_in,
            clamped_from: (sent > expires_in).then_some(sent),
        })
    }
}

/// Checks a token: 1 to [`MAX_TOKEN_BYTES`] bytes, each a printable ASCII
/// character other than space (what an HTTP header and every helper protocol
/// can carry unescaped). The message names `field`, never the value.
pub fn check_token(field: &str, token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err(format!("{field} is empty"));
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(format!(
            "{field} is {} bytes, more than the {MAX_TOKEN_BYTES} a token may have",
            token.len()
        ));
    }
    if !token.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(format!(
            "{field} contains spaces, control or non-ASCII characters"
        ));
    }
    Ok(())
}

fn token_field(
    value: Option<serde_json::Value>,
    field: &str,
) -> Result<Option<SecretString>, BadAnswer> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => {
            let secret = SecretString::from(s);
            check_token(field, secret.expose_secret())
                .map_err(|e| BadAnswer(format!("its {e}")))?;
            Ok(Some(secret))
        }
        Some(_) => Err(BadAnswer(format!("its {field} is not a string"))),
    }
}

/// A JSON integer, an integral float (`1e13`) or a numeric string, if positive;
/// saturates at `u64::MAX`.
fn positive_integer(v: &serde_json::Value) -> Option<u64> {
    let n = match v {
        serde_json::Value::Number(n) => match n.as_u64() {
            Some(u) => u,
            None => {
                let f = n.as_f64()?;
                if !f.is_finite() || f.fract() != 0.0 || f < 1.0 {
                    return None;
                }
                if f >= u64::MAX as f64 {
                    u64::MAX
                } else {
                    f as u64
                }
            }
        },
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok()?,
        _ => return None,
    };
    (n > 0).then_some(n)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Response {
        Response {
            status: 200,
            headers: Vec::new(),
            body: SecretString::from(body.to_owned()),
        }
    }

    fn parse(body: &str) -> Result<TokenResponse, BadAnswer> {
        TokenResponse::parse(&answer(body), Shape::Classic)
    }

    #[test]
    fn a_normal_answer_parses() {
        let t = parse(
            r#"{"refresh_token":"R1","token_type":"bearer","access_token":"A1","expires_in":7200}"#,
        )
        .unwrap();
        assert_eq!(t.access_token.expose_secret(), "A1");
        assert_eq!(t.expires_in, 7200);
        assert!(t.clamped_from.is_none());
    }

    #[test]
    fn huge_lifetimes_are_clamped_not_trusted() {
        for e in [
            "1e13",
            "18446744073709551615",
            "\"10000000000000\"",
            "99999",
        ] {
            let t = parse(&format!(
                r#"{{"refresh_token":"R","access_token":"A","expires_in":{e}}}"#
            ))
            .unwrap();
            assert_eq!(t.expires_in, MAX_TRUSTED_LIFETIME, "{e}");
            assert!(t.clamped_from.is_some(), "{e}");
        }
    }

    #[test]
    fn hostile_answers_are_refused_without_echoing_values() {
        let long = "A".repeat(MAX_TOKEN_BYTES + 1);
        let cases = [
            (
                r#"{"refresh_token":"SECRETR","expires_in":7200}"#.to_owned(),
                "no access_token",
            ),
            (
                r#"{"access_token":"SECRETA","expires_in":7200}"#.to_owned(),
                "no refresh_token",
            ),
            (
                format!(r#"{{"access_token":"{long}","refresh_token":"R"}}"#),
                "more than",
            ),
            (
                r#"{"access_token":"SECRET\r\nX: y","refresh_token":"R"}"#.to_owned(),
                "control",
            ),
            (
                r#"{"access_token":"SECRET\u0000","refresh_token":"R"}"#.to_owned(),
                "control",
            ),
            (
                r#"{"access_token":"SECRET\u001b[31m","refresh_token":"R"}"#.to_owned(),
                "control",
            ),
            (
                r#"{"access_token":"SECRET A","refresh_token":"R"}"#.to_owned(),
                "spaces",
            ),
            (
                r#"{"access_token":"SECRETA","refresh_token":"R","token_type":"mac"}"#.to_owned(),
                "bearer",
            ),
            (
                r#"{"access_token":"SECRETA","refresh_token":"R","expires_in":-5}"#.to_owned(),
                "positive",
            ),
            (
                r#"{"access_token":"SECRETA","refresh_token":"R","expires_in":0}"#.to_owned(),
                "positive",
            ),
            (
                r#"{"access_token":"SECRETA","refresh_token":"R","expires_in":1.5}"#.to_owned(),
                "positive",
            ),
            (
                r#"{"access_token":"SECRETA","refresh_token":"R","expires_in":"soon"}"#.to_owned(),
                "positive",
            ),
            (
                r#"{"access_token":12,"refresh_token":"R"}"#.to_owned(),
                "not a string",
            ),
            ("[]".to_owned(), "not a JSON object"),
            ("".to_owned(), "not a JSON object"),
        ];
        for (body, want) in cases {
            let e = parse(&body).unwrap_err().to_string();
            assert!(e.contains(want), "{body:?} gave {e:?}");
            assert!(!e.contains("SECRET") && !e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn client_credentials_need_no_refresh_token_and_default_short() {
        let t = TokenResponse::parse(
            &answer(r#"{"access_token":"eyJ.x.y","token_type":"Bearer"}"#),
            Shape::ClientCredentials,
        )
        .unwrap();
        assert!(t.refresh_token.is_none());
        assert_eq!(t.expires_in, 900);
        assert_eq!(t.token_type, "bearer");
    }
}
