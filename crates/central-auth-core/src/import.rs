//! Parsing the token JSON a user imports.
//!
//! Two shapes are accepted: the Web UI's "Download Token" file (ten fields,
//! `created_at` in milliseconds since the epoch) and a bare token-endpoint response
//! (`access_token`, `refresh_token`, `token_type`, `expires_in`), which has no issue
//! time, so the time of import is used. Errors say which field is wrong and never
//! echo a value.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::Error;
use crate::secret::{ExposeSecret, SecretString};

/// A token pair parsed from imported JSON.
#[derive(Debug)]
pub struct ImportedToken {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token.
    pub refresh_token: SecretString,
    /// `bearer`.
    pub token_type: String,
    /// Issue time (`created_at`, or the time of import).
    pub issued_at: OffsetDateTime,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// True when the input was a Web UI download (it carried `created_at`).
    pub from_download: bool,
}

#[derive(Deserialize)]
struct Raw {
    access_token: Option<SecretString>,
    refresh_token: Option<SecretString>,
    token_type: Option<String>,
    expires_in: Option<serde_json::Value>,
    created_at: Option<serde_json::Value>,
}

/// How old a Web UI download is when it is past the 15-day rule (its
/// `created_at` is known and at least [`REFRESH_TOKEN_IDLE_LIMIT`] ago), else
/// `None`: `import` refuses it without `--force`.
///
/// [`REFRESH_TOKEN_IDLE_LIMIT`]: crate::token::REFRESH_TOKEN_IDLE_LIMIT
pub fn dead_by_age(t: &ImportedToken, now: OffsetDateTime) -> Option<std::time::Duration> {
    let age = std::time::Duration::try_from(now - t.issued_at).ok()?;
    (t.from_download && age >= crate::token::REFRESH_TOKEN_IDLE_LIMIT).then_some(age)
}

/// When the access token of an import expired, if it has: it is stored (the
/// refresh token may still be alive), with a warning.
pub fn access_expired_at(t: &ImportedToken, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let expires_at = t.issued_at + std::time::Duration::from_secs(t.expires_in);
    (expires_at <= now).then_some(expires_at)
}

/// Largest plausible `expires_in` (one year); bigger values are typos.
const MAX_EXPIRES_IN: u64 = 366 * 86_400;

/// Parses imported token JSON; `now` is the import time.
pub fn parse(text: &str, now: OffsetDateTime) -> Result<ImportedToken, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::bad_input(
            "token input is empty; pass the JSON file downloaded from the Central Web UI (API Gateway > Token List > Download Token)",
        ));
    }
    let raw: Raw = serde_json::from_str(trimmed).map_err(|e| {
        let what = if e.is_eof() {
            "truncated JSON"
        } else if e.is_syntax() {
            "not valid JSON"
        } else {
            "not a JSON object with token fields"
        };
        Error::bad_input(format!(
            "token input is {what} (line {}, column {}); pass the Download Token JSON from the Central Web UI or a token response",
            e.line(),
            e.column()
        ))
    })?;
    let missing = |field: &str| {
        Error::bad_input(format!(
            "token JSON has no {field:?} field; pass the Download Token JSON from the Central Web UI or a token response"
        ))
    };
    let access_token =
        nonempty(raw.access_token, "access_token")?.ok_or_else(|| missing("access_token"))?;
    let refresh_token =
        nonempty(raw.refresh_token, "refresh_token")?.ok_or_else(|| missing("refresh_token"))?;
    let token_type = raw.token_type.unwrap_or_else(|| "bearer".to_owned());
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(Error::bad_input(format!(
            "token JSON has token_type {token_type:?}; only bearer tokens are supported"
        )));
    }
    let expires_in = match raw.expires_in {
        None => return Err(missing("expires_in")),
        Some(v) => as_u64(&v)
            .filter(|n| (1..=MAX_EXPIRES_IN).contains(n))
            .ok_or_else(|| {
                Error::bad_input(
                    "token JSON field \"expires_in\" must be a positive number of seconds",
                )
            })?,
    };
    let (issued_at, from_download) = match raw.created_at {
        None => (now, false),
        Some(v) => {
            let ms = as_u64(&v).ok_or_else(|| {
                Error::bad_input(
                    "token JSON field \"created_at\" must be milliseconds since the epoch",
                )
            })?;
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                .ok()
                .filter(|t| *t <= now + time::Duration::days(1) && t.year() >= 2015)
                .ok_or_else(|| {
                    Error::bad_input(
                        "token JSON field \"created_at\" is not a plausible time in milliseconds since the epoch",
                    )
                })?;
            (at, true)
        }
    };
    Ok(ImportedToken {
        access_token,
        refresh_token,
        token_type: token_type.to_ascii_lowercase(),
        issued_at,
        // As for answers from Central: never trusted longer than Central's
        // longest documented lifetime.
        expires_in: expires_in.min(crate::oauth::MAX_TRUSTED_LIFETIME),
        from_download,
    })
}

fn nonempty(v: Option<SecretString>, field: &str) -> Result<Option<SecretString>, Error> {
    match v {
        Some(s) if s.expose_secret().trim().is_empty() => Err(Error::bad_input(format!(
            "token JSON field {field:?} is empty"
        ))),
        Some(s) => match crate::oauth::check_token(field, s.expose_secret()) {
            Ok(()) => Ok(Some(s)),
            Err(e) => Err(Error::bad_input(format!("token JSON field {e}"))),
        },
        None => Ok(None),
    }
}

/// Accepts a JSON number or a numeric string (some tools quote numbers).
fn as_u64(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

    #[test]
    fn download_token_uses_created_at_in_ms() {
        let t = parse(
            r#"{"access_token":"AT","appname":"nms","authenticated_userid":"u@example.com",
               "created_at":1795000000000,"credential_id":"c1","expires_in":7200,"id":"i1",
               "refresh_token":"RT","scope":"all","token_type":"bearer"}"#,
            NOW,
        )
        .unwrap();
        assert!(t.from_download);
        assert_eq!(t.issued_at.unix_timestamp(), 1_795_000_000);
        assert_eq!(t.expires_in, 7200);
        assert_eq!(t.refresh_token.expose_secret(), "RT");
    }

    #[test]
    fn bare_response_uses_now() {
        let t = parse(
            r#"{"refresh_token":"RT","token_type":"bearer","access_token":"AT","expires_in":7200}"#,
            NOW,
        )
        .unwrap();
        assert!(!t.from_download);
        assert_eq!(t.issued_at, NOW);
    }

    #[test]
    fn bad_inputs_name_the_problem_without_values() {
        let cases = [
            ("", "empty"),
            ("   \n", "empty"),
            ("{\"access_token\":\"AT\",", "truncated"),
            ("not json", "not valid JSON"),
            ("[1,2]", "not a JSON object"),
            (
                r#"{"access_token":"SECRETAT","expires_in":7200}"#,
                "\"refresh_token\"",
            ),
            (
                r#"{"access_token":"SECRETAT","refresh_token":"R"}"#,
                "\"expires_in\"",
            ),
            (
                r#"{"access_token":"","refresh_token":"R","expires_in":1}"#,
                "is empty",
            ),
            (
                r#"{"access_token":"SECRETAT","refresh_token":"R","expires_in":-5}"#,
                "positive",
            ),
            (
                r#"{"access_token":"SECRETAT","refresh_token":"R","expires_in":7200,"created_at":"soon"}"#,
                "milliseconds",
            ),
            (
                r#"{"access_token":"SECRETAT","refresh_token":"R","expires_in":7200,"created_at":1795000000}"#,
                "plausible",
            ),
            (
                r#"{"access_token":"SECRETAT","refresh_token":"R","expires_in":7200,"token_type":"mac"}"#,
                "bearer",
            ),
        ];
        for (input, want) in cases {
            let e = parse(input, NOW).unwrap_err().to_string();
            assert!(e.contains(want), "{input:?} gave {e:?}");
            assert!(!e.contains("SECRETAT"), "{e}");
        }
    }
}
