//! The RFC 8693 token exchange an MSP uses to reach a tenant workspace
//! (central-api.md §13.2): `POST <issuer>/authorization/v2/oauth2/<tenant>/token`
//! with `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, the MSP's
//! access token as `subject_token` and its type. HPE's own sample sends no
//! client authentication, and neither does the broker.
//!
//! A refusal is classified by the HTTP status and the RFC 8693 / RFC 6749 error
//! code, never by a description text: `invalid_target`, 403 or 404 mean the
//! tenant (not managed, unknown); 401 or `invalid_request`, `invalid_grant`,
//! `invalid_client`, `invalid_token`, `token_expired` mean the subject token may
//! be dead, which one fresh MSP mint settles.

use crate::error::Error;
use crate::http::{encode, Method, Request};
use crate::oauth::{send, ErrorBody, Gateway, Shape, TokenResponse};
use crate::secret::{ExposeSecret, SecretString};

/// RFC 8693's grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693's access-token type.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Why an exchange did not give a token.
#[derive(Debug)]
pub enum ExchangeError {
    /// The issuer refused the subject (MSP) token: it may be expired or revoked.
    SubjectRefused(String),
    /// The issuer refused the tenant: not managed by this MSP, or unknown.
    TenantRefused(String),
    /// Anything else (network, 5xx, an unusable answer): try again later.
    Other(Error),
}

/// Exchanges `subject` (the MSP's access token) at `url` for a tenant token.
pub fn exchange(
    gateway: &Gateway<'_>,
    url: &str,
    subject: &SecretString,
) -> Result<TokenResponse, ExchangeError> {
    let body = SecretString::from(format!(
        "grant_type={}&subject_token={}&subject_token_type={}",
        encode(GRANT_TYPE),
        encode(subject.expose_secret()),
        encode(ACCESS_TOKEN_TYPE)
    ));
    let request = Request::new(Method::Post, url)
        .header("Accept", "application/json")
        .form_body(body);
    let response = send(gateway, &request).map_err(ExchangeError::Other)?;
    if response.status == 200 {
        return TokenResponse::parse(&response, Shape::ClientCredentials).map_err(|e| {
            ExchangeError::Other(Error::unavailable(format!(
                "token exchange: the issuer answered 200 but {e}; nothing was stored, try again later"
            )))
        });
    }
    let body = ErrorBody::parse(&response);
    let detail = body.describe(response.status);
    Err(classify(response.status, body.error.as_deref(), detail))
}

fn classify(status: u16, code: Option<&str>, detail: String) -> ExchangeError {
    match (status, code) {
        (_, Some("invalid_target")) | (403 | 404, _) => ExchangeError::TenantRefused(detail),
        (401, _)
        | (
            400,
            Some(
                "invalid_request" | "invalid_grant" | "invalid_client" | "invalid_token"
                | "token_expired",
            ),
        ) => ExchangeError::SubjectRefused(detail),
        _ => ExchangeError::Other(Error::unavailable(format!(
            "token exchange: the issuer answered {detail}; try again later"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_classified_by_status_and_code_not_text() {
        let c = |s, code| classify(s, code, String::new());
        assert!(matches!(
            c(400, Some("invalid_target")),
            ExchangeError::TenantRefused(_)
        ));
        assert!(matches!(c(403, None), ExchangeError::TenantRefused(_)));
        assert!(matches!(
            c(400, Some("invalid_request")),
            ExchangeError::SubjectRefused(_)
        ));
        assert!(matches!(
            c(401, Some("whatever")),
            ExchangeError::SubjectRefused(_)
        ));
        assert!(matches!(
            c(400, Some("token_expired")),
            ExchangeError::SubjectRefused(_)
        ));
        assert!(matches!(c(500, None), ExchangeError::Other(_)));
        assert!(matches!(c(400, Some("slow_down")), ExchangeError::Other(_)));
    }
}
