//! Fuzzes the `KUBERNETES_EXEC_INFO` parser of the kubectl exec plugin.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = central_auth_kube::exec_info::parse(text) {
            assert!(!e.to_string().contains('\n'), "multi-line error");
        }
    }
});
