//! Injected faults ([`Fault`]) and the queue that hands them out.
//!
//! Each fault applies to the next `count` matching requests, then is used
//! up. Faults are matched in the order they were injected; `/_sim/`
//! requests are never faulted. `path_prefix` is compared with the request
//! path (without query string); an empty prefix matches every path.

use serde::{Deserialize, Serialize};

use crate::http::Response;

/// A fault to inject. Serialised externally tagged, e.g.
/// `{"Status":{"path_prefix":"/oauth2/token","count":2,"status":503,"retry_after":null}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fault {
    /// Answer with `status` without processing. A 429 gets Kong's body, the
    /// rate-limit headers with `X-RateLimit-Remaining-second: 0` and
    /// `Retry-After` when given; a 401 gets Kong's `invalid_token` answer;
    /// 5xx and other statuses get a small JSON `message` body.
    Status {
        /// Requests whose path starts with this are affected.
        path_prefix: String,
        /// How many requests to affect.
        count: u32,
        /// Status code to answer.
        status: u16,
        /// Optional `Retry-After` header value in seconds.
        #[serde(default)]
        retry_after: Option<u32>,
    },
    /// 429 with `X-RateLimit-Remaining-day: 0` (and a non-zero
    /// remaining-second): the daily quota is used up.
    QuotaExhausted {
        /// Requests whose path starts with this are affected.
        path_prefix: String,
        /// How many requests to affect.
        count: u32,
    },
    /// Sleep, then process the request normally.
    Delay {
        /// Requests whose path starts with this are affected.
        path_prefix: String,
        /// How many requests to affect.
        count: u32,
        /// Delay in milliseconds.
        millis: u64,
    },
    /// On `POST /oauth2/token` with `grant_type=refresh_token`: perform the
    /// rotation (old pair dies, new pair stored, counts as a refresh), then
    /// close the TCP connection without writing a response. Only successful
    /// rotations consume it.
    RotateThenDrop {
        /// How many rotations to affect.
        count: u32,
    },
    /// On `POST /oauth2/token` with `grant_type=refresh_token`: perform the
    /// rotation (old pair dies, new pair stored, counts as a refresh), then answer
    /// `status` with `body` instead of the token JSON: a hostile or broken gateway
    /// answer that arrives after Central consumed the refresh token. In `body`,
    /// `{access_token}` and `{refresh_token}` are replaced by the new pair's
    /// tokens. Only successful rotations consume it.
    RotateThenAnswer {
        /// How many rotations to affect.
        count: u32,
        /// Status to answer (e.g. 200).
        status: u16,
        /// The body to send.
        body: String,
    },
    /// Close the connection without processing the request.
    DropConnection {
        /// Requests whose path starts with this are affected.
        path_prefix: String,
        /// How many requests to affect.
        count: u32,
    },
}

impl Fault {
    fn count_mut(&mut self) -> &mut u32 {
        match self {
            Fault::Status { count, .. }
            | Fault::QuotaExhausted { count, .. }
            | Fault::Delay { count, .. }
            | Fault::RotateThenDrop { count }
            | Fault::RotateThenAnswer { count, .. }
            | Fault::DropConnection { count, .. } => count,
        }
    }

    fn path_prefix(&self) -> Option<&str> {
        match self {
            Fault::Status { path_prefix, .. }
            | Fault::QuotaExhausted { path_prefix, .. }
            | Fault::Delay { path_prefix, .. }
            | Fault::DropConnection { path_prefix, .. } => Some(path_prefix),
            Fault::RotateThenDrop { .. } | Fault::RotateThenAnswer { .. } => None,
        }
    }
}

/// Pending faults in injection order.
#[derive(Debug, Default)]
pub struct FaultQueue {
    pending: Vec<Fault>,
}

impl FaultQueue {
    /// Adds a fault (ignored when its count is 0).
    pub fn push(&mut self, mut fault: Fault) {
        if *fault.count_mut() > 0 {
            self.pending.push(fault);
        }
    }

    /// Removes every pending fault.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Pending faults with their remaining counts.
    pub fn pending(&self) -> Vec<Fault> {
        self.pending.clone()
    }

    fn take_where(&mut self, pred: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let i = self.pending.iter().position(pred)?;
        let snapshot = self.pending[i].clone();
        let count = self.pending[i].count_mut();
        *count -= 1;
        if *count == 0 {
            self.pending.remove(i);
        }
        Some(snapshot)
    }

    /// Consumes one use of the first path-based fault matching `path`.
    pub fn take_for_path(&mut self, path: &str) -> Option<Fault> {
        self.take_where(|f| f.path_prefix().is_some_and(|p| path.starts_with(p)))
    }

    /// Consumes one use of a pending [`Fault::RotateThenDrop`], if any.
    pub fn take_rotate_then_drop(&mut self) -> bool {
        self.take_where(|f| matches!(f, Fault::RotateThenDrop { .. }))
            .is_some()
    }

    /// Consumes one use of a pending [`Fault::RotateThenAnswer`], if any, and
    /// returns its status and body.
    pub fn take_rotate_then_answer(&mut self) -> Option<(u16, String)> {
        match self.take_where(|f| matches!(f, Fault::RotateThenAnswer { .. }))? {
            Fault::RotateThenAnswer { status, body, .. } => Some((status, body)),
            _ => None,
        }
    }
}

/// Body and extra headers for a [`Fault::Status`] answer (rate-limit
/// headers are added by the router).
pub fn status_response(status: u16, retry_after: Option<u32>) -> Response {
    let mut resp = match status {
        429 => Response::json(429, r#"{"message":"API rate limit exceeded"}"#),
        401 => Response::json(
            401,
            r#"{"error":"invalid_token","error_description":"The access token is invalid or has expired"}"#,
        )
        .with_header(
            "WWW-Authenticate",
            r#"Bearer realm="service" error="invalid_token" error_description="The access token is invalid or has expired""#,
        ),
        500 => Response::json(500, r#"{"message":"An unexpected error occurred"}"#),
        502 => Response::json(
            502,
            r#"{"message":"An invalid response was received from the upstream server"}"#,
        ),
        503 => Response::json(503, r#"{"message":"Service unavailable"}"#),
        504 => Response::json(504, r#"{"message":"The upstream server is timing out"}"#),
        s => Response::json(s, r#"{"message":"Simulated fault"}"#),
    };
    if let Some(secs) = retry_after {
        resp = resp.with_header("Retry-After", secs.to_string());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut q = FaultQueue::default();
        q.push(Fault::DropConnection {
            path_prefix: "/a".into(),
            count: 2,
        });
        q.push(Fault::Delay {
            path_prefix: "".into(),
            count: 1,
            millis: 1,
        });
        q.push(Fault::RotateThenDrop { count: 0 });
        assert!(matches!(q.take_for_path("/b"), Some(Fault::Delay { .. })));
        assert!(q.take_for_path("/b").is_none());
        assert!(q.take_for_path("/a/x").is_some());
        assert!(q.take_for_path("/a").is_some());
        assert!(q.take_for_path("/a").is_none());
        assert!(!q.take_rotate_then_drop());
    }

    #[test]
    fn fault_json_is_externally_tagged() {
        let f: Fault = serde_json::from_str(
            r#"{"Status":{"path_prefix":"/oauth2/token","count":2,"status":503,"retry_after":null}}"#,
        )
        .expect("parse");
        assert_eq!(
            f,
            Fault::Status {
                path_prefix: "/oauth2/token".into(),
                count: 2,
                status: 503,
                retry_after: None
            }
        );
        let r: Fault = serde_json::from_str(r#"{"RotateThenDrop":{"count":1}}"#).expect("parse");
        assert_eq!(r, Fault::RotateThenDrop { count: 1 });
    }
}
