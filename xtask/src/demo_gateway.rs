//! The opening of `cargo xtask demo`: the API Gateway life cycle through the
//! simulator's `/_sim/` JSON endpoints, as an admin would click it in Central's
//! Web UI (the same page is at `/_sim/`): create an app with its first token,
//! add a second token, list them, download one, `central-auth import` it and
//! refresh, revoke it, and watch `central-auth` report the revocation with its
//! fix while the other token keeps working.

use std::process::Command;

use central_auth_e2e::Home;

use crate::sim_process::{http, SimProcess, SIM_CUSTOMER_ID, SIM_USERNAME};
use crate::util::{say, short, Res};

fn json(sim: &SimProcess, method: &str, path: &str, want: u16) -> Res<serde_json::Value> {
    let (status, body) = http(&sim.addr, method, path)?;
    if status != want {
        return Err(format!("{method} {path} answered {status}: {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{method} {path}: not JSON: {e}"))
}

fn field<'a>(v: &'a serde_json::Value, key: &str) -> Res<&'a str> {
    v[key]
        .as_str()
        .ok_or_else(|| format!("answer has no {key}: {v}"))
}

fn run(home: &Home, secret: &str, args: &[&str]) -> Res<std::process::Output> {
    let mut c: Command = home.cmd("central-auth");
    c.env("DEMO_APP_SECRET", secret).args(args);
    c.output()
        .map_err(|e| format!("cannot run central-auth: {e}"))
}

fn list(sim: &SimProcess) -> Res<()> {
    for t in json(sim, "GET", "/_sim/apps/ci-bot/tokens", 200)?
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        println!(
            "    {:<8} {:<14} refreshes={}",
            t["name"].as_str().unwrap_or_default(),
            t["status"].as_str().unwrap_or_default(),
            t["refreshes"]
        );
    }
    Ok(())
}

/// Runs the life cycle against `sim`; `home` is a fresh demo home whose
/// config this rewrites for the new app.
pub fn lifecycle(sim: &SimProcess, home: &Home) -> Res<()> {
    say(format!(
        "── 0. the API Gateway life cycle (page: {}/_sim/)",
        sim.url
    ));
    let created = json(sim, "POST", "/_sim/apps?name=ci-bot&token_name=laptop", 201)?;
    let client_id = field(&created["app"], "client_id")?.to_owned();
    let secret = field(&created["app"], "client_secret")?.to_owned();
    let laptop = field(&created["token"], "id")?.to_owned();
    say(format!(
        "POST /_sim/apps: app ci-bot (its own client id {}) with token laptop",
        short(&client_id)
    ));
    let spare = json(sim, "POST", "/_sim/apps/ci-bot/tokens?name=spare", 201)?;
    say("POST /_sim/apps/ci-bot/tokens: second token spare");
    let download = json(sim, "GET", &format!("/_sim/tokens/{laptop}/download"), 200)?;
    let mut keys: Vec<&String> = download
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    keys.sort();
    let created_at = download["created_at"]
        .as_i64()
        .and_then(|ms| {
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        })
        .map(central_auth_core::status::rfc3339)
        .unwrap_or_else(|| download["created_at"].to_string());
    say(format!(
        "GET /_sim/tokens/ID/download: {} fields ({}), created_at {created_at} (milliseconds since 1970 in the file, as the Web UI writes it)",
        keys.len(),
        keys.iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    ));

    let config = format!(
        "default_profile = \"demo\"\n\n[profiles.demo]\nbase_url = \"{}\"\nclient_id = \"{client_id}\"\nclient_secret_env = \"DEMO_APP_SECRET\"\ncustomer_id = \"{SIM_CUSTOMER_ID}\"\nusername = \"{SIM_USERNAME}\"\nmin_valid = \"2s\"\nlock_timeout = \"60s\"\n",
        sim.url
    );
    std::fs::write(home.path().join("config.toml"), &config)
        .map_err(|e| format!("cannot write config.toml: {e}"))?;
    say(format!(
        "CENTRAL_AUTH_HOME={} with a profile for the app (config.toml):",
        home.path().display()
    ));
    for line in config.lines() {
        println!("    {line}");
    }
    let file = home.path().join("token_laptop.json");
    std::fs::write(&file, download.to_string())
        .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let file_arg = file.to_string_lossy().into_owned();
    for args in [&["import", &file_arg][..], &["refresh"][..]] {
        let out = run(home, &secret, args)?;
        if !out.status.success() {
            return Err(format!(
                "`central-auth {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        say(format!("central-auth {}: ok", args[0]));
    }
    let _ = std::fs::remove_file(&file);
    list(sim)?;

    json(sim, "POST", &format!("/_sim/tokens/{laptop}/revoke"), 200)?;
    say("POST /_sim/tokens/ID/revoke: laptop revoked (its access and refresh chain only)");
    list(sim)?;
    say("central-auth refresh, expected to fail: the stored pair is laptop's, now revoked, so Central refuses it, and central-auth says so with exit 3 (no usable token) and names the fix:");
    let out = run(home, &secret, &["refresh"])?;
    let err = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    say(format!("exit {}:", out.status.code().unwrap_or(-1)));
    println!("    {err}");
    if out.status.code() != Some(3) || !err.contains("central-auth import") {
        return Err(format!(
            "the demo story does not hold: after a revoke, refresh should exit 3 with the import hint, got: {err}"
        ));
    }
    let spare_id = field(&spare, "id")?;
    let spare_now = json(sim, "GET", &format!("/_sim/tokens/{spare_id}"), 200)?;
    if spare_now["status"] != "active" {
        return Err(format!(
            "the demo story does not hold: spare is {}",
            spare_now["status"]
        ));
    }
    say("the spare token is still active: revocation is per token");
    Ok(())
}
