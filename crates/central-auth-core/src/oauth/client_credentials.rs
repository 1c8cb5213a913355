//! The New Central / GreenLake client-credentials grant.
//!
//! `POST <token_url>` with `Authorization: Basic base64(id:secret)`,
//! `Content-Type: application/x-www-form-urlencoded` and body
//! `grant_type=client_credentials`, as pycentral 2.0 sends it. The answer has no
//! refresh token; an expired token is replaced by minting a new one.

use crate::config::Profile;
use crate::error::Error;
use crate::http::{Method, Request};
use crate::oauth::{send, ErrorBody, Gateway, Shape, TokenResponse};
use crate::secret::{ExposeSecret, SecretString};

/// Mints a new access token.
pub fn mint(
    gateway: &Gateway<'_>,
    profile: &Profile,
    client_secret: &SecretString,
) -> Result<TokenResponse, Error> {
    let basic =
        base64(format!("{}:{}", profile.client_id, client_secret.expose_secret()).as_bytes());
    let request = Request::new(Method::Post, &profile.token_url)
        .header("Accept", "application/json")
        .secret_header(
            "Authorization",
            SecretString::from(format!("Basic {basic}")),
        )
        .form_body(SecretString::from(
            "grant_type=client_credentials".to_owned(),
        ));
    let response = send(gateway, &request)?;
    if response.status == 200 {
        return TokenResponse::parse(&response, Shape::ClientCredentials).map_err(|e| {
            Error::unavailable(format!(
                "client credentials: the token endpoint answered 200 but {e}; nothing was stored, try again later"
            ))
        });
    }
    let body = ErrorBody::parse(&response);
    if body.is_invalid_client() || response.status == 401 {
        return Err(Error::CredentialsRejected {
            profile: profile.name.to_string(),
            what: "client id or client secret".to_owned(),
            detail: body.describe(response.status),
        });
    }
    Err(Error::unavailable(format!(
        "client credentials: the token endpoint answered {}; try again later",
        body.describe(response.status)
    )))
}

/// Standard base64 with padding.
pub fn base64(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
    }
}
