//! JSON control endpoints of the API Gateway model ([`crate::gateway`]):
//!
//! | request | answer |
//! |---|---|
//! | `GET /_sim/apps` | [`AppInfo`](crate::AppInfo) list |
//! | `POST /_sim/apps` body `{"name":N[,"token_name":T]}` | 201 `{"app":AppInfo,"token":TokenInfo}` |
//! | `GET /_sim/apps/NAME/tokens` | that app's [`TokenInfo`](crate::TokenInfo) list |
//! | `POST /_sim/apps/NAME/tokens` body `{"name":T}` (optional) | 201 `TokenInfo` |
//! | `GET /_sim/tokens` | every token, expired and revoked included |
//! | `GET /_sim/tokens/ID` | one `TokenInfo` |
//! | `GET` or `POST /_sim/tokens/ID/download` | the ten-field Download Token JSON (attachment) |
//! | `POST /_sim/tokens/ID/revoke` | the revoked `TokenInfo` |
//!
//! Bodies may be JSON or a form. Errors answer `{"message":"..."}` with
//! 400 (bad name), 404 (unknown app or token), 409 (app exists) or 410
//! (download of a revoked or expired token).

use crate::gateway::GatewayError;
use crate::http::{Request, Response};
use crate::params::Params;
use crate::shared::Shared;

fn error(e: &GatewayError) -> Response {
    Response::json_value(e.status(), &serde_json::json!({ "message": e.to_string() }))
}

fn answer<T: serde::Serialize>(status: u16, r: Result<T, GatewayError>) -> Response {
    match r {
        Ok(v) => Response::json_value(status, &v),
        Err(e) => error(&e),
    }
}

/// File name the browser saves a download under.
pub fn download_file_name(name: &str) -> String {
    format!("token_{name}.json")
}

/// A download response (also used by the page's link).
pub fn download(shared: &Shared, id: &str) -> Response {
    let name = shared.token_info(id).map(|t| t.name).unwrap_or_default();
    match shared.download(id) {
        Ok(v) => Response::json_value(200, &v).with_header(
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", download_file_name(&name)),
        ),
        Err(e) => error(&e),
    }
}

/// Handles a gateway control request; `None` when the path is not one.
pub fn handle(shared: &Shared, req: &Request) -> Option<Response> {
    let path = req.path.trim_end_matches('/');
    let rest = path.strip_prefix("/_sim/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let params = Params::from_request(req);
    let opt = |k: &str| params.get(k).filter(|v| !v.is_empty()).map(str::to_string);
    let resp = match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["apps"]) => Response::json_value(200, &shared.apps()),
        ("POST", ["apps"]) => {
            let name = opt("name").unwrap_or_default();
            let r = shared
                .create_app(&name, opt("token_name").as_deref())
                .map(|(app, token)| serde_json::json!({ "app": app, "token": token }));
            answer(201, r)
        }
        ("GET", ["apps", app, "tokens"]) => answer(200, shared.tokens(Some(app))),
        ("POST", ["apps", app, "tokens"]) => {
            answer(201, shared.add_token(app, opt("name").as_deref()))
        }
        ("GET", ["tokens"]) => answer(200, shared.tokens(None)),
        ("GET", ["tokens", id]) => answer(200, shared.token_info(id)),
        ("GET" | "POST", ["tokens", id, "download"]) => download(shared, id),
        ("POST", ["tokens", id, "revoke"]) => answer(200, shared.revoke_token(id)),
        _ => return None,
    };
    Some(resp)
}
