//! The answer `central-auth-ansible` prints on stdout.
//!
//! One JSON object and a newline:
//! `{"access_token": "...", "expires_at": "<RFC 3339>", "base_url": "...", "profile": "..."}`.
//! The lookup plugin `central_auth.central.token` parses it and hands
//! `access_token` to the play; `expires_at` and `profile` are only for its
//! `-vvv` display. Nothing else is ever written to stdout.

pub use central_auth_core::adapter::{render_token_json as render, write_token_json as write};

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_core::AccessToken;
    use central_auth_core::SecretString;
    use std::io::Write;
    use time::macros::datetime;

    fn token(secret: &str) -> AccessToken {
        AccessToken {
            token: SecretString::from(secret.to_owned()),
            expires_at: datetime!(2026-11-28 07:00:00 UTC),
            issued_at: datetime!(2026-11-28 07:00:00 UTC) - time::Duration::hours(2),
            base_url: "https://apigw-prod2.central.arubanetworks.com".to_owned(),
            fresh: false,
            min_valid: std::time::Duration::ZERO,
            effective_min_valid: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn answer_is_one_json_object_line() {
        let mut out = Vec::new();
        write(&mut out, "prod", &token("tok-123")).expect("writing to a Vec works");
        let text = String::from_utf8(out).expect("UTF-8");
        insta::assert_snapshot!(text, @r#"{"access_token":"tok-123","expires_at":"2026-11-28T07:00:00Z","base_url":"https://apigw-prod2.central.arubanetworks.com","profile":"prod"}
"#);
        assert!(text.ends_with('\n'));
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn answer_parses_back_with_the_exact_token() {
        // Characters that need JSON escaping survive the round trip unchanged.
        let secret = "a\"b\\c/d\u{7f}é";
        let text = String::from_utf8(render("lab", &token(secret))).expect("UTF-8");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        let map = value.as_object().expect("an object");
        assert_eq!(map.len(), 4);
        assert!(map.values().all(|v| v.is_string()));
        assert_eq!(map["access_token"], secret);
        assert_eq!(map["profile"], "lab");
        assert_eq!(map["expires_at"], "2026-11-28T07:00:00Z");
    }

    #[test]
    fn write_failure_is_reported() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let e = write(Broken, "prod", &token("t")).expect_err("the pipe is closed");
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
