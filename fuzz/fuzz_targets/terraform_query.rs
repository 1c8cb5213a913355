//! Fuzzes the Terraform `external` data source query parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = central_auth_terraform::query::parse(data) {
        assert!(!e.to_string().contains('\n'), "multi-line error");
    }
});
