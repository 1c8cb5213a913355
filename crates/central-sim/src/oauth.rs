//! Classic Central OAuth endpoints: login (step 1), authorization code
//! (step 2) and `/oauth2/token` (code exchange and refresh).
//!
//! `/oauth2/token` follows Kong 0.14's `issue_token()`: parameters merged
//! from query and body, client credentials from parameters else Basic,
//! error precedence (client errors override an unsupported grant type),
//! `state` echoed on every answer, `Cache-Control: no-store` and
//! `Pragma: no-cache` on every answer.
//!
//! [UNCONFIRMED] bodies chosen here because no source documents them:
//! - login success: `{"status":true,"message":"Login Successful"}`;
//! - login failure (`login_failure_status`, default 401):
//!   `{"status":false,"message":"Invalid username or password"}`;
//! - unknown `client_id` on login or authorize: 400 with Kong's
//!   `invalid_client` / `Invalid client authentication` body;
//! - authorize with a missing or wrong session cookie or `X-CSRF-TOKEN`:
//!   401 `{"error":"unauthorized","error_description":"Invalid session or CSRF token"}`;
//! - authorize with a wrong `customer_id`: 400
//!   `{"error":"invalid_request","error_description":"Invalid customer_id"}`;
//! - authorize with `response_type` other than `code`: 400
//!   `{"error":"unsupported_response_type","error_description":"Invalid response_type"}`;
//! - authorize with `scope` other than `all` or `read`: 400
//!   `{"error":"invalid_scope","error_description":"\"scope\" is not valid"}`.

use serde::Serialize;

use crate::encoding::parse_cookies;
use crate::http::{Outcome, Request, Response};
use crate::params::{client_credentials, Params};
use crate::state::State;

/// Kong's body for bad client credentials.
pub const INVALID_CLIENT: &str =
    r#"{"error":"invalid_client","error_description":"Invalid client authentication"}"#;

#[derive(Serialize)]
struct OAuthError<'a> {
    error: &'a str,
    error_description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
}

#[derive(Serialize)]
struct TokenOk<'a> {
    refresh_token: &'a str,
    token_type: &'a str,
    access_token: &'a str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
}

/// Step 1: `POST /oauth2/authorize/central/api/login?client_id=ID`.
pub fn login(st: &mut State, req: &Request, params: &Params) -> Response {
    let client_id = req.query_param("client_id").unwrap_or_default();
    if !st.gateway.is_client(&client_id) {
        return Response::json(400, INVALID_CLIENT);
    }
    let ok = params.get("username") == Some(st.cfg.username.as_str())
        && params.get("password") == Some(st.cfg.password.as_str());
    if !ok {
        st.counters.login_failed += 1;
        return Response::json(
            st.cfg.login_failure_status,
            r#"{"status":false,"message":"Invalid username or password"}"#,
        );
    }
    st.counters.login += 1;
    let csrf = st.token();
    let session = st.token();
    st.issued_login_secrets.push(session.clone());
    st.issued_login_secrets.push(csrf.clone());
    st.sessions.insert(session.clone(), csrf.clone());
    Response::json(200, r#"{"status":true,"message":"Login Successful"}"#)
        .with_header("Set-Cookie", format!("csrftoken={csrf}; Secure; Path=/"))
        .with_header(
            "Set-Cookie",
            format!("session={session}; Secure; HttpOnly; Path=/"),
        )
}

/// Step 2: `POST /oauth2/authorize/central/api?client_id=ID&response_type=code&scope=all`.
pub fn authorize(st: &mut State, req: &Request, params: &Params) -> Response {
    let client_id = req.query_param("client_id").unwrap_or_default();
    if !st.gateway.is_client(&client_id) {
        return Response::json(400, INVALID_CLIENT);
    }
    let session = req
        .header("cookie")
        .map(parse_cookies)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "session")
        .map(|(_, v)| v);
    let csrf_ok = match session.as_deref().and_then(|s| st.sessions.get(s)) {
        Some(expected) => req.header("x-csrf-token") == Some(expected.as_str()),
        None => false,
    };
    if !csrf_ok {
        return Response::json(
            401,
            r#"{"error":"unauthorized","error_description":"Invalid session or CSRF token"}"#,
        );
    }
    if req.query_param("response_type").as_deref() != Some("code") {
        return Response::json(
            400,
            r#"{"error":"unsupported_response_type","error_description":"Invalid response_type"}"#,
        );
    }
    let scope = req.query_param("scope").unwrap_or_default();
    if scope != "all" && scope != "read" {
        return Response::json(
            400,
            r#"{"error":"invalid_scope","error_description":"\"scope\" is not valid"}"#,
        );
    }
    if params.get("customer_id") != Some(st.cfg.customer_id.as_str()) {
        return Response::json(
            400,
            r#"{"error":"invalid_request","error_description":"Invalid customer_id"}"#,
        );
    }
    st.counters.authorize += 1;
    let code = st.issue_code(&scope, &client_id);
    Response::json_value(200, &serde_json::json!({ "auth_code": code }))
}

/// Step 3 and refresh: `POST /oauth2/token`.
pub fn token(st: &mut State, req: &Request, params: &Params) -> Outcome {
    let grant_type = params.get("grant_type").unwrap_or_default();
    let state_param = params.get("state");
    let mut error: Option<(u16, &str, &str)> = None;
    if grant_type != "authorization_code" && grant_type != "refresh_token" {
        error = Some((400, "unsupported_grant_type", "Invalid grant_type"));
    }
    let creds = client_credentials(req, params);
    let client_status = if creds.from_header { 401 } else { 400 };
    let bad_client = (
        client_status,
        "invalid_client",
        "Invalid client authentication",
    );
    if !st.gateway.client_ok(&creds.id, &creds.secret) {
        error = Some(bad_client);
    }
    let mut pair = None;
    if error.is_none() {
        if grant_type == "authorization_code" {
            match params.get("code").and_then(|c| st.take_code(c)) {
                // Kong: a code issued to another client is invalid_client.
                Some(code) if code.client_id != creds.id => error = Some(bad_client),
                Some(code) => {
                    st.counters.code_exchange += 1;
                    pair = Some(st.mint_token(&creds.id, Some("oauth-login"), &code.scope).1);
                }
                None => error = Some((400, "invalid_request", "Invalid code")),
            }
        } else if params
            .get("refresh_token")
            .and_then(|r| st.refresh.get(r))
            .is_some_and(|r| r.client_id != creds.id)
        {
            // Kong: a refresh token issued to another client is invalid_client.
            error = Some((400, "invalid_client", "Invalid client authentication"));
        } else {
            match params.get("refresh_token").and_then(|r| st.rotate(r)) {
                Some(p) => {
                    st.counters.refresh += 1;
                    pair = Some(p);
                }
                None => error = Some((400, "invalid_request", "Invalid refresh_token")),
            }
        }
    }
    if grant_type == "refresh_token" && error.is_some() {
        st.counters.refresh_rejected += 1;
    }
    let resp = match (error, &pair) {
        (Some((status, error, error_description)), _) => {
            let mut r = Response::json_value(
                status,
                &OAuthError {
                    error,
                    error_description,
                    state: state_param,
                },
            );
            if status == 401 {
                r = r.with_header("WWW-Authenticate", r#"Basic realm="OAuth2.0""#);
            }
            r
        }
        (None, Some(p)) => Response::json_value(
            200,
            &TokenOk {
                refresh_token: &p.refresh_token,
                token_type: "bearer",
                access_token: &p.access_token,
                expires_in: st.cfg.access_ttl.as_secs(),
                state: state_param,
            },
        ),
        (None, None) => Response::json(500, r#"{"message":"An unexpected error occurred"}"#),
    };
    if grant_type == "refresh_token" && pair.is_some() && st.faults.take_rotate_then_drop() {
        st.counters.faults_served += 1;
        return Outcome::Drop;
    }
    if let (true, Some(p)) = (grant_type == "refresh_token", &pair) {
        if let Some((status, body)) = st.faults.take_rotate_then_answer() {
            st.counters.faults_served += 1;
            let body = body
                .replace("{access_token}", &p.access_token)
                .replace("{refresh_token}", &p.refresh_token);
            return Outcome::Respond(
                Response::json(status, body)
                    .with_header("Cache-Control", "no-store")
                    .with_header("Pragma", "no-cache"),
            );
        }
    }
    Outcome::Respond(
        resp.with_header("Cache-Control", "no-store")
            .with_header("Pragma", "no-cache"),
    )
}
