//! Fuzzes the config file parser and profile validation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("/fuzz/config.toml");
        match central_auth_core::Config::parse(text, path) {
            Ok(config) => {
                for profile in config.profiles.values() {
                    // Every accepted base URL is https or loopback http.
                    assert!(
                        profile.base_url.starts_with("https://")
                            || central_auth_core::config::is_loopback(
                                central_auth_core::config::host_of(&profile.base_url)
                            ),
                        "accepted {}",
                        profile.base_url
                    );
                }
            }
            Err(e) => assert!(!e.to_string().contains('\n')),
        }
    }
});
