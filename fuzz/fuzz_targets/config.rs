//! Fuzzes the config file parser and profile validation, and the one-profile
//! read: whatever the text, reading one profile's part gives exactly that
//! profile as the whole parse does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("/fuzz/config.toml");
        sections_keep_what_they_claim(text);
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
                    let name = profile.name.as_str();
                    let part = central_auth_core::Config::parse_for(text, path, Some(name))
                        .expect("a valid file is valid for one of its profiles");
                    let read = part.select(Some(name), None).expect("the profile is read");
                    assert_eq!(format!("{read:?}"), format!("{profile:?}"));
                    assert_eq!(part.default_profile, config.default_profile);
                }
            }
            Err(e) => assert!(!e.to_string().contains('\n')),
        }
    }
});

/// On any TOML document the scan accepts, keeping one profile's sections keeps
/// that profile's table and every other top-level key exactly.
fn sections_keep_what_they_claim(text: &str) {
    use central_auth_core::sections::Sections;
    // The fast line split and the lexer agree whenever both split the text.
    if let (Some(fast), Some(exact)) = (Sections::scan_lines(text), Sections::scan_exact(text)) {
        assert_eq!(fast, exact, "line split and lexer differ");
    }
    let Ok(full) = toml::from_str::<toml::Table>(text) else {
        return;
    };
    let Some(sections) = central_auth_core::sections::Sections::scan(text) else {
        return;
    };
    let names: Vec<String> = match full.get("profiles") {
        Some(toml::Value::Table(t)) => t.keys().cloned().collect(),
        _ => vec!["absent".to_owned()],
    };
    for name in &names {
        let kept = sections.keep_profiles(&[name.as_str()]);
        let part: toml::Table = toml::from_str(&kept).expect("kept sections parse");
        for (key, value) in &full {
            if key == "profiles" {
                let want = value.get(name.as_str());
                let got = part.get("profiles").and_then(|p| p.get(name.as_str()));
                assert_eq!(got, want, "profile {name}");
            } else {
                assert_eq!(part.get(key), Some(value), "key {key}");
            }
        }
    }
}
