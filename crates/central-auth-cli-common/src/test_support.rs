//! Unit-test fixtures shared by the helpers' crates (feature `test-support`,
//! enabled only in their dev-dependencies): one broker over a temporary home.

use central_auth_core::{Broker, Home};

/// A broker over a temp home with profiles `main` (default, no token) and `lab`
/// (a token `lab-access`/`lab-refresh` valid for two hours). Both read their
/// client secret from the variable `secret_env`; the base URL is a closed port,
/// so any network call fails the test. Keep the directory while the broker is used.
pub fn broker(secret_env: &str) -> (tempfile::TempDir, Broker) {
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = |name: &str| {
        format!(
            "\n[profiles.{name}]\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"cid\"\nclient_secret_env = \"{secret_env}\"\ncustomer_id = \"cust\"\nusername = \"u@example.test\"\n"
        )
    };
    let config = format!(
        "default_profile = \"main\"\n{}{}",
        profile("main"),
        profile("lab")
    );
    std::fs::write(dir.path().join("config.toml"), config).expect("write config");
    let broker = Broker::open(Home::under(dir.path().to_path_buf())).expect("broker opens");
    let lab = broker.profile(Some("lab")).expect("lab exists");
    broker
        .import(
            lab,
            r#"{"access_token":"lab-access","refresh_token":"lab-refresh","token_type":"bearer","expires_in":7200}"#,
            false,
        )
        .expect("import");
    (dir, broker)
}
