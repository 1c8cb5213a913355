//! Protected Central APIs behind Kong's oauth2 plugin: the monitoring and
//! configuration paths of [`crate::inventory::PATHS`], answered from the
//! seeded inventory.
//!
//! The bearer token is taken like Kong 0.14's `parse_access_token()`: an
//! `access_token` parameter (query or body) first, else an
//! `Authorization: Bearer <t>` header (scheme case-insensitive; `token`
//! also accepted). A non-GET method on a known path answers 405
//! `{"message":"Method not allowed"}` [UNCONFIRMED].

use crate::http::{Request, Response};
use crate::inventory;
use crate::params::Params;
use crate::state::State;

const WWW_MISSING: &str = r#"Bearer realm="service""#;
const WWW_INVALID: &str = r#"Bearer realm="service" error="invalid_token" error_description="The access token is invalid or has expired""#;

/// Kong 0.14's answer for a path no API matches.
pub fn not_found() -> Response {
    Response::json(
        404,
        r#"{"message":"no route and no API found with those values"}"#,
    )
}

/// Is `path` a protected API the simulator serves?
pub fn is_api_path(path: &str) -> bool {
    inventory::serves(path)
}

/// The bearer token as Kong 0.14 finds it (parameter first, then header).
pub fn bearer(req: &Request, params: &Params) -> Option<String> {
    if let Some(t) = params.get("access_token") {
        return Some(t.to_string());
    }
    let auth = req.header("authorization")?;
    let mut parts = auth.split_whitespace();
    let (Some(scheme), Some(token), None) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| token.to_string())
}

/// Handles a request to a path for which [`is_api_path`] is true.
pub fn handle(st: &mut State, req: &Request, params: &Params) -> Response {
    let Some(token) = bearer(req, params) else {
        st.counters.api_unauthorized += 1;
        return Response::json(
            401,
            r#"{"error":"invalid_request","error_description":"The access token is missing"}"#,
        )
        .with_header("WWW-Authenticate", WWW_MISSING);
    };
    if !st.access_valid(&token) {
        st.counters.api_unauthorized += 1;
        return Response::json(
            401,
            r#"{"error":"invalid_token","error_description":"The access token is invalid or has expired"}"#,
        )
        .with_header("WWW-Authenticate", WWW_INVALID);
    }
    if req.method != "GET" {
        return Response::json(405, r#"{"message":"Method not allowed"}"#);
    }
    st.counters.api_ok += 1;
    let now_s = st.now_ms() / 1000;
    let body = inventory::answer(&req.path, params, now_s).unwrap_or_default();
    Response::json_value(200, &body)
}
