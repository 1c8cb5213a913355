//! `central-auth profiles import --from cencli config.yaml`: one new profile per
//! cencli workspace that has a classic API client.
//!
//! The new `[profiles.NAME]` tables are appended to the config file's text (so
//! its comments and layout stay), the whole result is validated by the same
//! parser every command uses, and only then written atomically (0600). An
//! existing profile of the same name, an unusable workspace name or an
//! unreadable cencli config is one line and changes nothing.
//!
//! The cencli config is checked before it is read (`cencli_config::CONFIG_RULE`).
//! Each new profile's line shows the `base_url` it got, and a host that is not
//! HPE's (`*.arubanetworks.com`, `*.hpe.com`) gets a warning line: the client's
//! secret and tokens will be sent there.
//!
//! Secrets: a literal `client_secret` is copied only with a stderr line saying
//! so and suggesting `client_secret_cmd`/`client_secret_env` (with
//! `--no-secrets` it is never copied; `client_secret_env` names a variable to
//! set). central-auth takes a password only from `password_env`/`password_cmd`,
//! so cencli's literal password is never copied: `password_env` names a
//! variable, and a line says so. Tokens in cencli's config are not imported
//! (the chain comes over with `import --from cencli`).

use std::path::Path;

use central_auth_core::config::Config;
use central_auth_core::{Error, ProfileName};

use crate::cencli_config::{self, Workspace};

/// What one import did: the lines for stderr, in order.
pub struct Report {
    /// Notes about secrets and skipped workspaces, then one line per profile.
    pub lines: Vec<String>,
}

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// `CENTRAL_AUTH_<PROFILE>_<WHAT>`, upper case, other characters as `_`.
fn env_name(profile: &str, what: &str) -> String {
    let p: String = profile
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("CENTRAL_AUTH_{p}_{what}")
}

/// The profile name for a workspace: its name, with spaces as `_` (as cencli
/// names its files).
fn profile_name(ws: &Workspace, file: &Path) -> Result<ProfileName, Error> {
    ProfileName::new(&ws.name.replace(' ', "_")).map_err(|_| {
        Error::bad_input(format!(
            "cencli workspace {:?} in {} cannot be a profile name (letters, digits, '.', '_', '-'); rename the workspace or add the profile by hand; nothing was changed",
            ws.name,
            file.display()
        ))
    })
}

/// One `[profiles.NAME]` table for a workspace, with the notes it needs.
fn table(
    ws: &Workspace,
    name: &ProfileName,
    no_secrets: bool,
    lines: &mut Vec<String>,
) -> Option<String> {
    use central_auth_core::secret::ExposeSecret;
    let client_id = ws.client_id.as_deref()?;
    // A name with a `.` is quoted (`lab.eu` is one profile, not a subtable).
    let key = match name.as_str() {
        n if n.contains('.') => quoted(n),
        n => n.to_owned(),
    };
    let mut t = format!("\n[profiles.{key}]\n");
    let url = match (&ws.base_url, &ws.cluster) {
        (Some(url), _) => url.as_str(),
        // cencli's default cluster is us6.
        (None, cluster) => cencli_config::cluster_url(cluster.as_deref().unwrap_or("us6"))?,
    };
    t.push_str(&format!("base_url = {}\n", quoted(url)));
    if !is_hpe_host(url) {
        lines.push(format!(
            "central-auth: warning: profile {name}: base_url {} is not an HPE Aruba Central host (*.arubanetworks.com, *.hpe.com); central-auth will send this client's secret and tokens there: check it is yours (e.g. central-sim on this machine) before using the profile",
            central_auth_core::redact::redact_url(url)
        ));
    }
    t.push_str(&format!("client_id = {}\n", quoted(client_id)));
    match (&ws.client_secret, no_secrets) {
        (Some(secret), false) => {
            t.push_str(&format!(
                "client_secret = {}\n",
                quoted(secret.expose_secret())
            ));
            lines.push(format!(
                "central-auth: profile {name}: copied the literal client_secret from cencli's config; replace it with client_secret_cmd (e.g. \"pass show central/client-secret\") or client_secret_env"
            ));
        }
        (secret, _) => {
            let var = env_name(name.as_str(), "CLIENT_SECRET");
            t.push_str(&format!("client_secret_env = {}\n", quoted(&var)));
            let why = if secret.is_some() {
                "the literal client_secret was not copied (--no-secrets)"
            } else {
                "cencli's config has no client_secret"
            };
            lines.push(format!(
                "central-auth: profile {name}: {why}; set ${var} or replace client_secret_env with client_secret_cmd"
            ));
        }
    }
    if let Some(customer) = &ws.customer_id {
        t.push_str(&format!("customer_id = {}\n", quoted(customer)));
    }
    if let Some(user) = &ws.username {
        t.push_str(&format!("username = {}\n", quoted(user)));
        let var = env_name(name.as_str(), "PASSWORD");
        t.push_str(&format!("password_env = {}\n", quoted(&var)));
        let had = if ws.password.is_some() {
            "cencli's literal password was not copied (central-auth reads passwords only from password_env or password_cmd)"
        } else {
            "cencli's config has no password"
        };
        lines.push(format!(
            "central-auth: profile {name}: {had}; set ${var} or replace password_env with password_cmd"
        ));
    }
    if ws.has_tokens {
        lines.push(format!(
            "central-auth: profile {name}: the tokens in cencli's config were not imported; take the chain over with `central-auth -p {name} import --from cencli <cencli config dir>/.cache/tok_<customer_id>_<client_id>.json`"
        ));
    }
    Some(t)
}

/// True when `url`'s host is one of HPE's: `arubanetworks.com`,
/// `arubanetworks.com.cn` or `hpe.com`, or a subdomain of one.
pub fn is_hpe_host(url: &str) -> bool {
    let authority = central_auth_core::net::host_of(url);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    ["arubanetworks.com", "arubanetworks.com.cn", "hpe.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

/// Adds the profiles of cencli config `file` to the config at `config_path`.
pub fn import(config_path: &Path, file: &Path, no_secrets: bool) -> Result<Report, Error> {
    let loaded = cencli_config::read(file)?;
    let workspaces = loaded.workspaces;
    let existing = match std::fs::read_to_string(config_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read config {}: {e}",
                config_path.display()
            )))
        }
    };
    let current = Config::parse(&existing, config_path)?;
    let mut lines = Vec::new();
    let mut text = existing.clone();
    let mut created = Vec::new();
    for ws in &workspaces {
        if ws.client_id.is_none() {
            lines.push(format!(
                "central-auth: cencli workspace {:?} has no classic client_id; skipped",
                ws.name
            ));
            continue;
        }
        let name = profile_name(ws, file)?;
        if created.iter().any(|(n, _)| *n == name) {
            return Err(Error::bad_input(format!(
                "two cencli workspaces in {} become the same profile name {name}; rename one of them (nothing was changed)",
                file.display()
            )));
        }
        if current.profiles.contains_key(&name) {
            return Err(Error::bad_input(format!(
                "profile {name} already exists in {}; remove or rename it first (nothing was changed)",
                config_path.display()
            )));
        }
        if ws.base_url.is_none()
            && cencli_config::cluster_url(ws.cluster.as_deref().unwrap_or("us6")).is_none()
        {
            return Err(Error::bad_input(format!(
                "cencli workspace {:?} in {} has no base_url and an unknown cluster {:?}; add classic.base_url (nothing was changed)",
                ws.name,
                file.display(),
                ws.cluster.as_deref().unwrap_or_default()
            )));
        }
        let mut notes = Vec::new();
        let Some(t) = table(ws, &name, no_secrets, &mut notes) else {
            continue;
        };
        let url = ws
            .base_url
            .clone()
            .or_else(|| {
                cencli_config::cluster_url(ws.cluster.as_deref().unwrap_or("us6"))
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&t);
        lines.extend(notes);
        created.push((name, url));
    }
    if created.is_empty() {
        return Err(Error::bad_input(format!(
            "cencli config {} has no workspace with a classic client_id; nothing to import",
            file.display()
        )));
    }
    // The same parser as every command: what is written is a valid config.
    Config::parse(&text, config_path).map_err(|e| {
        Error::bad_input(format!(
            "the imported profiles would not make a valid config ({e}); nothing was changed"
        ))
    })?;
    if let Some(dir) = config_path.parent() {
        create_private_dir(dir)?;
    }
    // A config that is a link (a dotfile manager's) is written where it points,
    // so the link stays.
    let target = std::fs::canonicalize(config_path).unwrap_or_else(|_| config_path.to_owned());
    central_auth_core::store::file::write_atomically(&target, text.as_bytes())?;
    for (name, url) in &created {
        lines.push(format!(
            "central-auth: profile {name}: created in {}, base_url {}",
            config_path.display(),
            central_auth_core::redact::redact_url(url)
        ));
    }
    let copied_secret = !no_secrets && workspaces.iter().any(|w| w.client_secret.is_some());
    if let (Some(mode), true) = (loaded.exposed_mode, copied_secret) {
        lines.push(format!(
            "central-auth: warning: {} holds a client_secret and is readable by others (mode {mode:03o}): run `chmod 600 {}`, and consider the secret seen",
            file.display(),
            file.display()
        ));
    }
    Ok(Report { lines })
}

fn create_private_dir(dir: &Path) -> Result<(), Error> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| Error::store(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(name: &str, client: &str) -> String {
        format!("  {name}:\n    classic:\n      base_url: https://apigw-prod2.central.arubanetworks.com\n      customer_id: c-{client}\n      client_id: {client}\n")
    }

    fn run(yaml: &str) -> (tempfile::TempDir, Result<Report, Error>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("cencli.yaml");
        std::fs::write(&file, yaml).expect("write yaml");
        let result = import(&dir.path().join("config.toml"), &file, true);
        (dir, result)
    }

    #[test]
    fn hpe_hosts_are_told_from_others() {
        for (url, hpe) in [
            ("https://apigw-prod2.central.arubanetworks.com", true),
            ("https://apigw.central.arubanetworks.com.cn/", true),
            ("https://us1.api.central.arubanetworks.com:443/x", true),
            ("https://global.api.greenlake.hpe.com", true),
            ("https://arubanetworks.com.", true),
            ("https://central.evil.example", false),
            ("https://evilarubanetworks.com", false),
            ("https://arubanetworks.com.evil.example", false),
            ("https://user@evil.example/@x.hpe.com", false),
            ("http://127.0.0.1:8800", false),
        ] {
            assert_eq!(is_hpe_host(url), hpe, "{url}");
        }
    }

    #[test]
    fn a_dotted_workspace_name_is_one_profile() {
        let (dir, result) = run(&format!("workspaces:\n{}", workspace("lab.eu", "x1")));
        result.expect("imports");
        let config = Config::load(&dir.path().join("config.toml")).expect("valid config");
        let names: Vec<&str> = config.profiles.keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["lab.eu"]);
    }

    #[test]
    fn two_workspaces_with_one_profile_name_are_refused_by_name() {
        let yaml = format!(
            "workspaces:\n{}{}",
            workspace("\"a b\"", "x1"),
            workspace("a_b", "x2")
        );
        let (dir, result) = run(&yaml);
        let e = result.err().expect("refused").to_string();
        assert!(e.contains("two cencli workspaces"), "{e}");
        assert!(!dir.path().join("config.toml").exists(), "nothing written");
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_config_stays_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let real = dir.path().join("dotfiles-config.toml");
        std::fs::write(&real, "").expect("write");
        let link = dir.path().join("config.toml");
        std::os::unix::fs::symlink(&real, &link).expect("link");
        let file = dir.path().join("cencli.yaml");
        std::fs::write(&file, format!("workspaces:\n{}", workspace("w", "x1"))).expect("yaml");
        import(&link, &file, true).expect("imports");
        assert!(std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink());
        assert!(std::fs::read_to_string(&real)
            .expect("read")
            .contains("[profiles.w]"));
    }
}
