//! The answer on stdout: an `ExecCredential` with `status.token` and
//! `status.expirationTimestamp`, in the `apiVersion` kubectl asked for.
//!
//! This is the only place the token is exposed. The timestamp is RFC 3339 in UTC
//! with whole seconds (`2026-11-28T12:00:00Z`), rounded down so client-go never
//! believes the token lives longer than it does.

use std::io::Write;

use central_auth_core::secret::ExposeSecret;
use central_auth_core::AccessToken;
use serde::Serialize;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::exec_info::{ApiVersion, KIND};

#[derive(Serialize)]
struct Answer<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    status: Status<'a>,
}

#[derive(Serialize)]
struct Status<'a> {
    token: &'a str,
    #[serde(rename = "expirationTimestamp")]
    expiration_timestamp: String,
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` in UTC, fractions of a second dropped.
pub fn timestamp(t: OffsetDateTime) -> String {
    let utc = t.to_offset(UtcOffset::UTC);
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc.format(&format)
        .unwrap_or_else(|_| central_auth_core::status::rfc3339(utc))
}

/// Writes the `ExecCredential` answer for `token` as one JSON line.
pub fn write(mut out: impl Write, version: ApiVersion, token: &AccessToken) -> std::io::Result<()> {
    let answer = Answer {
        api_version: version.as_str(),
        kind: KIND,
        status: Status {
            token: token.token.expose_secret(),
            expiration_timestamp: timestamp(token.expires_at),
        },
    };
    let mut line = serde_json::to_vec(&answer).map_err(std::io::Error::other)?;
    line.push(b'\n');
    out.write_all(&line)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_core::SecretString;
    use time::macros::datetime;

    fn token() -> AccessToken {
        AccessToken {
            token: SecretString::from("tok-abc".to_owned()),
            expires_at: datetime!(2026-11-28 13:00:00.75 +01:00),
            issued_at: datetime!(2026-11-28 13:00:00.75 +01:00) - time::Duration::hours(2),
            base_url: "https://apigw.example".into(),
            fresh: false,
            min_valid: std::time::Duration::ZERO,
            effective_min_valid: std::time::Duration::ZERO,
        }
    }

    fn answer(version: ApiVersion) -> String {
        let mut out = Vec::new();
        write(&mut out, version, &token()).expect("writes to a Vec");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn v1_answer() {
        assert_eq!(
            answer(ApiVersion::V1),
            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok-abc\",\"expirationTimestamp\":\"2026-11-28T12:00:00Z\"}}\n"
        );
    }

    #[test]
    fn v1beta1_answer() {
        let v: serde_json::Value =
            serde_json::from_str(&answer(ApiVersion::V1beta1)).expect("json");
        assert_eq!(
            v,
            serde_json::json!({
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "kind": "ExecCredential",
                "status": {"token": "tok-abc", "expirationTimestamp": "2026-11-28T12:00:00Z"}
            })
        );
    }

    #[test]
    fn timestamp_is_utc_whole_seconds() {
        assert_eq!(
            timestamp(datetime!(2026-01-02 03:04:05.999 UTC)),
            "2026-01-02T03:04:05Z"
        );
        assert_eq!(
            timestamp(datetime!(2026-01-01 00:30:00 +02:00)),
            "2025-12-31T22:30:00Z"
        );
    }
}
