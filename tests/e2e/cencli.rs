//! centralcli (cencli) 10.0.4 on the central-auth chain (docs/cencli.md), with
//! the real cencli from the `centralcli` venv against `central-sim`:
//! `central-auth cencli` after expiry costs one refresh for 8 processes; a
//! chain cencli holds is taken over (`profiles import --from cencli`, then
//! `import --from cencli`) with no refresh; the page's recipe runs as written.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use central_auth_e2e::*;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

/// cencli's config dir under `home` (cencli's rule: `~/.config` exists).
fn cencli_dir(home: &Path) -> PathBuf {
    home.join(".config").join("centralcli")
}

/// cencli's token cache for the simulator's ids.
fn cencli_cache(home: &Path) -> PathBuf {
    let c = SimConfig::default();
    cencli_dir(home)
        .join(".cache")
        .join(format!("tok_{}_{}.json", c.customer_id, c.client_id))
}

/// Writes cencli's config: the workspace `default` for the simulator, with the
/// client secret, user and password only when `secrets`.
fn write_cencli_config(home: &Path, url: &str, secrets: bool) -> PathBuf {
    let c = SimConfig::default();
    let dir = cencli_dir(home);
    std::fs::create_dir_all(&dir).unwrap();
    let mut yaml = format!(
        "workspaces:\n  default:\n    classic:\n      base_url: {url}\n      customer_id: {}\n      client_id: {}\n",
        c.customer_id, c.client_id
    );
    if secrets {
        yaml.push_str(&format!(
            "      client_secret: {}\n      username: {}\n      password: {}\n",
            c.client_secret, c.username, c.password
        ));
    }
    let file = dir.join("config.yaml");
    std::fs::write(&file, yaml).unwrap();
    file
}

/// The environment every cencli run gets: a private HOME, wide plain output.
fn cencli_env(c: &mut Command, home: &Path) {
    c.current_dir(home)
        .env("HOME", home)
        .env("COLUMNS", "200")
        .env("NO_COLOR", "1")
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::null());
}

/// `central-auth -p PROFILE cencli --program CENCLI ARGS` in `home`.
fn wrapped(home: &TestHome, cencli: &Path, profile: &str, args: &str) -> Command {
    let mut c = home.cmd("central-auth");
    c.args(["-p", profile, "cencli", "--program"])
        .arg(cencli)
        .args(args.split(' '));
    cencli_env(&mut c, home.path());
    c
}

/// A child process (the proxy) stopped when the test ends, passing or not.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn cache_json(home: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(cencli_cache(home)).unwrap()).unwrap()
}

#[test]
fn eight_cencli_processes_after_expiry_cost_one_refresh() {
    let Some(cencli) = venv_bin("centralcli", "cencli") else {
        return;
    };
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            name: "prod".into(),
            ..ProfileOpts::default()
        }],
    );
    write_cencli_config(home.path(), &home.sim.url(), false);
    home.import_download("prod", 0);
    // cencli has been used before: its local inventory cache exists.
    let warm = wrapped(&home, &cencli, "prod", "show groups")
        .output()
        .unwrap();
    assert!(
        warm.status.success(),
        "{}\n{}",
        text(&warm.stdout),
        text(&warm.stderr)
    );
    assert_eq!(home.sim.counters().token_requests, 0);

    // The access token expires (central-auth's clock and Central agree), and 8
    // cencli commands start at once.
    home.import_aged("prod", 7300);
    home.sim.expire_access_tokens();
    let started = Instant::now();
    let children: Vec<_> = (0..8)
        .map(|_| {
            wrapped(&home, &cencli, "prod", "show aps")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let wall = started.elapsed();
    for (i, out) in outputs.iter().enumerate() {
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "cencli {i} exited {:?}\n{stdout}\n{}",
            out.status.code(),
            text(&out.stderr)
        );
        for want in ["CNSIMAP001", "ap-hq-lobby"] {
            assert!(stdout.contains(want), "cencli {i}: no {want} in\n{stdout}");
        }
    }
    let c = home.sim.counters();
    assert_one_refresh(&c, "8 cencli processes after expiry");
    assert_eq!(c.api_unauthorized, 0, "no cencli saw a 401: {c:?}");

    // cencli's file: the live access token, no refresh token, private.
    let cache = cache_json(home.path());
    let token = home.token("prod");
    assert_eq!(cache["access_token"], token.as_str());
    assert_eq!(
        cache.get("refresh_token"),
        Some(&serde_json::Value::Null),
        "{cache}"
    );
    assert!(home.sim.access_token_valid(&token));
    assert_eq!(mode(&cencli_cache(home.path())), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(cencli_dir(home.path()).join(".cache"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp."))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    figures(&format!(
        "cencli: 8 processes after expiry: {} refresh, {} rejected, {} logins, {} API 401s, all 8 exit 0, {:.1} s wall",
        c.refresh,
        c.refresh_rejected,
        c.login,
        c.api_unauthorized,
        wall.as_secs_f64()
    ));
}

#[test]
fn takes_over_a_chain_real_cencli_holds_without_a_refresh() {
    let Some(cencli) = venv_bin("centralcli", "cencli") else {
        return;
    };
    let sim = sim_with(7200);
    // An empty central-auth home: the profile comes from cencli's config.
    let home = TestHome::with(sim, &[]);
    let config = write_cencli_config(home.path(), &home.sim.url(), true);
    // Real cencli logs in, has its token killed, refreshes by itself and caches
    // the rotated pair.
    let direct = |args: &str| {
        let mut c = Command::new(&cencli);
        c.args(args.split(' '));
        cencli_env(&mut c, home.path());
        c.output().unwrap()
    };
    let out = direct("show groups");
    assert!(out.status.success(), "{}", text(&out.stdout));
    home.sim.expire_access_tokens();
    let out = direct("show groups");
    assert!(out.status.success(), "{}", text(&out.stdout));
    let c = home.sim.counters();
    assert_eq!(
        (c.login, c.refresh),
        (1, 1),
        "cencli logged in, then refreshed"
    );
    let written = cache_json(home.path());
    let access = written["access_token"].as_str().unwrap().to_owned();
    let refresh = written["refresh_token"].as_str().unwrap().to_owned();
    assert!(home.sim.refresh_token_valid(&refresh));
    let config_before = std::fs::read(home.config_path()).unwrap();

    // Bad input first: one line, nothing changes anywhere.
    let junk = home.path().join("junk.yaml");
    std::fs::write(&junk, "workspaces: [unclosed").unwrap();
    for args in [
        vec![
            "profiles",
            "import",
            "--from",
            "cencli",
            junk.to_str().unwrap(),
        ],
        vec![
            "import",
            "-p",
            "default",
            "--from",
            "cencli",
            junk.to_str().unwrap(),
        ],
    ] {
        let bad = home.cli(&args);
        assert_eq!(
            bad.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&bad.stderr)
        );
        assert_eq!(
            text(&bad.stderr).lines().count(),
            1,
            "{}",
            text(&bad.stderr)
        );
    }
    assert_eq!(std::fs::read(home.config_path()).unwrap(), config_before);

    // The profile, from cencli's own config. The literal client secret is
    // copied with a line saying so; the password is not copied.
    let out = home.cli(&[
        "profiles",
        "import",
        "--from",
        "cencli",
        config.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("copied the literal client_secret") && stderr.contains("client_secret_cmd"),
        "{stderr}"
    );
    assert!(stderr.contains("password was not copied"), "{stderr}");
    let toml = std::fs::read_to_string(home.config_path()).unwrap();
    assert!(!toml.contains(&SimConfig::default().password), "{toml}");
    assert_eq!(mode(&home.config_path()), 0o600);
    // Again: the profile exists, refused, nothing changed.
    let again = home.cli(&[
        "profiles",
        "import",
        "--from",
        "cencli",
        config.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert_eq!(std::fs::read_to_string(home.config_path()).unwrap(), toml);

    // The chain: no call to Central.
    let before = home.sim.counters();
    let cache = cencli_cache(home.path());
    let out = home.cli(&[
        "import",
        "-p",
        "default",
        "--from",
        "cencli",
        cache.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("man central-auth-cencli"),
        "{}",
        text(&out.stderr)
    );
    let token = home.token("default");
    assert_eq!(
        token, access,
        "the imported access token is handed out as is"
    );
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.record_path("default")).unwrap()).unwrap();
    assert_eq!(record["refresh_token"], refresh.as_str());
    let after = home.sim.counters();
    assert_eq!(
        (after.refresh, after.login, after.token_requests),
        (before.refresh, before.login, before.token_requests),
        "no refresh or login during the takeover"
    );
    assert!(home.sim.access_token_valid(&token));
    assert!(home.sim.refresh_token_valid(&refresh));
    let left = cache_json(home.path());
    assert_eq!(left["access_token"], access.as_str());
    // The key stays, as null: without it cencli dies with KeyError.
    assert_eq!(
        left.get("refresh_token"),
        Some(&serde_json::Value::Null),
        "{left}"
    );
    assert_eq!(mode(&cache), 0o600);
    let again = home.cli(&[
        "import",
        "-p",
        "default",
        "--from",
        "cencli",
        cache.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));

    // With its secrets still in config.yaml, the wrapper refuses to run cencli.
    let refused = wrapped(&home, &cencli, "default", "show groups")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("client_secret, password"));
    // Secrets removed, cencli itself (no wrapper) runs on the file the import
    // left, with no token call.
    write_cencli_config(home.path(), &home.sim.url(), false);
    let out = direct("show groups");
    assert!(
        out.status.success(),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("Total Groups: 3"));
    assert_eq!(home.sim.counters().token_requests, before.token_requests);

    // The chain still rotates: one refresh from central-auth works.
    let refreshed = home.cli(&["refresh", "-p", "default"]);
    assert!(refreshed.status.success(), "{}", text(&refreshed.stderr));
    let c = home.sim.counters();
    assert_eq!(c.refresh_rejected, 0);
    figures(&format!(
        "migrate from cencli: {} token calls during the takeover; access token valid afterwards; chain refreshed once afterwards with {} rejected",
        after.token_requests - before.token_requests,
        c.refresh_rejected
    ));
}

#[test]
fn profiles_import_names_every_secret_it_does_not_copy() {
    let home = TestHome::with(sim_with(7200), &[]);
    let file = home.path().join("cencli.yaml");
    std::fs::write(
        &file,
        "workspaces:\n  default:\n    classic:\n      base_url: https://apigw-prod2.central.arubanetworks.com/\n      customer_id: 1234\n      client_id: abc\n      client_secret: LITERALSECRET\n  lab one:\n    cluster: eu1\n    classic:\n      client_id: labclient\n      tokens:\n        access: TOKENA\n        refresh: TOKENR\n  glp_only:\n    glp:\n      client_id: x\n",
    )
    .unwrap();
    let out = home.cli(&[
        "profiles",
        "import",
        "--from",
        "cencli",
        "--no-secrets",
        file.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("$CENTRAL_AUTH_DEFAULT_CLIENT_SECRET"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tokens in cencli's config were not imported"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\"glp_only\" has no classic client_id"),
        "{stderr}"
    );
    for secret in ["LITERALSECRET", "TOKENA", "TOKENR"] {
        assert!(!stderr.contains(secret));
    }
    let toml = std::fs::read_to_string(home.config_path()).unwrap();
    assert!(!toml.contains("LITERALSECRET"), "{toml}");
    assert!(toml.contains("[profiles.lab_one]"), "{toml}");
    assert!(
        toml.contains("base_url = \"https://eu-apigw.central.arubanetworks.com\""),
        "{toml}"
    );
    assert!(toml.contains("customer_id = \"1234\""), "{toml}");
    let listed = home.cli(&["profiles"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    assert!(
        text(&listed.stdout).contains("lab_one"),
        "{}",
        text(&listed.stdout)
    );
}

#[test]
fn the_recipe_of_docs_cencli_md_runs() {
    use crate::docs::{read_page, run_block, test_blocks};
    let Some(_cencli) = venv_bin("centralcli", "cencli") else {
        return;
    };
    let sim = sim_with(7200);
    let home = tempfile::Builder::new()
        .prefix("central-auth-cencli-doc-")
        .tempdir()
        .unwrap();
    // The README's profile `prod` with a Download Token imported.
    let c = SimConfig::default();
    let ca = home.path().join(".config").join("central-auth");
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::write(
        ca.join("config.toml"),
        format!(
            "default_profile = \"prod\"\n\n[profiles.prod]\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_cmd = \"echo {}\"\ncustomer_id = \"{}\"\n",
            sim.url(),
            c.client_id,
            c.client_secret,
            c.customer_id
        ),
    )
    .unwrap();
    let download = home.path().join("token.json");
    std::fs::write(&download, sim.download_token().to_string()).unwrap();
    let out = Command::new(bin("central-auth"))
        .arg("import")
        .arg(&download)
        .env("HOME", home.path())
        .env_remove("CENTRAL_AUTH_HOME")
        .env_remove("CENTRAL_AUTH_PROFILE")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let blocks = test_blocks("docs/cencli.md", &read_page("docs/cencli.md"));
    assert!(blocks.len() >= 2, "docs/cencli.md has its recipe blocks");
    for block in &blocks {
        run_block(block, home.path(), &sim.url());
    }
    let counters = sim.counters();
    assert_eq!(
        counters.token_requests, 0,
        "cencli used central-auth's token"
    );
    assert!(counters.api_ok >= 2, "{counters:?}");
    figures(&format!(
        "cencli: docs/cencli.md recipe: {} blocks ran, {} API calls answered 200, 0 token calls",
        blocks.len(),
        counters.api_ok
    ));
}

/// The alternative docs/cencli.md describes: cencli's `base_url` at
/// `central-auth proxy`, a placeholder in its token file. A token Central
/// killed mid-use is then refreshed once by the proxy and cencli never sees
/// the 401.
#[test]
fn cencli_through_the_proxy_never_sees_a_killed_token() {
    let Some(cencli) = venv_bin("centralcli", "cencli") else {
        return;
    };
    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            name: "prod".into(),
            ..ProfileOpts::default()
        }],
    );
    home.import_download("prod", 0);
    let mut proxy = KillOnDrop(
        home.cmd("central-auth")
            .args([
                "-p",
                "prod",
                "proxy",
                "--listen",
                "127.0.0.1:0",
                "--rate",
                "1000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(proxy.0.stdout.as_mut().unwrap()),
        &mut first,
    )
    .unwrap();
    let url = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{first:?}"))
        .to_owned();
    write_cencli_config(home.path(), &url, false);
    let cache = cencli_cache(home.path());
    std::fs::create_dir_all(cache.parent().unwrap()).unwrap();
    std::fs::write(
        &cache,
        r#"{"access_token": "via-central-auth-proxy", "refresh_token": null}"#,
    )
    .unwrap();
    home.sim.expire_access_tokens();
    let mut c = Command::new(&cencli);
    c.args(["show", "aps"]);
    cencli_env(&mut c, home.path());
    let out = c.output().unwrap();
    drop(proxy);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("CNSIMAP001"), "{stdout}");
    let counters = home.sim.counters();
    assert_one_refresh(&counters, "cencli through the proxy after a killed token");
    figures(&format!(
        "cencli through central-auth proxy after /_sim/expire-access: {} refresh, {} rejected, {} logins, {} upstream 401s absorbed by the proxy, exit 0",
        counters.refresh, counters.refresh_rejected, counters.login, counters.api_unauthorized
    ));
}
