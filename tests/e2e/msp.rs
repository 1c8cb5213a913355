//! MSP tenant profiles against `central-sim`'s GreenLake MSP: one MSP mint
//! shared by every tenant, one RFC 8693 exchange per tenant under
//! concurrency, bounded re-mints, tenant names resolved once (quotes too),
//! hostile tenant lists and exchange answers, `tenants --write-profiles`, and a
//! tenant profile through `exec`, a helper and the proxy. Counts come from the
//! simulator's counters.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Instant;

use central_auth_e2e::*;
use central_sim::{Fault, SimConfig, TenantListMode, MSP_WORKSPACE_ID};

const ACME: &str = "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0001";
const BOB: &str = "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0002";

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// The MSP profile `msp` and two tenants: `acme` by id (with dashes) and
/// `bob` by a name with a quote.
pub(crate) fn msp_config(url: &str, extra: &str) -> String {
    format!(
        r#"[profiles.msp]
grant = "client_credentials"
base_url = "{url}"
glp_base_url = "{url}"
workspace_id = "{ws}"
client_id = "{id}"
client_secret_env = "E2E_CLIENT_SECRET"
lock_timeout = "60s"

[profiles.acme]
grant = "token_exchange"
from = "msp"
tenant_id = "0c5e7d1a-9b2f-4c3d-8e4f-5a6b7c8d0001"
lock_timeout = "60s"

[profiles.bob]
grant = "token_exchange"
from = "msp"
tenant_name = "Bob's Bikes"
lock_timeout = "60s"
{extra}"#,
        ws = MSP_WORKSPACE_ID,
        id = SimConfig::default().gl_client_id,
    )
}

pub(crate) fn msp_home(extra: &str) -> TestHome {
    let home = TestHome::with(sim_with(7200), &[]);
    home.set_config(&msp_config(&home.sim.url(), extra))
        .unwrap();
    home
}

fn ok_token(home: &TestHome, profile: &str) -> String {
    let out = home.cli(&["token", "--profile", profile]);
    assert!(out.status.success(), "{profile}: {}", text(&out.stderr));
    text(&out.stdout).trim().to_owned()
}

/// `GET <sim>/workspaces/v1/workspaces/<id>` with `token`: the HTTP status.
fn workspace_status(home: &TestHome, token: &str, id: &str) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("Authorization: Bearer {token}"))
        .arg(format!("{}/workspaces/v1/workspaces/{id}", home.sim.url()))
        .output()
        .unwrap();
    text(&out.stdout)
}

/// (MSP mints, exchanges, refused exchanges, tenant-list pages)
fn counts(home: &TestHome) -> (u64, u64, u64, u64) {
    let c = home.sim.counters();
    (
        c.msp_mints,
        c.token_exchanges,
        c.token_exchanges_rejected,
        c.tenant_lists,
    )
}

#[test]
fn sixteen_callers_on_each_of_two_tenants_cost_one_mint_and_two_exchanges() {
    let home = msp_home("");
    // Every token call waits a little at the issuer, so the 32 callers overlap.
    home.sim.inject(Fault::Delay {
        path_prefix: "/authorization/v2/oauth2/".into(),
        count: 3,
        millis: 300,
    });
    let t = Instant::now();
    let children: Vec<_> = (0..32)
        .map(|i| {
            home.cmd("central-auth")
                .args([
                    "token",
                    "--profile",
                    if i % 2 == 0 { "acme" } else { "bob" },
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let wall = t.elapsed();
    let mut acme = std::collections::BTreeSet::new();
    let mut bob = std::collections::BTreeSet::new();
    for (i, o) in outs.iter().enumerate() {
        assert!(o.status.success(), "caller {i}: {}", text(&o.stderr));
        let set = if i % 2 == 0 { &mut acme } else { &mut bob };
        set.insert(text(&o.stdout).trim().to_owned());
    }
    let (mints, exchanges, refused, lists) = counts(&home);
    figures(&format!(
        "msp: 32 callers on 2 tenants: {mints} MSP mint, {exchanges} exchanges, {refused} refused, {lists} tenant-list page(s), {} ms wall",
        wall.as_millis()
    ));
    assert_eq!(
        (mints, exchanges, refused),
        (1, 2, 0),
        "one MSP mint shared, one exchange per tenant"
    );
    assert_eq!(lists, 1, "bob's name is resolved once");
    assert_eq!(
        (acme.len(), bob.len()),
        (1, 1),
        "every caller of a tenant got the same token"
    );
    let (a, b) = (acme.pop_first().unwrap(), bob.pop_first().unwrap());
    assert_ne!(a, b);
    // Each tenant token works for its own workspace only.
    assert_eq!(workspace_status(&home, &a, ACME), "200");
    assert_eq!(workspace_status(&home, &a, BOB), "401");
    assert_eq!(workspace_status(&home, &b, BOB), "200");
    assert_eq!(workspace_status(&home, &b, ACME), "401");
    // The name was recorded with the token: later calls never list again.
    let status = home.cli(&["status", "--profile", "bob", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(s["token"]["tenant_id"], BOB);
    assert_eq!(s["token"]["lifetime_seconds"], 899);
    home.expire_record("bob");
    ok_token(&home, "bob");
    assert_eq!(
        counts(&home),
        (1, 3, 0, 1),
        "a renewal uses the recorded tenant id"
    );
    // The profile now names another tenant: the recorded id no longer counts.
    let config = home.config().unwrap().replace("Bob's Bikes", "Acme Corp");
    home.set_config(&config).unwrap();
    home.expire_record("bob");
    let now_acme = ok_token(&home, "bob");
    assert_eq!(counts(&home), (1, 4, 0, 2), "the new name is listed once");
    assert_eq!(workspace_status(&home, &now_acme, ACME), "200");
}

#[test]
fn everything_expired_costs_one_mint_and_one_exchange() {
    let home = msp_home("");
    ok_token(&home, "acme");
    assert_eq!(counts(&home), (1, 1, 0, 0));
    home.expire_record("msp");
    home.expire_record("acme");
    home.sim.expire_access_tokens();
    let fresh = ok_token(&home, "acme");
    assert_eq!(counts(&home), (2, 2, 0, 0));
    assert_eq!(workspace_status(&home, &fresh, ACME), "200");
}

#[test]
fn names_with_quotes_resolve_and_unknown_tenants_change_nothing() {
    let home = msp_home(
        r#"
[profiles.cafe]
grant = "token_exchange"
from = "msp"
tenant_name = "Café \"Zürich\" & Co"

[profiles.ghost]
grant = "token_exchange"
from = "msp"
tenant_name = "Nobody's Shop"

[profiles.twin]
grant = "token_exchange"
from = "msp"
tenant_name = "Twin"

[profiles.stranger]
grant = "token_exchange"
from = "msp"
tenant_id = "ffffffffffffffffffffffffffffffff"
"#,
    );
    let t = ok_token(&home, "cafe");
    assert_eq!(
        workspace_status(&home, &t, "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0003"),
        "200"
    );
    let config = home.config().unwrap();
    for (profile, says) in [
        ("ghost", "manages no tenant named \"Nobody's Shop\""),
        ("twin", "manages 2 tenants named \"Twin\"; set tenant_id"),
        (
            "stranger",
            "refused tenant ffffffffffffffffffffffffffffffff",
        ),
    ] {
        let out = home.cli(&["token", "--profile", profile]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{profile}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(says) && err.contains("central-auth tenants --profile msp"),
            "{err}"
        );
        assert!(
            !home.record_path(profile).exists(),
            "{profile}: nothing written"
        );
    }
    assert_eq!(home.config().unwrap(), config);
}

#[test]
fn a_rejected_tenant_token_costs_exactly_one_new_exchange() {
    let home = msp_home("");
    let first = ok_token(&home, "acme");
    // A tool saw 401 and reports it, as the pycentral provider does.
    let mut child = home
        .cmd("central-auth-ansible")
        .args(["--profile", "acme", "--reject-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{first}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let second = answer["access_token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    // One fresh MSP mint (the rejected token's MSP token is suspect) and one exchange.
    assert_eq!(counts(&home), (2, 2, 0, 0));
    for _ in 0..3 {
        assert_eq!(ok_token(&home, "acme"), second);
    }
    assert_eq!(counts(&home), (2, 2, 0, 0), "no loop");
}

#[test]
fn a_dead_msp_token_costs_one_mint_and_one_exchange_and_never_loops() {
    let home = msp_home("");
    ok_token(&home, "acme");
    // Central revoked every token; the broker's clock still trusts the MSP's.
    home.sim.revoke_all();
    home.expire_record("acme");
    let t = ok_token(&home, "acme");
    assert_eq!(
        counts(&home),
        (2, 2, 1, 0),
        "refused once, one fresh mint, one exchange"
    );
    assert_eq!(workspace_status(&home, &t, ACME), "200");
    // An issuer that keeps refusing: exactly two attempts, then one line.
    home.expire_record("acme");
    home.sim.inject(Fault::Status {
        path_prefix: format!("/authorization/v2/oauth2/{ACME}/token"),
        count: 10,
        status: 401,
        retry_after: None,
    });
    let before = home.sim.token_log().len();
    let out = home.cli(&["token", "--profile", "acme"]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).lines().count(), 1);
    let exchanges = home.sim.token_log()[before..]
        .iter()
        .filter(|c| c.path.contains(ACME))
        .count();
    assert_eq!(
        exchanges, 2,
        "one exchange, one fresh mint, one more exchange: no loop"
    );
    home.sim.clear_faults();
}

#[test]
fn hostile_tenant_lists_and_exchange_answers_are_bounded() {
    let home = msp_home("");
    home.sim.msp(|m| m.add_tenants("bulk", 700));
    let out = home.cli(&["tenants", "--profile", "msp", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["tenants"].as_array().unwrap().len(),
        705,
        "three pages of at most 300"
    );
    // A total that lies: the list ends at the first short page.
    home.sim.msp(|m| m.tenant_list = TenantListMode::LyingTotal);
    let out = home.cli(&["tenants", "--profile", "msp", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tenants"].as_array().unwrap().len(), 705);
    // A list that pages forever: refused after the second page, one line.
    home.sim.msp(|m| m.tenant_list = TenantListMode::Endless);
    let lists = home.sim.counters().tenant_lists;
    let out = home.cli(&["tenants", "--profile", "msp"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cannot be trusted"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(home.sim.counters().tenant_lists - lists, 2);
    home.sim.msp(|m| m.tenant_list = TenantListMode::Honest);
    // Garbage expires_in: one line, nothing written.
    home.sim
        .msp(|m| m.exchange_expires_in = Some(serde_json::json!("soon")));
    let out = home.cli(&["token", "--profile", "acme"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("expires_in is not a positive whole number"));
    assert!(!home.record_path("acme").exists());
    // A huge one: trusted for at most 2 hours.
    home.sim
        .msp(|m| m.exchange_expires_in = Some(serde_json::json!(1e300)));
    ok_token(&home, "acme");
    let s: serde_json::Value =
        serde_json::from_slice(&home.cli(&["status", "-p", "acme", "--json"]).stdout).unwrap();
    assert_eq!(s["token"]["lifetime_seconds"], 7200);
}

#[test]
fn tenants_write_profiles_appends_valid_0600_profiles_once() {
    let home = msp_home("");
    let out = home.cli(&["tenants", "--profile", "msp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(
        listing.contains(&format!("{BOB}\tBob's Bikes\tCUSTOMER_OWNED_INVENTORY")),
        "{listing}"
    );
    let out = home.cli(&["tenants", "--profile", "msp", "--write-profiles"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let config = home.config().unwrap();
    for name in [
        "acme-corp",
        "bob-s-bikes",
        "caf-z-rich-co",
        "twin",
        "twin-0c5e7d1a",
    ] {
        assert!(
            config.contains(&format!("[profiles.{name}]")),
            "{name} in {config}"
        );
    }
    let mode = std::fs::metadata(home.config_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Again: every name exists, nothing changes.
    let out = home.cli(&["tenants", "--profile", "msp", "--write-profiles"]);
    assert!(text(&out.stderr).contains("already exists; skipped"));
    assert_eq!(home.config().unwrap(), config);
    let t = ok_token(&home, "caf-z-rich-co");
    assert_eq!(
        workspace_status(&home, &t, "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0003"),
        "200"
    );
}

#[test]
fn a_tenant_profile_through_exec_terraform_and_the_proxy() {
    let home = msp_home("");
    let devices = "/network-monitoring/v1alpha1/devices";
    // A command run by `central-auth` with the tenant's token (exec) or
    // behind it (proxy) reaches the tenant's workspace.
    let reaches_acme = |args: &[&str], script: String| {
        let out = home
            .cmd("central-auth")
            .args(args)
            .args(["--", "sh", "-c"])
            .arg(script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains(&format!("\"workspaceId\":\"{ACME}\"")),
            "{}",
            text(&out.stdout)
        );
    };
    reaches_acme(
        &["exec", "--profile", "acme"],
        format!(
            "curl -sS -H \"Authorization: Bearer $CENTRAL_ACCESS_TOKEN\" \"$CENTRAL_BASE_URL{devices}\""
        ),
    );
    // Terraform's external data source program.
    let mut tf = home
        .cmd("central-auth-terraform")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tf.stdin
        .take()
        .unwrap()
        .write_all(br#"{"profile":"bob"}"#)
        .unwrap();
    let out = tf.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let bob = v["access_token"].as_str().unwrap();
    assert_eq!(workspace_status(&home, bob, BOB), "200");
    // The proxy: the child sends no token, the proxy adds the tenant's on
    // whichever listener it chose.
    let through_proxy = || {
        reaches_acme(
            &["proxy", "--profile", "acme", "--exec"],
            format!(
                "if [ -n \"${{CENTRAL_AUTH_PROXY_SOCKET-}}\" ]; then curl -sS --unix-socket \"$CENTRAL_AUTH_PROXY_SOCKET\" \"$CENTRAL_BASE_URL{devices}\"; else curl -sS \"$CENTRAL_BASE_URL{devices}\"; fi"
            ),
        );
    };
    through_proxy();
    assert_eq!(counts(&home), (1, 2, 0, 1));
    // Central killed every token: the proxy sees the GLP 401, reports the
    // tenant token and retries once with the fresh one (1 mint, 1 exchange).
    home.sim.expire_access_tokens();
    through_proxy();
    assert_eq!(counts(&home), (2, 3, 0, 1));
}
