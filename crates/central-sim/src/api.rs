//! Protected Central APIs behind Kong's oauth2 plugin:
//! `GET /configuration/v2/groups`, `GET /monitoring/v1/aps`,
//! `GET /auditlogs/v1/events`.
//!
//! The bearer token is taken like Kong 0.14's `parse_access_token()`: an
//! `access_token` parameter (query or body) first, else an
//! `Authorization: Bearer <t>` header (scheme case-insensitive; `token`
//! also accepted). A non-GET method on a known path answers 405
//! `{"message":"Method not allowed"}` [UNCONFIRMED].

use crate::http::{Request, Response};
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
    matches!(
        path.trim_end_matches('/'),
        "/configuration/v2/groups" | "/monitoring/v1/aps" | "/auditlogs/v1/events"
    )
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
    let body = match req.path.trim_end_matches('/') {
        "/configuration/v2/groups" => groups(params),
        "/monitoring/v1/aps" => serde_json::json!({
            "aps": [
                {"name": "ap-lobby", "serial": "CNSIM00001", "macaddr": "20:4c:03:00:00:01",
                 "status": "Up", "group_name": "default", "model": "535"},
                {"name": "ap-branch", "serial": "CNSIM00002", "macaddr": "20:4c:03:00:00:02",
                 "status": "Down", "group_name": "branch", "model": "505"}
            ],
            "count": 2,
            "total": 2
        }),
        _ => serde_json::json!({"events": [], "total": 0}),
    };
    Response::json_value(200, &body)
}

fn groups(params: &Params) -> serde_json::Value {
    const GROUPS: [&str; 2] = ["default", "branch"];
    let offset = params
        .get("offset")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0)
        .min(GROUPS.len());
    let limit = params
        .get("limit")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(20);
    let data: Vec<[&str; 1]> = GROUPS[offset..].iter().take(limit).map(|g| [*g]).collect();
    serde_json::json!({ "data": data, "total": GROUPS.len() })
}
