//! Request dispatch: `/_sim/` control, injected faults, rate limiting,
//! routing to the endpoint modules, the token-call log, and the headers
//! every response carries (`X-RateLimit-*`, `Date` from the simulated
//! clock, `X-Request-Start`, `via: kong/0.14.1`, Kong latency headers,
//! `Content-Type: application/json`).

use std::time::{Duration, Instant, SystemTime};

use crate::faults::{status_response, Fault};
use crate::http::{Outcome, Request, Response};
use crate::params::{client_credentials, Params};
use crate::ratelimit::{RateHeaders, ANONYMOUS};
use crate::shared::Shared;
use crate::state::{unix, State, TokenCall};
use crate::{api, control, greenlake, msp, oauth};

const LOGIN_PATH: &str = "/oauth2/authorize/central/api/login";
const AUTHORIZE_PATH: &str = "/oauth2/authorize/central/api";
const TOKEN_PATH: &str = "/oauth2/token";

fn wall_second() -> u64 {
    unix(SystemTime::now()).as_secs()
}

fn is_token_endpoint(req: &Request) -> bool {
    req.method == "POST" && (req.path == TOKEN_PATH || greenlake::is_token_path(&req.path))
}

/// Handles one request end to end.
pub fn handle(shared: &Shared, req: &Request) -> Outcome {
    let started = Instant::now();
    if req.path == "/_sim" || req.path.starts_with("/_sim/") {
        let resp = control::handle(shared, req);
        let mut st = shared.lock();
        let (sec, day) = (wall_second(), st.sim_day());
        let rate = st.rate.snapshot(ANONYMOUS, sec, day);
        return Outcome::Respond(finish(&st, resp, rate, started));
    }

    let params = Params::from_request(req);
    let token_ep = is_token_endpoint(req);
    let grant_type = params.get("grant_type").unwrap_or_default().to_string();
    let fault = {
        let mut st = shared.lock();
        st.counters.requests += 1;
        if token_ep {
            st.counters.token_requests += 1;
        }
        st.counters.secrets_in_query += crate::params::secrets_in_query(req);
        let fault = st.faults.take_for_path(&req.path);
        if fault.is_some() {
            st.counters.faults_served += 1;
        }
        fault
    };
    let mut rate_override: Option<fn(RateHeaders) -> RateHeaders> = None;
    let mut faulted: Option<Response> = None;
    match fault {
        Some(Fault::Delay { millis, .. }) => std::thread::sleep(Duration::from_millis(millis)),
        Some(Fault::DropConnection { .. }) => {
            if token_ep {
                let mut st = shared.lock();
                log_call(&mut st, req, &grant_type, 0, true);
            }
            return Outcome::Drop;
        }
        Some(Fault::Status {
            status,
            retry_after,
            ..
        }) => {
            if status == 429 {
                rate_override = Some(|mut h| {
                    h.remaining_second = 0;
                    h
                });
            }
            faulted = Some(status_response(status, retry_after));
        }
        Some(Fault::QuotaExhausted { .. }) => {
            rate_override = Some(|mut h| {
                h.remaining_day = 0;
                h.remaining_second = h.remaining_second.max(1);
                h
            });
            faulted = Some(status_response(429, None));
        }
        Some(Fault::RotateThenDrop { .. } | Fault::RotateThenAnswer { .. }) | None => {}
    }

    let mut st = shared.lock();
    let (sec, day) = (wall_second(), st.sim_day());
    let (bucket, counted) = rate_bucket(&st, req, &params);
    let (outcome, rate) = if let Some(resp) = faulted {
        let mut rate = st.rate.snapshot(&bucket, sec, day);
        if let Some(f) = rate_override {
            rate = f(rate);
        }
        (Outcome::Respond(resp), rate)
    } else {
        let checked = if counted {
            st.rate.check(&bucket, sec, day)
        } else {
            Ok(st.rate.snapshot(&bucket, sec, day))
        };
        match checked {
            Err(rate) => {
                st.counters.rate_limited += 1;
                let resp = Response::json(429, r#"{"message":"API rate limit exceeded"}"#);
                (Outcome::Respond(resp), rate)
            }
            Ok(rate) => (route(&mut st, req, &params), rate),
        }
    };
    if token_ep {
        let (status, dropped) = match &outcome {
            Outcome::Respond(r) => (r.status, false),
            Outcome::Drop => (200, true),
        };
        log_call(&mut st, req, &grant_type, status, dropped);
    }
    match outcome {
        Outcome::Respond(resp) => Outcome::Respond(finish(&st, resp, rate, started)),
        Outcome::Drop => Outcome::Drop,
    }
}

/// The rate-limit bucket a request counts against (its client app) and
/// whether it counts at all (`/oauth2/*` and token calls only when
/// `rate_limit_oauth` is set).
fn rate_bucket(st: &State, req: &Request, params: &Params) -> (String, bool) {
    let oauth = req.path.starts_with("/oauth2/") || greenlake::is_token_path(&req.path);
    if oauth {
        let creds = client_credentials(req, params);
        let id = if creds.id.is_empty() {
            req.query_param("client_id").unwrap_or_default()
        } else {
            creds.id
        };
        let known = st.gateway.is_client(&id) || id == st.cfg.gl_client_id;
        let bucket = if known { id } else { ANONYMOUS.to_string() };
        return (bucket, st.cfg.rate_limit_oauth);
    }
    let bucket = api::bearer(req, params)
        .and_then(|t| st.access.get(&t))
        .map(|a| a.client_id.clone())
        .unwrap_or_default();
    (bucket, true)
}

fn route(st: &mut State, req: &Request, params: &Params) -> Outcome {
    let path = req.path.as_str();
    let post_only = |st: &mut State, f: fn(&mut State, &Request, &Params) -> Response| {
        if req.method == "POST" {
            f(st, req, params)
        } else {
            Response::json(405, r#"{"message":"Method not allowed"}"#)
        }
    };
    match path {
        LOGIN_PATH => Outcome::Respond(post_only(st, oauth::login)),
        AUTHORIZE_PATH => Outcome::Respond(post_only(st, oauth::authorize)),
        TOKEN_PATH if req.method == "POST" => oauth::token(st, req, params),
        TOKEN_PATH => Outcome::Respond(Response::json(405, r#"{"message":"Method not allowed"}"#)),
        p if greenlake::is_token_path(p) => Outcome::Respond(post_only(st, greenlake::token)),
        p if msp::serves(p) => Outcome::Respond(msp::handle(st, req, params)),
        p if api::is_api_path(p) => Outcome::Respond(api::handle(st, req, params)),
        _ => Outcome::Respond(api::not_found()),
    }
}

fn log_call(st: &mut State, req: &Request, grant_type: &str, status: u16, dropped: bool) {
    let unix_ms = st.now_ms();
    st.token_log.push(TokenCall {
        path: req.path.clone(),
        grant_type: grant_type.to_string(),
        status,
        dropped,
        unix_ms,
    });
}

/// Formats a time as an RFC 7231 IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    dt.format(&fmt).unwrap_or_default()
}

fn finish(st: &State, mut resp: Response, rate: RateHeaders, started: Instant) -> Response {
    let now = st.now();
    let since = unix(now);
    let mut extra = Response::json(0, "");
    rate.apply(&mut extra);
    extra.headers.extend([
        ("Date".to_string(), http_date(now)),
        (
            "X-Request-Start".to_string(),
            format!("t={}.{:03}", since.as_secs(), since.subsec_millis()),
        ),
        ("via".to_string(), "kong/0.14.1".to_string()),
        ("x-kong-proxy-latency".to_string(), "0".to_string()),
        (
            "x-kong-upstream-latency".to_string(),
            started.elapsed().as_millis().to_string(),
        ),
    ]);
    if !resp.has_header("content-type") {
        extra
            .headers
            .push(("Content-Type".to_string(), "application/json".to_string()));
    }
    // Endpoint headers (Set-Cookie, WWW-Authenticate, ...) follow the common ones.
    extra.headers.append(&mut resp.headers);
    resp.headers = extra.headers;
    resp
}

#[cfg(test)]
mod tests {
    use super::http_date;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn imf_fixdate() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
