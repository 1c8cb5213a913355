//! The result the program prints on stdout.
//!
//! The `external` data source requires one JSON object whose values are all
//! strings; it becomes the data source's `result` map (and is saved in the
//! Terraform state).

pub use central_auth_core::adapter::{render_token_json as render, write_token_json as write};

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_core::AccessToken;
    use central_auth_core::SecretString;
    use time::macros::datetime;

    fn token() -> AccessToken {
        AccessToken {
            token: SecretString::from("tok-\"quoted\"-123".to_owned()),
            expires_at: datetime!(2026-11-28 07:00:00 UTC),
            issued_at: datetime!(2026-11-28 07:00:00 UTC) - time::Duration::hours(2),
            base_url: "https://apigw-prod2.central.arubanetworks.com".to_owned(),
            fresh: false,
            min_valid: std::time::Duration::ZERO,
            effective_min_valid: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn answer_is_one_object_of_strings() {
        let mut out = Vec::new();
        write(&mut out, "prod", &token()).expect("writing to a Vec works");
        let text = String::from_utf8(out).expect("UTF-8");
        insta::assert_snapshot!(text, @r#"{"access_token":"tok-\"quoted\"-123","expires_at":"2026-11-28T07:00:00Z","base_url":"https://apigw-prod2.central.arubanetworks.com","profile":"prod"}
"#);
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let map = value.as_object().expect("an object");
        assert_eq!(map.len(), 4);
        assert!(map.values().all(|v| v.is_string()));
        assert_eq!(map["access_token"], "tok-\"quoted\"-123");
    }
}
