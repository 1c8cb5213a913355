//! Classic Central OAuth: the three-step login, the code exchange and refresh.
//!
//! 1. `POST /oauth2/authorize/central/api/login?client_id=…` with JSON
//!    `{username, password}` sets the `csrftoken` and `session` cookies.
//! 2. `POST /oauth2/authorize/central/api?client_id=…&response_type=code&scope=all`
//!    with `X-CSRF-TOKEN`, `Cookie: session=…` and JSON `{customer_id}` returns
//!    `{"auth_code": …}` (valid 300 s, once).
//! 3. `POST /oauth2/token` with the form body
//!    `client_id=…&client_secret=…&grant_type=authorization_code&code=…` returns
//!    the pair.
//!
//! Refresh is `POST /oauth2/token` with the form body
//! `client_id=…&client_secret=…&grant_type=refresh_token&refresh_token=…`.
//! pycentral sends these in the query string; Central's gateway reads query, form
//! and JSON alike, and a form body keeps the secrets out of request lines that
//! proxies and gateways log.

use serde::Deserialize;

use crate::config::Profile;
use crate::error::Error;
use crate::http::{Method, Request, Response};
use crate::oauth::{send, ErrorBody, Gateway, Shape, TokenResponse};
use crate::secret::{ExposeSecret, SecretString};

/// Outcome of a refresh that did not succeed in the ordinary way.
#[derive(Debug)]
pub enum RefreshError {
    /// Central said `Invalid refresh_token`: unknown, used, expired or revoked.
    RefreshTokenRejected,
    /// Central answered 200, so it consumed the refresh token, but the answer
    /// cannot be used; the message says why, without values.
    BadAnswer(String),
    /// Anything else, already a user-facing error.
    Other(Error),
}

impl From<Error> for RefreshError {
    fn from(e: Error) -> Self {
        RefreshError::Other(e)
    }
}

/// Refreshes the pair with `refresh_token`.
pub fn refresh(
    gateway: &Gateway<'_>,
    profile: &Profile,
    client_secret: &SecretString,
    refresh_token: &SecretString,
) -> Result<TokenResponse, RefreshError> {
    let request = Request::new(Method::Post, &profile.token_url).form_body(form(&[
        ("client_id", &profile.client_id),
        ("client_secret", client_secret.expose_secret()),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose_secret()),
    ]));
    let response = send(gateway, &request)?;
    if response.status == 200 {
        return TokenResponse::parse(&response, Shape::Classic)
            .map_err(|e| RefreshError::BadAnswer(e.to_string()));
    }
    let body = ErrorBody::parse(&response);
    if body.error_description.as_deref() == Some("Invalid refresh_token")
        || body.error.as_deref() == Some("invalid_grant")
    {
        return Err(RefreshError::RefreshTokenRejected);
    }
    Err(token_endpoint_error(profile, &response, &body, "refresh").into())
}

/// Logs in with username and password and returns a new pair.
pub fn login(
    gateway: &Gateway<'_>,
    profile: &Profile,
    client_secret: &SecretString,
    password: &SecretString,
) -> Result<TokenResponse, Error> {
    let username = profile.username.as_deref().ok_or_else(|| {
        Error::config(format!(
            "profile {:?} has no username; add username (and password_env or password_cmd) to log in",
            profile.name.as_str()
        ))
    })?;
    let customer_id = profile.customer_id.as_deref().ok_or_else(|| {
        Error::config(format!(
            "profile {:?} has no customer_id; add it (Central: Account Home > Global Settings > customer ID) to log in",
            profile.name.as_str()
        ))
    })?;
    let cookies = login_step(gateway, profile, username, password)?;
    let code = auth_code_step(gateway, profile, customer_id, &cookies)?;
    exchange_code(gateway, profile, client_secret, &code)
}

/// Session cookies from step 1.
struct Cookies {
    csrf: SecretString,
    session: SecretString,
}

fn login_step(
    gateway: &Gateway<'_>,
    profile: &Profile,
    username: &str,
    password: &SecretString,
) -> Result<Cookies, Error> {
    let body = serde_json::json!({ "username": username, "password": password.expose_secret() });
    let url = format!("{}/oauth2/authorize/central/api/login", profile.base_url);
    let request = Request::new(Method::Post, url)
        .query("client_id", &profile.client_id)
        .json_body(SecretString::from(body.to_string()));
    let response = send(gateway, &request)?;
    if response.status != 200 {
        let body = ErrorBody::parse(&response);
        let what = if body.is_invalid_client() {
            "client id"
        } else {
            "username or password"
        };
        return Err(rejected(profile, what, body.describe(response.status)));
    }
    let mut csrf = None;
    let mut session = None;
    for (name, value) in response.headers.iter().filter(|(k, _)| k == "set-cookie") {
        let _ = name;
        let first = value.split(';').next().unwrap_or("");
        if let Some((k, v)) = first.split_once('=') {
            match k.trim() {
                "csrftoken" => csrf = Some(SecretString::from(v.trim().to_owned())),
                "session" => session = Some(SecretString::from(v.trim().to_owned())),
                _ => {}
            }
        }
    }
    match (csrf, session) {
        (Some(csrf), Some(session)) => Ok(Cookies { csrf, session }),
        _ => Err(Error::unavailable(
            "login: Central answered 200 but set no csrftoken/session cookies; OAuth login works only for local (non-SSO) users, SSO users must download a token in the Web UI and run `central-auth import`",
        )),
    }
}

#[derive(Deserialize)]
struct AuthCode {
    auth_code: SecretString,
}

fn auth_code_step(
    gateway: &Gateway<'_>,
    profile: &Profile,
    customer_id: &str,
    cookies: &Cookies,
) -> Result<SecretString, Error> {
    let body = serde_json::json!({ "customer_id": customer_id });
    let url = format!("{}/oauth2/authorize/central/api", profile.base_url);
    let request = Request::new(Method::Post, url)
        .query("client_id", &profile.client_id)
        .query("response_type", "code")
        .query("scope", "all")
        .secret_header("X-CSRF-TOKEN", crate::secret::duplicate(&cookies.csrf))
        .secret_header(
            "Cookie",
            SecretString::from(format!("session={}", cookies.session.expose_secret())),
        )
        .json_body(SecretString::from(body.to_string()));
    let response = send(gateway, &request)?;
    if response.status != 200 {
        let body = ErrorBody::parse(&response);
        return Err(rejected(
            profile,
            "authorization request (check customer_id)",
            body.describe(response.status),
        ));
    }
    let code: AuthCode = serde_json::from_str(response.body.expose_secret()).map_err(|_| {
        Error::unavailable(
            "login: Central's authorization answer had no auth_code; try again later",
        )
    })?;
    Ok(code.auth_code)
}

fn exchange_code(
    gateway: &Gateway<'_>,
    profile: &Profile,
    client_secret: &SecretString,
    code: &SecretString,
) -> Result<TokenResponse, Error> {
    let request = Request::new(Method::Post, &profile.token_url).form_body(form(&[
        ("client_id", &profile.client_id),
        ("client_secret", client_secret.expose_secret()),
        ("grant_type", "authorization_code"),
        ("code", code.expose_secret()),
    ]));
    let response = send(gateway, &request)?;
    if response.status == 200 {
        return TokenResponse::parse(&response, Shape::Classic).map_err(|e| {
            Error::unavailable(format!(
                "code exchange: Central answered 200 but {e}; nothing was stored, try again later"
            ))
        });
    }
    let body = ErrorBody::parse(&response);
    Err(token_endpoint_error(
        profile,
        &response,
        &body,
        "code exchange",
    ))
}

/// An `application/x-www-form-urlencoded` body, kept secret.
fn form(pairs: &[(&str, &str)]) -> SecretString {
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", crate::http::encode(k), crate::http::encode(v)))
        .collect();
    SecretString::from(encoded.join("&"))
}

fn token_endpoint_error(
    profile: &Profile,
    response: &Response,
    body: &ErrorBody,
    what: &str,
) -> Error {
    if body.is_invalid_client() {
        return rejected(
            profile,
            "client id or client secret",
            body.describe(response.status),
        );
    }
    Error::unavailable(format!(
        "{what}: Central answered {} at {}; try again later",
        body.describe(response.status),
        crate::redact::redact_url(&profile.token_url)
    ))
}

fn rejected(profile: &Profile, what: &str, detail: String) -> Error {
    Error::CredentialsRejected {
        profile: profile.name.to_string(),
        what: what.to_owned(),
        detail,
    }
}
