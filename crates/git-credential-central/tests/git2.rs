//! The `git2` crate as a real client: its `CredentialHelper` (what cargo and other
//! libgit2-based tools use) runs this helper from a git config file and must get
//! the broker's token as username/password.
//!
//! This lives here rather than in `tests/e2e/git.rs` because the helper runner is
//! behind git2's `cred` feature, which the workspace-level e2e package does not
//! enable. git2 spawns helpers with the test process's own environment, so this
//! file has exactly one test, which sets `CENTRAL_AUTH_HOME` for the process.

#![allow(clippy::unwrap_used, missing_docs)]

use std::path::Path;

use central_auth_core::secret::ExposeSecret;
use central_auth_core::{Broker, Home};
use central_sim::{Sim, SimConfig};

const BIN: &str = env!("CARGO_BIN_EXE_git-credential-central");

fn write_config(dir: &Path, sim: &Sim) {
    let c = SimConfig::default();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[profiles.test]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_env = \"GIT2_TEST_CLIENT_SECRET\"\ncustomer_id = \"{}\"\nusername = \"{}\"\ngit_hosts = [\"git.example.test\"]\n",
            sim.url(),
            c.client_id,
            c.customer_id,
            c.username
        ),
    )
    .unwrap();
}

fn helper_answer(gitconfig: &Path, url: &str) -> Option<(String, String)> {
    let config = git2::Config::open(gitconfig).unwrap();
    let answer = git2::CredentialHelper::new(url).config(&config).execute();
    // The public Cred API must accept the same answer.
    assert_eq!(
        git2::Cred::credential_helper(&config, url, None).is_ok(),
        answer.is_some()
    );
    answer
}

#[test]
fn git2_credential_helper_gets_the_broker_token() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &sim);
    // Only this test runs in this binary, so setting the environment is race-free.
    std::env::set_var("CENTRAL_AUTH_HOME", dir.path());
    std::env::set_var(
        "GIT2_TEST_CLIENT_SECRET",
        SimConfig::default().client_secret,
    );
    std::env::remove_var("CENTRAL_AUTH_PROFILE");

    let broker = Broker::open(Home::under(dir.path().to_path_buf())).unwrap();
    let profile = broker.profile(Some("test")).unwrap();
    broker
        .import(profile, &sim.download_token().to_string(), false)
        .unwrap();
    let stored = broker.token(profile, None).unwrap().token;
    let stored = stored.expose_secret();

    let gitconfig = dir.path().join("gitconfig");
    let username = SimConfig::default().username;
    for (helper, url) in [
        // Explicit profile; plain http only because the host is loopback.
        (
            format!("{BIN} --profile test"),
            "http://localhost:9/repo.git",
        ),
        // No --profile: the profile's git_hosts entry matches.
        (BIN.to_owned(), "https://git.example.test/org/repo.git"),
        // `!` shell form.
        (
            format!("!{BIN} --profile test"),
            "https://other.example.test/r.git",
        ),
    ] {
        std::fs::write(&gitconfig, format!("[credential]\n\thelper = {helper}\n")).unwrap();
        let (user, pass) = helper_answer(&gitconfig, url).expect("the helper answered");
        assert_eq!(user, username, "{helper} {url}");
        assert_eq!(pass, stored, "{helper} {url}");
    }
    assert!(sim.access_token_valid(stored));
    assert_eq!(sim.counters().refresh, 0);

    // git2 sends no `host` at all for IP-literal URLs (only `url::Host::Domain`),
    // so for `http://127.0.0.1:...` the helper cannot tell the token stays on
    // loopback and answers nothing, even with --profile.
    std::env::set_var("GIT_TERMINAL_PROMPT", "0");
    std::env::set_var("GIT_CONFIG_NOSYSTEM", "1");
    std::env::set_var("HOME", dir.path());
    std::fs::write(
        &gitconfig,
        format!("[credential]\n\thelper = {BIN} --profile test\n"),
    )
    .unwrap();
    assert_eq!(
        helper_answer(&gitconfig, &format!("{}/repo.git", sim.url())),
        None
    );

    // A host no profile knows: the helper prints nothing, git2 finds no
    // credential.
    std::fs::write(&gitconfig, format!("[credential]\n\thelper = {BIN}\n")).unwrap();
    assert_eq!(
        helper_answer(&gitconfig, "https://github.com/x/y.git"),
        None
    );
}
