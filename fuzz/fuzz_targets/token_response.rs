//! Fuzzes the token-endpoint answer parser (what the broker trusts after Central
//! consumed a refresh token) and the expiry arithmetic on what it accepts: no
//! panic, one-line errors that never echo the answer, and an expiry that never
//! lies beyond Central's longest documented lifetime.
#![no_main]

use central_auth_core::http::Response;
use central_auth_core::oauth::{Shape, TokenResponse, MAX_TRUSTED_LIFETIME};
use central_auth_core::secret::{ExposeSecret, SecretString};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let answer = Response {
        status: 200,
        headers: Vec::new(),
        body: SecretString::from(text.to_owned()),
    };
    for shape in [Shape::Classic, Shape::ClientCredentials] {
        match TokenResponse::parse(&answer, shape) {
            Ok(t) => {
                assert!(t.expires_in >= 1 && t.expires_in <= MAX_TRUSTED_LIFETIME);
                let at = t.access_token.expose_secret();
                assert!(!at.is_empty() && at.bytes().all(|b| (0x21..=0x7e).contains(&b)));
                let now = time::OffsetDateTime::from_unix_timestamp(1_795_843_800).expect("time");
                let end = central_auth_core::token::expiry_after(now, t.expires_in);
                assert!(end > now && end <= now + time::Duration::seconds(7200));
                let _ = central_auth_core::token::expiry_after(
                    time::OffsetDateTime::from_unix_timestamp(253_402_300_799).expect("max"),
                    u64::MAX,
                );
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(!msg.contains('\n'), "multi-line error: {msg}");
            }
        }
    }
});
