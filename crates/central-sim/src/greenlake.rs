//! New Central / HPE GreenLake client-credentials token endpoints:
//! `POST /as/token.oauth2` and
//! `POST /authorization/v2/oauth2/<workspace_id>/token`.
//!
//! Credentials come from `client_id`/`client_secret` form (or query/JSON)
//! parameters, else `Authorization: Basic`. Tokens look like JWTs (three
//! base64url parts) but are opaque random values to the simulator.
//!
//! Simplifications and [UNCONFIRMED] details:
//! - bad credentials: 401
//!   `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`
//!   (the real GreenLake description is unknown);
//! - a grant type other than `client_credentials`: 400
//!   `{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}`;
//! - the issued tokens are also accepted by the classic protected APIs
//!   until they expire (real Central keeps the two worlds apart);
//! - a token from a workspace issuer is scoped to that workspace and lives
//!   `glp_ttl` (`--glp-token-ttl`, default 899 s, GLP's 15 minutes); one from
//!   `/as/token.oauth2` lives `gl_ttl`;
//! - a tenant workspace's issuer refuses the MSP's client credentials (401
//!   `invalid_client`): the MSP reaches a tenant by the exchange only.

use crate::http::Request;
use crate::http::Response;
use crate::jwt::jwt_like;
use crate::params::{client_credentials, Params};
use crate::state::State;

/// Is `path` one of the client-credentials token endpoints?
pub fn is_token_path(path: &str) -> bool {
    if path == "/as/token.oauth2" {
        return true;
    }
    path.strip_prefix("/authorization/v2/oauth2/")
        .and_then(|rest| rest.strip_suffix("/token"))
        .is_some_and(|ws| !ws.is_empty() && !ws.contains('/'))
}

/// The workspace of a `/authorization/v2/oauth2/<workspace_id>/token` path.
fn workspace_of(path: &str) -> Option<&str> {
    path.strip_prefix("/authorization/v2/oauth2/")
        .and_then(|rest| rest.strip_suffix("/token"))
}

/// Handles a token request at a GreenLake issuer: client credentials, or
/// (at a workspace issuer) the RFC 8693 token exchange ([`crate::msp`]).
pub fn token(st: &mut State, req: &Request, params: &Params) -> Response {
    let workspace = workspace_of(&req.path).map(str::to_owned);
    if let Some(ws) = &workspace {
        if params.get("grant_type") == Some(crate::msp::EXCHANGE_GRANT) {
            return crate::msp::exchange(st, req, params, ws);
        }
    }
    let creds = client_credentials(req, params);
    // The credential belongs to the MSP workspace: a tenant's issuer refuses it.
    let tenant_issuer = workspace
        .as_deref()
        .is_some_and(|ws| st.msp.tenant(ws).is_some());
    let resp = if creds.id != st.cfg.gl_client_id
        || creds.secret != st.cfg.gl_client_secret
        || tenant_issuer
    {
        st.counters.client_credentials_rejected += 1;
        Response::json(
            401,
            r#"{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}"#,
        )
    } else if params.get("grant_type") != Some("client_credentials") {
        st.counters.client_credentials_rejected += 1;
        Response::json(
            400,
            r#"{"error":"unsupported_grant_type","error_description":"Invalid grant_type"}"#,
        )
    } else {
        st.counters.client_credentials += 1;
        // Workspace-scoped (GLP) tokens live `glp_ttl`, Central-scoped ones `gl_ttl`.
        let ttl = match &workspace {
            Some(_) => st.cfg.glp_ttl,
            None => st.cfg.gl_ttl,
        };
        let ws = workspace.map(|w| w.replace('-', "").to_ascii_lowercase());
        if ws.as_deref() == Some(st.msp.workspace_id.as_str()) {
            st.counters.msp_mints += 1;
        }
        let token = jwt_like(st, &creds.id, ttl);
        st.store_cc_token(&token, &creds.id, ws.as_deref(), ttl);
        Response::json_value(
            200,
            &serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl.as_secs(),
            }),
        )
    };
    resp.with_header("Cache-Control", "no-store")
        .with_header("Pragma", "no-cache")
}

#[cfg(test)]
mod tests {
    use super::is_token_path;

    #[test]
    fn token_paths() {
        assert!(is_token_path("/as/token.oauth2"));
        assert!(is_token_path("/authorization/v2/oauth2/ws-1/token"));
        assert!(!is_token_path("/authorization/v2/oauth2//token"));
        assert!(!is_token_path("/authorization/v2/oauth2/a/b/token"));
    }
}
