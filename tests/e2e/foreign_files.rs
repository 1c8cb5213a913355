//! Files other tools own, planted or left unsafe: each is refused before a byte
//! is read or written, with one line naming the file and the fix
//! (docs/security.md, "Files other tools own"). Another local user
//! (`other_user`, made by the suite) owns the hostile files and the
//! directories links point into.
//!
//! - `~/.vault-token`, `token_file`, `secret_id_file`, `jwt_file`: another
//!   user's, 0644, 0666, a link; the allowance for a root-owned 0644 `jwt_file`
//!   reached through the kubelet's links;
//! - `central-auth cencli`: a `config.yaml` of another user, 0666 or linked, a
//!   `.cache` linked into another user's directory, a linked token cache;
//! - `import --from cencli`: a linked cache (the link's target keeps its
//!   refresh token, nothing is imported), another user's cache;
//! - `profiles import --from cencli`: a foreign `base_url` is shown and warned
//!   about; another user's or a linked config is refused.

use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use central_auth_e2e::other_user::OtherUser;
use central_auth_e2e::*;

use crate::fleet_first_hour::Machine;

fn figures(line: &str) {
    let _ = writeln!(std::io::stderr(), "figures: {line}");
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn give(path: &Path, other: &OtherUser) {
    std::os::unix::fs::lchown(path, Some(other.uid), Some(other.gid)).unwrap();
}

/// Asserts a refusal: exit 6, one stderr line naming `path` and holding `fix`.
fn refused(out: &Output, path: &Path, fix: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains(&path.display().to_string()),
        "names {}: {err}",
        path.display()
    );
    assert!(err.contains(fix), "says {fix:?}: {err}");
    err
}

/// Writes `text` to `path` as this user, mode `mode`.
fn write(path: &Path, text: &str, mode: u32) {
    let _ = std::fs::remove_file(path);
    std::fs::write(path, text).unwrap();
    chmod(path, mode);
}

#[test]
fn vault_token_files_are_checked_before_they_are_read() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let Some(m) = Machine::new() else {
        return;
    };
    let home = m.dir.path();
    let dot = home.join(".vault-token");
    let token_file = home.join("agent-sink");
    let secret_id = home.join("secret-id");
    let pod = home.join("pod");
    std::fs::create_dir(&pod).unwrap();
    let jwt = pod.join("token");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[stores.team]\nkind = \"openbao\"\naddress = \"{a}\"\n\n[stores.sink]\nkind = \"openbao\"\naddress = \"{a}\"\ntoken_file = \"{}\"\n\n[stores.ar]\nkind = \"openbao\"\naddress = \"{a}\"\nauth = \"approle\"\nrole_id = \"fleet\"\nsecret_id_file = \"{}\"\n\n[stores.k8s]\nkind = \"openbao\"\naddress = \"{a}\"\nauth = \"kubernetes\"\nrole = \"central-auth\"\njwt_file = \"{}\"\n{}",
            token_file.display(),
            secret_id.display(),
            jwt.display(),
            ["team", "sink", "ar", "k8s"]
                .iter()
                .map(|s| format!(
                    "\n[profiles.{s}]\nstore = \"{s}\"\nbase_url = \"{}\"\nclient_id = \"c\"\nclient_secret_env = \"E2E_CLIENT_SECRET\"\n",
                    m.sim.url()
                ))
                .collect::<String>(),
            a = m.bao.addr,
        ),
    )
    .unwrap();
    let cache_dir = home.join("state/fleet");
    let token = |profile: &str| {
        // No local cache: the call must read the store, so it needs the token.
        let _ = std::fs::remove_dir_all(&cache_dir);
        m.cli(&["-p", profile, "token"])
    };
    let before = m.sim.counters();
    let mut cases = 0;

    // ~/.vault-token: another user's, readable by others, writable, a link.
    write(&dot, &m.vault_token, 0o600);
    give(&dot, &other);
    let err = refused(&token("team"), &dot, &format!("chown 0 {}", dot.display()));
    assert!(
        err.contains(&format!("owned by uid {}", other.uid)),
        "{err}"
    );
    let doctor = m.cli(&["-p", "team", "doctor"]);
    let report = text(&doctor.stdout);
    assert!(report.contains("FAIL store auth"), "{report}");
    assert!(
        report.contains(&format!("owned by uid {}", other.uid)),
        "{report}"
    );
    assert!(!report.contains(&m.vault_token), "{report}");
    write(&dot, &m.vault_token, 0o644);
    refused(
        &token("team"),
        &dot,
        &format!("chmod 600 {}", dot.display()),
    );
    write(&dot, &m.vault_token, 0o666);
    refused(
        &token("team"),
        &dot,
        "writable by group or others (mode 666)",
    );
    let elsewhere = other.home().join("vault-token");
    write(&elsewhere, &m.vault_token, 0o600);
    std::fs::remove_file(&dot).unwrap();
    symlink(&elsewhere, &dot).unwrap();
    refused(&token("team"), &dot, "is a symbolic link");
    cases += 4;
    // Only the local lock exists: no cache, no record was written.
    let written: Vec<_> = tree(&cache_dir)
        .into_iter()
        .filter(|(p, _)| !p.to_string_lossy().ends_with(".lock"))
        .collect();
    assert!(
        written.is_empty(),
        "nothing was written after a refusal: {written:?}"
    );
    // The same file, the user's own and 0600: the store answers (no record yet).
    std::fs::remove_file(&dot).unwrap();
    write(&dot, &m.vault_token, 0o600);
    let out = token("team");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));

    // token_file: 0666, another user's; a root-owned 0640 Vault Agent sink is
    // allowed (the suite runs as root, so "root-owned" is "mine" here too, and
    // only the group-read allowance is exercised).
    write(&token_file, &m.vault_token, 0o666);
    refused(
        &token("sink"),
        &token_file,
        &format!("chmod 600 {}", token_file.display()),
    );
    write(&token_file, &m.vault_token, 0o600);
    give(&token_file, &other);
    refused(&token("sink"), &token_file, "owned by uid");
    write(&token_file, &m.vault_token, 0o640);
    assert_eq!(
        token("sink").status.code(),
        Some(3),
        "a root 0640 sink is read"
    );

    // secret_id_file: group-readable, then a link: refused before any login.
    write(&secret_id, "not-a-real-secret-id", 0o644);
    refused(&token("ar"), &secret_id, "chmod 600");
    std::fs::remove_file(&secret_id).unwrap();
    symlink(&elsewhere, &secret_id).unwrap();
    refused(&token("ar"), &secret_id, "is a symbolic link");

    // jwt_file: another user's token is refused; the kubelet's layout
    // (token -> ..data/token, ..data -> a dated directory), root-owned 0644,
    // passes the check and reaches the login (which this server refuses: no
    // kubernetes auth is enabled).
    write(&jwt, "header.payload.sig", 0o644);
    give(&jwt, &other);
    refused(&token("k8s"), &jwt, "owned by uid");
    std::fs::remove_file(&jwt).unwrap();
    let dated = pod.join("..2026_12_06_00_00_00.000000001");
    std::fs::create_dir(&dated).unwrap();
    write(&dated.join("token"), "header.payload.sig", 0o644);
    symlink(dated.file_name().unwrap(), pod.join("..data")).unwrap();
    symlink("..data/token", &jwt).unwrap();
    let out = token("k8s");
    let err = text(&out.stderr);
    assert!(
        err.contains("Kubernetes login"),
        "the JWT was read and sent: {err}"
    );
    assert!(!err.contains("header.payload.sig"), "{err}");
    cases += 5;

    let after = m.sim.counters();
    assert_eq!(
        after.token_requests, before.token_requests,
        "nothing reached Central"
    );
    figures(&format!(
        "foreign files: {cases} hostile Vault token files (~/.vault-token, token_file, secret_id_file, jwt_file: another user's, 0644, 0666, links) refused with exit 6 and the fix, doctor fails store auth, 0 calls to Central; a root 0640 sink and the kubelet's 0644 linked jwt_file allowed"
    ));
}

/// cencli's config directory under `home` with a secret-free `config.yaml` for
/// the simulator's workspace.
fn cencli_dir(home: &Path, url: &str) -> PathBuf {
    let c = SimConfig::default();
    let dir = home.join("cencli");
    std::fs::create_dir_all(&dir).unwrap();
    chmod(&dir, 0o700);
    write(
        &dir.join("config.yaml"),
        &format!(
            "workspaces:\n  default:\n    classic:\n      base_url: {url}\n      customer_id: {}\n      client_id: {}\n",
            c.customer_id, c.client_id
        ),
        0o644,
    );
    dir
}

fn cache_file(dir: &Path) -> PathBuf {
    let c = SimConfig::default();
    dir.join(".cache")
        .join(format!("tok_{}_{}.json", c.customer_id, c.client_id))
}

#[test]
fn central_auth_cencli_checks_cencli_files_before_the_token_is_written() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let home = TestHome::new();
    home.import_download("test", 0);
    let dir = cencli_dir(home.path(), &home.sim.url());
    let config = dir.join("config.yaml");
    let cache = cache_file(&dir);
    let run = || {
        home.cli(&[
            "cencli",
            "--config-dir",
            dir.to_str().unwrap(),
            "--program",
            "/bin/true",
        ])
    };
    let before = home.sim.counters();

    // config.yaml: another user's, 0666, a link.
    give(&config, &other);
    refused(&run(), &config, "owned by uid");
    std::os::unix::fs::lchown(&config, Some(0), Some(0)).unwrap();
    chmod(&config, 0o666);
    refused(&run(), &config, &format!("chmod 600 {}", config.display()));
    chmod(&config, 0o644);
    let real = home.path().join("dotfiles-config.yaml");
    std::fs::rename(&config, &real).unwrap();
    symlink(&real, &config).unwrap();
    refused(&run(), &config, "is a symbolic link");
    std::fs::remove_file(&config).unwrap();
    std::fs::rename(&real, &config).unwrap();

    // .cache linked into another user's directory: refused, and that
    // directory receives nothing.
    let theirs = other.home().join("loot");
    std::fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(other.uid), Some(other.gid)).unwrap();
    symlink(&theirs, dir.join(".cache")).unwrap();
    refused(&run(), &dir.join(".cache"), "is a symbolic link");
    assert_eq!(
        std::fs::read_dir(&theirs).unwrap().count(),
        0,
        "nothing written there"
    );
    std::fs::remove_file(dir.join(".cache")).unwrap();

    // .cache owned by another user; the config directory writable by all.
    std::fs::create_dir(dir.join(".cache")).unwrap();
    give(&dir.join(".cache"), &other);
    refused(&run(), &dir.join(".cache"), "owned by uid");
    std::os::unix::fs::lchown(dir.join(".cache"), Some(0), Some(0)).unwrap();
    chmod(&dir, 0o777);
    refused(&run(), &dir, &format!("chmod 700 {}", dir.display()));
    chmod(&dir, 0o700);

    // The token cache itself a link into another user's file.
    let planted = theirs.join("tok.json");
    std::fs::write(&planted, "{}").unwrap();
    symlink(&planted, &cache).unwrap();
    refused(&run(), &cache, "is a symbolic link");
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "{}");
    std::fs::remove_file(&cache).unwrap();

    assert!(!cache.exists(), "no refusal wrote the token");
    assert_eq!(home.sim.counters().token_requests, before.token_requests);
    // Control: the same files, safe, work.
    let out = run();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    figures("foreign files: central-auth cencli refused 7 hostile cencli files (config of another user, 0666, linked; .cache linked into another user's dir or theirs; config dir 0777; linked token cache), none written, then ran");
}

/// A cencli token cache as pycentral writes it, from a simulator download.
fn cencli_cache_json(home: &TestHome) -> (String, String) {
    let d = home.sim.download_token();
    let refresh = d["refresh_token"].as_str().unwrap().to_owned();
    let json = serde_json::json!({
        "access_token": d["access_token"],
        "refresh_token": refresh,
        "token_type": "bearer",
        "expires_in": 7200,
    })
    .to_string();
    (json, refresh)
}

#[test]
fn import_from_cencli_takes_over_the_file_it_read_and_nothing_else() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let home = TestHome::new();
    let dir = cencli_dir(home.path(), &home.sim.url());
    std::fs::create_dir(dir.join(".cache")).unwrap();
    let cache = cache_file(&dir);
    let (json, refresh) = cencli_cache_json(&home);
    let import = || {
        home.cli(&[
            "-p",
            "test",
            "import",
            "--from",
            "cencli",
            cache.to_str().unwrap(),
        ])
    };
    let nothing_stored = || {
        let s = text(&home.cli(&["-p", "test", "status"]).stdout);
        assert!(s.contains("none stored"), "{s}");
    };

    // A link: refused, the link's target keeps its refresh token, nothing imported.
    let target = dir.join("elsewhere.json");
    write(&target, &json, 0o600);
    symlink(&target, &cache).unwrap();
    refused(&import(), &cache, "is a symbolic link");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), json);
    assert!(std::fs::symlink_metadata(&cache)
        .unwrap()
        .file_type()
        .is_symlink());
    nothing_stored();
    std::fs::remove_file(&cache).unwrap();

    // Another user's cache: refused, untouched, nothing imported.
    write(&cache, &json, 0o644);
    give(&cache, &other);
    refused(&import(), &cache, "owned by uid");
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), json);
    nothing_stored();
    std::os::unix::fs::lchown(&cache, Some(0), Some(0)).unwrap();

    // The user's own 0644 cache (as pycentral writes it): taken over, the
    // refresh token removed from that very file, and a line says to rotate.
    let out = import();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("readable by others (mode 644)"), "{err}");
    assert!(err.contains("central-auth -p test refresh"), "{err}");
    let left = std::fs::read_to_string(&cache).unwrap();
    assert!(!left.contains(&refresh), "{left}");
    assert_eq!(
        std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(home.sim.counters().token_requests, 0);
    figures("foreign files: import --from cencli refused a linked cache (target kept its refresh token) and another user's, then took over the user's own 0644 cache and emptied that file of its refresh token");
}

#[test]
fn profiles_import_from_cencli_shows_the_base_url_and_warns_about_foreign_hosts() {
    let Some(other) = OtherUser::get() else {
        return;
    };
    let home = TestHome::new();
    let c = SimConfig::default();
    let yaml = |url: &str| {
        format!(
            "workspaces:\n  evil:\n    classic:\n      base_url: {url}\n      customer_id: {}\n      client_id: {}\n  hpe:\n    cluster: eu1\n    classic:\n      customer_id: {}\n      client_id: other\n",
            c.customer_id, c.client_id, c.customer_id
        )
    };
    let file = home.path().join("cencli.yaml");
    let config_before = std::fs::read(home.config_path()).unwrap();
    let import = || {
        home.cli(&[
            "profiles",
            "import",
            "--from",
            "cencli",
            file.to_str().unwrap(),
            "--no-secrets",
        ])
    };

    // Another user's file, and a link to it: refused, config.toml unchanged.
    write(&file, &yaml("https://central.evil.example"), 0o644);
    give(&file, &other);
    refused(&import(), &file, "owned by uid");
    std::fs::remove_file(&file).unwrap();
    let theirs = other.home().join("cencli.yaml");
    write(&theirs, &yaml("https://central.evil.example"), 0o644);
    symlink(&theirs, &file).unwrap();
    refused(&import(), &file, "is a symbolic link");
    assert_eq!(std::fs::read(home.config_path()).unwrap(), config_before);
    std::fs::remove_file(&file).unwrap();

    // The user's own file: imported, each base_url shown, the foreign host warned about.
    write(&file, &yaml("https://central.evil.example"), 0o600);
    let out = import();
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("profile evil: created in")
            && err.contains("base_url https://central.evil.example"),
        "{err}"
    );
    assert!(
        err.contains("profile hpe: created in")
            && err.contains("base_url https://eu-apigw.central.arubanetworks.com"),
        "{err}"
    );
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("profile evil")
            && warnings[0].contains("not an HPE Aruba Central host"),
        "{err}"
    );

    // A client_secret copied from a file others can read: imported, with a
    // line saying so and the chmod.
    let home2 = TestHome::new();
    let exposed = home2.path().join("cencli.yaml");
    write(
        &exposed,
        &format!(
            "workspaces:\n  lab:\n    classic:\n      base_url: https://apigw-prod2.central.arubanetworks.com\n      customer_id: {}\n      client_id: lab\n      client_secret: not-for-others\n",
            c.customer_id
        ),
        0o644,
    );
    let out = home2.cli(&[
        "profiles",
        "import",
        "--from",
        "cencli",
        exposed.to_str().unwrap(),
    ]);
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("readable by others (mode 644)")
            && err.contains(&format!("chmod 600 {}", exposed.display())),
        "{err}"
    );
    assert!(!err.contains("not-for-others"), "{err}");
    figures("foreign files: profiles import --from cencli refused another user's and a linked config, then showed both base_urls and warned about the one foreign host only, and about a client_secret copied from a 0644 file");
}
