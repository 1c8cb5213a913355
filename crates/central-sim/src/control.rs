//! Test-control endpoints under `/_sim/` (never rate limited or faulted):
//!
//! | request | effect / answer |
//! |---|---|
//! | `GET /_sim/counters` | [`Counters`](crate::Counters) JSON |
//! | `POST /_sim/expire-access` | every access token expires now |
//! | `POST /_sim/revoke-all` | all access and refresh tokens revoked |
//! | `POST /_sim/advance-clock?seconds=N` | simulated clock moves forward N s |
//! | `POST /_sim/download-token` | Download Token JSON of a fresh pair |
//! | `POST /_sim/faults` | body: one [`Fault`](crate::Fault), externally tagged |
//! | `GET /_sim/faults` | pending faults |
//! | `DELETE /_sim/faults` | remove all faults |
//! | `GET /_sim/token-log` | [`TokenCall`](crate::TokenCall) list |
//! | `GET /_sim/valid?token=T` | `{"valid":bool}` |
//! | `POST /_sim/rate-limits?second=N&day=N` | change the limits |
//! | `POST /_sim/reset-rate-limits` | forget rate-limit usage |
//! | `GET /_sim/msp` | the MSP workspace, its tenants and knobs ([`Msp`](crate::Msp)) |
//! | `POST /_sim/msp?tenant_list=honest\|lying_total\|endless` | how the tenant list answers |
//! | `POST /_sim/msp?exchange_expires_in=JSON` | raw `expires_in` of exchange answers (`null`: the real lifetime) |
//! | `POST /_sim/msp?add_tenants=N&prefix=P` | add N tenants named `P-<n>` |
//!
//! The API Gateway's apps and tokens are in [`crate::gateway_http`], its
//! HTML page (`GET /_sim/`) in [`crate::page`].
//!
//! Successful actions without a natural body answer `{"ok":true}`.

use std::time::Duration;

use crate::api::not_found;
use crate::faults::Fault;
use crate::http::{Request, Response};
use crate::shared::Shared;
use crate::{gateway_http, page};

fn ok() -> Response {
    Response::json(200, r#"{"ok":true}"#)
}

fn bad(msg: &str) -> Response {
    Response::json_value(400, &serde_json::json!({ "message": msg }))
}

/// Handles a `/_sim/...` request.
pub fn handle(shared: &Shared, req: &Request) -> Response {
    let path = req.path.trim_end_matches('/');
    match (req.method.as_str(), path) {
        ("GET", "/_sim/counters") => Response::json_value(200, &shared.counters()),
        ("POST", "/_sim/expire-access") => {
            shared.expire_access_tokens();
            ok()
        }
        ("POST", "/_sim/revoke-all") => {
            shared.revoke_all();
            ok()
        }
        ("POST", "/_sim/advance-clock") => {
            match req
                .query_param("seconds")
                .and_then(|s| s.parse::<u64>().ok())
            {
                Some(secs) => {
                    shared.advance_clock(Duration::from_secs(secs));
                    ok()
                }
                None => bad("seconds must be a non-negative integer"),
            }
        }
        ("POST", "/_sim/download-token") => Response::json_value(200, &shared.download_token()),
        ("POST", "/_sim/faults") => match serde_json::from_slice::<Fault>(&req.body) {
            Ok(f) => {
                shared.inject(f);
                ok()
            }
            Err(e) => bad(&format!("invalid fault: {e}")),
        },
        ("GET", "/_sim/faults") => Response::json_value(200, &shared.faults()),
        ("DELETE", "/_sim/faults") => {
            shared.clear_faults();
            ok()
        }
        ("GET", "/_sim/token-log") => Response::json_value(200, &shared.token_log()),
        ("GET", "/_sim/valid") => {
            let token = req.query_param("token").unwrap_or_default();
            let valid = shared.access_token_valid(&token);
            Response::json_value(200, &serde_json::json!({ "valid": valid }))
        }
        ("POST", "/_sim/rate-limits") => {
            let get = |k: &str| req.query_param(k).and_then(|v| v.parse::<u32>().ok());
            let (cur_s, cur_d) = {
                let st = shared.lock();
                (st.rate.per_second, st.rate.per_day)
            };
            shared.set_rate_limits(get("second").unwrap_or(cur_s), get("day").unwrap_or(cur_d));
            ok()
        }
        ("GET", "/_sim/msp") => Response::json_value(200, &shared.lock().msp),
        ("POST", "/_sim/msp") => msp_control(shared, req),
        ("POST", "/_sim/reset-rate-limits") => {
            shared.reset_rate_limits();
            ok()
        }
        _ => page::handle(shared, req)
            .or_else(|| gateway_http::handle(shared, req))
            .unwrap_or_else(not_found),
    }
}

/// `POST /_sim/msp`: turn the MSP's knobs.
fn msp_control(shared: &Shared, req: &Request) -> Response {
    let mut st = shared.lock();
    if let Some(mode) = req.query_param("tenant_list") {
        match serde_json::from_value(serde_json::Value::String(mode)) {
            Ok(m) => st.msp.tenant_list = m,
            Err(_) => return bad("tenant_list must be honest, lying_total or endless"),
        }
    }
    if let Some(raw) = req.query_param("exchange_expires_in") {
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(serde_json::Value::Null) => st.msp.exchange_expires_in = None,
            Ok(v) => st.msp.exchange_expires_in = Some(v),
            Err(_) => return bad("exchange_expires_in must be a JSON value"),
        }
    }
    if let Some(n) = req.query_param("add_tenants") {
        let Some(n) = n.parse::<u32>().ok().filter(|n| *n <= 100_000) else {
            return bad("add_tenants must be a whole number up to 100000");
        };
        let prefix = req
            .query_param("prefix")
            .unwrap_or_else(|| "tenant".to_owned());
        st.msp.add_tenants(&prefix, n);
    }
    ok()
}
