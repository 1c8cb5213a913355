//! The demo account's profile on the workspace's one test home
//! ([`central_auth_e2e::Home`]): a home whose profile `demo` points at a
//! [`SimProcess`], with the secrets in `DEMO_CLIENT_SECRET` and
//! `DEMO_PASSWORD`, and the calls `demo` and `bench` make on it.

use std::path::Path;

use central_auth_e2e::home::aged;
use central_auth_e2e::Home;

use crate::sim_process::{
    SimProcess, SIM_CLIENT_ID, SIM_CLIENT_SECRET, SIM_CUSTOMER_ID, SIM_PASSWORD, SIM_USERNAME,
};
use crate::util::Res;

/// A temporary `CENTRAL_AUTH_HOME` with one profile `demo` (`min_valid` as
/// given) pointing at `sim`, running the binaries in `bin_dir`.
pub fn demo_home(bin_dir: &Path, sim: &SimProcess, min_valid: &str) -> Res<Home> {
    let secrets = [
        ("DEMO_CLIENT_SECRET", SIM_CLIENT_SECRET),
        ("DEMO_PASSWORD", SIM_PASSWORD),
    ];
    let home = Home::new("central-auth-xtask-", bin_dir, &secrets)?;
    home.set_config(&demo_config(&sim.url, min_valid))?;
    Ok(home)
}

/// `central-auth token`, trimmed.
pub fn token(home: &Home) -> Res<String> {
    Ok(home.cli_stdout(&["token"])?.trim_end().to_owned())
}

/// Imports a Download-Token from the simulator whose `created_at` lies
/// `age_secs` in the past (`--force`, so an older file replaces a newer one).
/// Returns the imported access token.
pub fn import_download(home: &Home, sim: &SimProcess, age_secs: u64) -> Res<String> {
    let download = aged(sim.download_token()?, age_secs)?;
    let access = download["access_token"]
        .as_str()
        .ok_or("download token has no access_token")?
        .to_owned();
    let out = home.import(&download, "download.json", &["--force"])?;
    if !out.status.success() {
        return Err(format!(
            "`central-auth import --force {}` failed ({}): {}",
            home.path().join("download.json").display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(access)
}

/// The demo's config.toml.
pub fn demo_config(url: &str, min_valid: &str) -> String {
    format!(
        "default_profile = \"demo\"\n\n[profiles.demo]\nbase_url = \"{url}\"\nclient_id = \"{SIM_CLIENT_ID}\"\nclient_secret_env = \"DEMO_CLIENT_SECRET\"\ncustomer_id = \"{SIM_CUSTOMER_ID}\"\nusername = \"{SIM_USERNAME}\"\npassword_env = \"DEMO_PASSWORD\"\nmin_valid = \"{min_valid}\"\nlock_timeout = \"60s\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_the_demo_profile() {
        let c = demo_config("http://127.0.0.1:9", "2s");
        assert!(c.starts_with("default_profile = \"demo\"\n"));
        assert!(c.contains("base_url = \"http://127.0.0.1:9\"\n"));
        assert!(c.contains("password_env = \"DEMO_PASSWORD\"\n"));
        assert!(c.contains("min_valid = \"2s\"\n"));
    }
}
