//! The New Central / GreenLake client-credentials grant.
//!
//! `POST <token_url>` with `Authorization: Basic base64(id:secret)`,
//! `Content-Type: application/x-www-form-urlencoded` and body
//! `grant_type=client_credentials`, as pycentral 2.0 sends it. The answer has no
//! refresh token; an expired token is replaced by minting a new one.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

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
    let request = Request::new(Method::Post, &profile.token_url)
        .header("Accept", "application/json")
        .secret_header("Authorization", basic_authorization(profile, client_secret))
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

/// `Basic base64(id:secret)`, encoded straight into the buffer that becomes
/// the secret (sized up front, so no copy is left in a reallocated string).
fn basic_authorization(profile: &Profile, client_secret: &SecretString) -> SecretString {
    let credentials = SecretString::from(format!(
        "{}:{}",
        profile.client_id,
        client_secret.expose_secret()
    ));
    let raw = credentials.expose_secret().as_bytes();
    let mut header = String::with_capacity("Basic ".len() + raw.len().div_ceil(3) * 4);
    header.push_str("Basic ");
    STANDARD.encode_string(raw, &mut header);
    SecretString::from(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_basic_header_is_rfc4648_base64_of_id_colon_secret() {
        let config = crate::Config::parse(
            "[profiles.p]\ngrant = \"client_credentials\"\ncluster = \"US-2\"\nclient_id = \"foo\"\nclient_secret_env = \"S\"\n",
            std::path::Path::new("/x/config.toml"),
        )
        .unwrap();
        let profile = config.select(None, None).unwrap();
        for (secret, header) in [
            ("", "Basic Zm9vOg=="),
            ("b", "Basic Zm9vOmI="),
            ("ba", "Basic Zm9vOmJh"),
            ("bar", "Basic Zm9vOmJhcg=="),
        ] {
            let got = basic_authorization(profile, &SecretString::from(secret.to_owned()));
            assert_eq!(got.expose_secret(), header);
        }
    }
}
