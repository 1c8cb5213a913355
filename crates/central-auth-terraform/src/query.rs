//! The query the `external` data source sends on stdin.
//!
//! Terraform's `hashicorp/external` provider writes the data source's `query`
//! argument to the program's stdin as one JSON object whose values are all strings
//! (null values are dropped by the provider since 2.3.2). This module turns that
//! object into a [`Query`]. It is strict on purpose: an unknown key is most likely a
//! typo (`profle`), and silently ignoring it would hand out the default profile's
//! token instead of the intended one.

use std::io::Read;
use std::time::Duration;

use central_auth_core::duration;
use central_auth_core::Error;
use serde_json::Value;

/// Largest query accepted on stdin; a real one is well under 1 KiB.
pub const MAX_QUERY_BYTES: u64 = 64 * 1024;

/// The keys the query accepts.
pub const KEYS: &[&str] = &["profile", "min_valid"];

/// What the caller asked for. Every field is optional.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Query {
    /// The profile to use (`query = { profile = "prod" }`).
    pub profile: Option<String>,
    /// How long the token must stay valid at least (`min_valid = "10m"`).
    pub min_valid: Option<Duration>,
}

/// Reads the whole of `input` and parses it as the query.
///
/// Empty (or all-whitespace) input counts as `{}`. A key with a `null` value or an
/// empty string counts as absent, so `profile = var.profile` with an empty default
/// selects the default profile. Unknown keys, non-string values, anything that is
/// not one JSON object, a key given twice, malformed JSON and more than
/// [`MAX_QUERY_BYTES`] are [`Error::BadInput`]. No error message repeats a value
/// from the input.
pub fn parse(input: impl Read) -> Result<Query, Error> {
    let bytes =
        central_auth_core::adapter::read_bounded(input, MAX_QUERY_BYTES, "the query on stdin")?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::bad_input("the query on stdin is not UTF-8; send a JSON object of strings such as {\"profile\":\"prod\"}"))?;
    if text.trim().is_empty() {
        return Ok(Query::default());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::bad_input(format!(
            "the query on stdin is not valid JSON ({}); send a JSON object of strings such as {{\"profile\":\"prod\"}}",
            syntax_position(&e)
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(Error::bad_input(format!(
            "the query on stdin is {}, not a JSON object; send a JSON object of strings such as {{\"profile\":\"prod\"}}",
            kind(&value)
        )));
    };
    drop(map);
    // serde_json's map keeps the last of two equal keys: look at every member.
    let members = central_auth_core::adapter::json_object_members(text)
        .ok()
        .flatten()
        .unwrap_or_default();
    for (i, (key, _)) in members.iter().enumerate() {
        if members[..i].iter().any(|(k, _)| k == key) {
            return Err(Error::bad_input(format!(
                "query key {key:?} is given twice; keep one (which one was meant is not guessed)"
            )));
        }
    }
    let mut query = Query::default();
    for (key, value) in &members {
        let text = match value {
            Value::Null => continue,
            Value::String(s) if s.trim().is_empty() => continue,
            Value::String(s) => s.trim(),
            other => {
                return Err(Error::bad_input(format!(
                    "query key {key:?} must be a string, not {}; in Terraform write e.g. min_valid = \"10m\"",
                    kind(other)
                )))
            }
        };
        match key.as_str() {
            "profile" => query.profile = Some(text.to_owned()),
            "min_valid" => {
                let d = duration::parse(text)
                    .map_err(|e| Error::bad_input(format!("query key \"min_valid\": {e}")))?;
                query.min_valid = Some(d);
            }
            unknown => {
                return Err(Error::bad_input(format!(
                    "unknown query key {unknown:?}; the query accepts only {}",
                    KEYS.iter()
                        .map(|k| format!("{k:?}"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )))
            }
        }
    }
    Ok(query)
}

/// Where a JSON error is, without serde's description (which may quote input).
fn syntax_position(e: &serde_json::Error) -> String {
    if e.is_eof() {
        format!("it ends early, at line {} column {}", e.line(), e.column())
    } else {
        format!("error at line {} column {}", e.line(), e.column())
    }
}

/// A JSON value's kind, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(input: &str) -> Result<Query, Error> {
        parse(input.as_bytes())
    }

    fn message(input: &str) -> String {
        let e = q(input).expect_err("input is invalid");
        assert!(matches!(e, Error::BadInput { .. }), "{e:?}");
        let m = e.to_string();
        assert!(!m.contains('\n'), "one line: {m}");
        m
    }

    #[test]
    fn empty_stdin_is_an_empty_query() {
        assert_eq!(q("").expect("empty is fine"), Query::default());
        assert_eq!(q(" \n\t").expect("whitespace is fine"), Query::default());
    }

    #[test]
    fn empty_object_is_an_empty_query() {
        assert_eq!(q("{}").expect("{} is fine"), Query::default());
    }

    #[test]
    fn profile_and_min_valid() {
        assert_eq!(
            q(r#"{"profile":"prod","min_valid":"10m"}"#).expect("valid query"),
            Query {
                profile: Some("prod".into()),
                min_valid: Some(Duration::from_secs(600)),
            }
        );
    }

    #[test]
    fn null_and_empty_values_count_as_absent() {
        assert_eq!(
            q(r#"{"profile":"","min_valid":null}"#).expect("valid query"),
            Query::default()
        );
    }

    #[test]
    fn non_string_value_is_rejected_without_echoing_it() {
        let m = message(r#"{"min_valid":600}"#);
        assert_eq!(
            m,
            "query key \"min_valid\" must be a string, not a number; in Terraform write e.g. min_valid = \"10m\""
        );
        assert!(!m.contains("600"));
        message(r#"{"profile":["a"]}"#);
        message(r#"{"profile":true}"#);
    }

    #[test]
    fn unknown_key_is_named() {
        assert_eq!(
            message(r#"{"profle":"prod"}"#),
            "unknown query key \"profle\"; the query accepts only \"profile\" and \"min_valid\""
        );
    }

    #[test]
    fn bad_duration_is_named() {
        let m = message(r#"{"min_valid":"ten minutes"}"#);
        assert!(
            m.starts_with("query key \"min_valid\": invalid duration"),
            "{m}"
        );
    }

    #[test]
    fn not_an_object() {
        assert_eq!(
            message(r#"["profile","prod"]"#),
            "the query on stdin is an array, not a JSON object; send a JSON object of strings such as {\"profile\":\"prod\"}"
        );
        message("\"prod\"");
        message("null");
    }

    #[test]
    fn truncated_json_does_not_quote_the_input() {
        let m = message(r#"{"profile":"secret-looking-valu"#);
        assert!(m.contains("ends early"), "{m}");
        assert!(!m.contains("secret-looking"), "{m}");
        let m = message("{profile: zzzz}");
        assert!(!m.contains("zzzz"), "{m}");
    }

    #[test]
    fn duplicate_keys_and_oversized_input_are_refused() {
        let m = message(r#"{"profile":"lab","profile":"prod"}"#);
        assert!(m.contains("\"profile\" is given twice"), "{m}");
        assert!(!m.contains("lab") && !m.contains("prod"), "{m}");
        let big = format!(r#"{{"profile":"{}"}}"#, "a".repeat(70_000));
        assert!(message(&big).contains("larger than 65536 bytes"));
    }

    #[test]
    fn not_utf8() {
        let e = parse(&[0xff, 0xfe][..]).expect_err("not UTF-8");
        assert!(e.to_string().contains("not UTF-8"));
    }
}
