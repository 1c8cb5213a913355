//! Fuzzes the Download-Token / token-response JSON parser used by `import`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let now = time::OffsetDateTime::from_unix_timestamp(1_795_843_800).expect("valid time");
        if let Err(e) = central_auth_core::import::parse(text, now) {
            // Errors are one line and never echo input values.
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "multi-line error: {msg}");
        }
    }
});
