//! The MSP side of GreenLake (central-api.md §13.2): the RFC 8693 token
//! exchange at the tenant's workspace issuer, the tenant list
//! `GET /workspaces/v1/msp-tenants`, and two tenant-scoped APIs that accept
//! only a token for their own workspace.
//!
//! Error bodies HPE does not document are this simulator's choice
//! (docs/simulator.md), picked from RFC 8693 §2.2.2 so a client can act on the
//! status and the error code rather than on a text:
//! - a subject token that is unknown, expired, or not the MSP's: 400
//!   `{"error":"invalid_request","error_description":"subject_token is invalid or expired"}`;
//! - a tenant id with dashes or not 32 hex digits: 400 `invalid_request`;
//! - a workspace the MSP does not manage: 400 `{"error":"invalid_target",…}`;
//! - wrong client authentication (optional on the exchange): 401 `invalid_client`.
//!
//! GLP APIs answer errors with `{httpStatusCode, errorCode, message, debugId}`.

use crate::http::{Request, Response};
use crate::jwt::jwt_like;
use crate::params::{client_credentials, Params};
use crate::state::State;

/// RFC 8693's grant type.
pub const EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 8693's access-token type.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
/// The GLP tenant list.
pub const TENANTS_PATH: &str = "/workspaces/v1/msp-tenants";
/// A New Central API answered for the token's own workspace.
pub const DEVICES_PATH: &str = "/network-monitoring/v1alpha1/devices";
const WORKSPACE_PREFIX: &str = "/workspaces/v1/workspaces/";
const MAX_LIMIT: usize = 300;

/// A GLP error body.
pub fn glp_error(st: &mut State, status: u16, code: &str, message: &str) -> Response {
    let debug_id = st.rng.uuid();
    Response::json_value(
        status,
        &serde_json::json!({
            "httpStatusCode": status,
            "errorCode": code,
            "message": message,
            "debugId": debug_id,
        }),
    )
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    Response::json_value(
        status,
        &serde_json::json!({"error": error, "error_description": description}),
    )
}

/// The token exchange at `/authorization/v2/oauth2/<workspace>/token`.
pub fn exchange(st: &mut State, req: &Request, params: &Params, workspace: &str) -> Response {
    let resp = exchange_inner(st, req, params, workspace);
    if resp.status == 200 {
        st.counters.token_exchanges += 1;
    } else {
        st.counters.token_exchanges_rejected += 1;
    }
    resp
}

fn exchange_inner(st: &mut State, req: &Request, params: &Params, workspace: &str) -> Response {
    let creds = client_credentials(req, params);
    let sent_auth = !creds.id.is_empty() || creds.from_header;
    if sent_auth && (creds.id != st.cfg.gl_client_id || creds.secret != st.cfg.gl_client_secret) {
        return oauth_error(
            401,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        );
    }
    if params.get("subject_token_type") != Some(ACCESS_TOKEN_TYPE) {
        return oauth_error(
            400,
            "invalid_request",
            "subject_token_type must be urn:ietf:params:oauth:token-type:access_token",
        );
    }
    let subject_ok = params.get("subject_token").is_some_and(|t| {
        st.access_valid(t)
            && st.access.get(t).and_then(|a| a.workspace.as_deref())
                == Some(st.msp.workspace_id.as_str())
    });
    if !subject_ok {
        return oauth_error(
            400,
            "invalid_request",
            "subject_token is invalid or expired",
        );
    }
    if workspace.len() != 32 || !workspace.bytes().all(|b| b.is_ascii_hexdigit()) {
        return oauth_error(
            400,
            "invalid_request",
            "the tenant workspace id must be 32 hexadecimal digits without hyphens",
        );
    }
    let Some(tenant) = st.msp.tenant(workspace).map(|t| t.hex_id()) else {
        return oauth_error(
            400,
            "invalid_target",
            "the workspace is not a tenant of this MSP workspace",
        );
    };
    let ttl = st.cfg.glp_ttl;
    let token = jwt_like(st, &creds.id, ttl);
    st.store_cc_token(&token, &st.cfg.gl_client_id.clone(), Some(&tenant), ttl);
    let expires_in = st
        .msp
        .exchange_expires_in
        .clone()
        .unwrap_or_else(|| serde_json::json!(ttl.as_secs()));
    Response::json_value(
        200,
        &serde_json::json!({
            "access_token": token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }),
    )
    .with_header("Cache-Control", "no-store")
}

/// Is `path` one of the GLP / New Central APIs served here?
pub fn serves(path: &str) -> bool {
    path == TENANTS_PATH || path == DEVICES_PATH || path.starts_with(WORKSPACE_PREFIX)
}

/// The workspace of a live bearer token, or the GLP 401.
fn caller_workspace(st: &mut State, req: &Request, params: &Params) -> Result<String, Response> {
    let ws = crate::api::bearer(req, params)
        .filter(|t| st.access_valid(t))
        .and_then(|t| st.access.get(&t).and_then(|a| a.workspace.clone()));
    match ws {
        Some(ws) => Ok(ws),
        None => {
            st.counters.glp_unauthorized += 1;
            Err(glp_error(
                st,
                401,
                "HPE_GL_ERROR_UNAUTHORIZED",
                "Unauthorized: the access token is missing, invalid or expired",
            ))
        }
    }
}

/// Answers the APIs of [`serves`].
pub fn handle(st: &mut State, req: &Request, params: &Params) -> Response {
    if req.method != "GET" {
        return glp_error(
            st,
            405,
            "HPE_GL_ERROR_METHOD_NOT_ALLOWED",
            "Method not allowed",
        );
    }
    let ws = match caller_workspace(st, req, params) {
        Ok(ws) => ws,
        Err(resp) => return resp,
    };
    if req.path == TENANTS_PATH {
        return tenants(st, params, &ws);
    }
    let is_tenant = st.msp.tenant(&ws).is_some();
    let target = req
        .path
        .strip_prefix(WORKSPACE_PREFIX)
        .map(|w| w.replace('-', "").to_ascii_lowercase());
    if !is_tenant || target.as_ref().is_some_and(|t| *t != ws) {
        st.counters.glp_unauthorized += 1;
        return glp_error(
            st,
            401,
            "HPE_GL_ERROR_UNAUTHORIZED",
            "Unauthorized: the token is not valid for this workspace",
        );
    }
    st.counters.tenant_api_ok += 1;
    let name = st
        .msp
        .tenant(&ws)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    Response::json_value(
        200,
        &serde_json::json!({"workspaceId": ws, "workspaceName": name, "items": [], "count": 0, "total": 0}),
    )
}

/// `GET /workspaces/v1/msp-tenants` for the MSP's own token.
fn tenants(st: &mut State, params: &Params, ws: &str) -> Response {
    if ws != st.msp.workspace_id {
        st.counters.glp_unauthorized += 1;
        return glp_error(
            st,
            403,
            "HPE_GL_ERROR_FORBIDDEN",
            "Forbidden: the token's workspace is not an MSP workspace",
        );
    }
    let number = |k: &str, default: usize| match params.get(k) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| k.to_owned()),
    };
    let (offset, limit) = match (number("offset", 0), number("limit", MAX_LIMIT)) {
        (Ok(o), Ok(l)) if (1..=MAX_LIMIT).contains(&l) => (o, l),
        _ => {
            return glp_error(
                st,
                400,
                "HPE_GL_ERROR_BAD_REQUEST",
                "offset must be a whole number and limit between 1 and 300",
            )
        }
    };
    let filter = match params.get("filter").map(parse_filter) {
        None => None,
        Some(Some(f)) => Some(f),
        Some(None) => return glp_error(st, 400, "HPE_GL_ERROR_BAD_REQUEST", "unsupported filter"),
    };
    st.counters.tenant_lists += 1;
    let matching: Vec<&crate::msp_seed::Tenant> = st
        .msp
        .tenants
        .iter()
        .filter(|t| {
            filter.as_ref().is_none_or(|(k, v)| match k.as_str() {
                "workspaceName" => t.name == *v,
                "id" => t.id == *v || t.hex_id() == *v,
                _ => t.inventory_ownership == *v,
            })
        })
        .collect();
    let real_total = matching.len();
    let (from, total) = match st.msp.tenant_list {
        crate::msp_seed::TenantListMode::Honest => (offset, real_total),
        crate::msp_seed::TenantListMode::LyingTotal => (offset, real_total + 1000),
        crate::msp_seed::TenantListMode::Endless => (0, 1_000_000_000),
    };
    let items: Vec<serde_json::Value> = matching
        .iter()
        .skip(from)
        .take(limit)
        .map(|t| {
            serde_json::json!({
                "id": t.id, "type": "TENANT", "workspaceName": t.name, "generation": 1,
                "createdAt": "2025-01-01T00:00:00Z", "updatedAt": "2025-01-01T00:00:00Z",
                "createdBy": "msp-admin@example.com",
                "resourceUri": format!("/workspaces/v1/msp-tenants/{}", t.id),
                "inventoryOwnership": t.inventory_ownership,
            })
        })
        .collect();
    Response::json_value(
        200,
        &serde_json::json!({"offset": offset, "count": items.len(), "total": total, "items": items}),
    )
}

/// The OData subset the simulator understands: `<field> eq '<literal>'` on
/// `workspaceName`, `id` or `inventoryOwnership`, quotes in the literal
/// doubled (`'Bob''s Bikes'`).
fn parse_filter(filter: &str) -> Option<(String, String)> {
    let (field, rest) = filter.trim().split_once(' ')?;
    if !matches!(field, "workspaceName" | "id" | "inventoryOwnership") {
        return None;
    }
    let lit = rest.trim_start().strip_prefix("eq")?.trim_start();
    let inner = lit.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return None;
        }
        out.push(c);
    }
    Some((field.to_owned(), out))
}

#[cfg(test)]
mod tests {
    use super::parse_filter;

    #[test]
    fn filters_unquote_doubled_quotes_and_refuse_lone_ones() {
        assert_eq!(
            parse_filter("workspaceName eq 'Bob''s Bikes'"),
            Some(("workspaceName".into(), "Bob's Bikes".into()))
        );
        assert_eq!(parse_filter("workspaceName eq 'Bob's'"), None);
        assert_eq!(parse_filter("secret eq 'x'"), None);
    }
}
