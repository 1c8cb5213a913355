//! Reading centralcli (cencli) 10's `config.yaml`: its workspaces and each
//! one's classic API client, as cencli's own model (`models/config.py`) reads
//! them, including its key aliases (`client-id`, `user`, `pass`, `token`).
//!
//! Secrets (`client_secret`, `password`) are `SecretString` from the parse on;
//! the tokens a workspace may carry are only noted as present, never kept.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use central_auth_core::fsutil::foreign;
use central_auth_core::{Error, SecretString};
use serde::de::IgnoredAny;
use serde::Deserialize;

/// The largest config file read (cencli's are a few KiB).
const MAX_BYTES: u64 = 1024 * 1024;

/// One cencli workspace's classic API settings.
pub struct Workspace {
    /// The workspace name (the key under `workspaces:`).
    pub name: String,
    /// `cluster` (cencli's names: `us1`, `us2`, ..., default `us6`).
    pub cluster: Option<String>,
    /// `classic.base_url`.
    pub base_url: Option<String>,
    /// `classic.customer_id` (a number or a string in YAML).
    pub customer_id: Option<String>,
    /// `classic.client_id`.
    pub client_id: Option<String>,
    /// `classic.client_secret`, a literal.
    pub client_secret: Option<SecretString>,
    /// `classic.username`.
    pub username: Option<String>,
    /// `classic.password`, a literal.
    pub password: Option<SecretString>,
    /// Whether `classic.tokens` (or `token`) is set.
    pub has_tokens: bool,
}

#[derive(Deserialize)]
struct RawConfig {
    workspaces: Option<BTreeMap<String, Option<RawWorkspace>>>,
}

#[derive(Deserialize)]
struct RawWorkspace {
    cluster: Option<String>,
    classic: Option<RawClassic>,
}

#[derive(Deserialize)]
struct RawClassic {
    base_url: Option<String>,
    customer_id: Option<Scalar>,
    #[serde(alias = "client-id")]
    client_id: Option<Scalar>,
    #[serde(alias = "client-secret")]
    client_secret: Option<SecretString>,
    #[serde(alias = "user")]
    username: Option<String>,
    #[serde(alias = "pass")]
    password: Option<SecretString>,
    #[serde(alias = "token")]
    tokens: Option<IgnoredAny>,
}

/// An id written as a string or a number (`customer_id: 1234`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::Text(s) => s,
            Scalar::Int(i) => i.to_string(),
        }
    }
}

/// cencli's config directory, decided as cencli does for a pip-installed
/// cencli: `~/.config/centralcli` when `~/.config` exists, else `~/.centralcli`.
pub fn default_dir() -> Result<PathBuf, Error> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            Error::config(
                "HOME is not set, so cencli's config directory is unknown; pass --config-dir",
            )
        })?;
    let dot_config = home.join(".config");
    Ok(if dot_config.is_dir() {
        dot_config.join("centralcli")
    } else {
        home.join(".centralcli")
    })
}

/// The config file cencli reads in `dir`: `config.yaml`, unless `config.yml` or
/// `config.json` exists (cencli prefers those, in that order).
pub fn file_in(dir: &Path) -> PathBuf {
    ["config.yml", "config.json"]
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| dir.join("config.yaml"))
}

/// How cencli's config file is checked before it is read (docs/security.md):
/// no link, owned by the user or root, not writable by group or others. It
/// may be readable by others (it often holds no secret); a reader that copies
/// a secret from it says so ([`Loaded::exposed_mode`]).
pub const CONFIG_RULE: foreign::Rule = foreign::Rule {
    what: "cencli config",
    readers: foreign::Readers::Any,
    follow_links: false,
};

/// A cencli config, read.
pub struct Loaded {
    /// Its workspaces, in name order.
    pub workspaces: Vec<Workspace>,
    /// Its mode when group or others may read it.
    pub exposed_mode: Option<u32>,
}

/// Checks `path` ([`CONFIG_RULE`]), then reads it and returns its workspaces.
/// Any problem is one line naming the file; nothing is read from a file that
/// fails the check.
pub fn read(path: &Path) -> Result<Loaded, Error> {
    let shown = path.display();
    let (bytes, meta) = foreign::read(path, &CONFIG_RULE, MAX_BYTES)?.ok_or_else(|| {
        Error::bad_input(format!(
            "cannot read cencli config {shown}: it does not exist; pass cencli's config.yaml"
        ))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::bad_input(format!(
            "cencli config {shown} is not UTF-8 text; pass cencli's config.yaml"
        ))
    })?;
    Ok(Loaded {
        workspaces: parse(&text, path)?,
        exposed_mode: foreign::readable_by_others(&meta),
    })
}

/// Parses config text; `path` is used in messages only.
pub fn parse(text: &str, path: &Path) -> Result<Vec<Workspace>, Error> {
    let shown = path.display();
    let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| {
        // The parser's message may quote the offending text: keep only its
        // first line, and never the value of a line it points at.
        let first = e.to_string();
        let first = first.lines().next().unwrap_or("not YAML").to_owned();
        Error::bad_input(format!(
            "cencli config {shown} is not cencli's YAML config ({}); pass ~/.config/centralcli/config.yaml",
            central_auth_core::adapter::terminal_safe(&first)
        ))
    })?;
    let workspaces = raw.workspaces.ok_or_else(|| {
        Error::bad_input(format!(
            "cencli config {shown} has no `workspaces:` mapping (cencli 8+ format); run any cencli command once to convert an old config, then retry"
        ))
    })?;
    Ok(workspaces
        .into_iter()
        .map(|(name, ws)| {
            let (cluster, classic) = match ws {
                Some(ws) => (ws.cluster, ws.classic),
                None => (None, None),
            };
            let c = classic.unwrap_or(RawClassic {
                base_url: None,
                customer_id: None,
                client_id: None,
                client_secret: None,
                username: None,
                password: None,
                tokens: None,
            });
            Workspace {
                name,
                cluster,
                base_url: c.base_url.map(|u| u.trim_end_matches('/').to_owned()),
                customer_id: c.customer_id.map(Scalar::text),
                client_id: c.client_id.map(Scalar::text),
                client_secret: c.client_secret,
                username: c.username,
                password: c.password,
                has_tokens: c.tokens.is_some(),
            }
        })
        .collect())
}

/// cencli's classic gateway for a cluster name (its `CLUSTER_URLS`).
pub fn cluster_url(cluster: &str) -> Option<&'static str> {
    Some(match cluster {
        "internal" => "https://internal-apigw.central.arubanetworks.com",
        "us1" => "https://app1-apigw.central.arubanetworks.com",
        "us2" => "https://apigw-prod2.central.arubanetworks.com",
        "us4" => "https://apigw-uswest4.central.arubanetworks.com",
        "us5" => "https://apigw-uswest5.central.arubanetworks.com",
        "us6" => "https://apigw-us-east-1.central.arubanetworks.com",
        "eu1" => "https://eu-apigw.central.arubanetworks.com",
        "eu2" => "https://apigw-eucentral2.central.arubanetworks.com",
        "eu3" => "https://apigw-eucentral3.central.arubanetworks.com",
        "ca1" => "https://app1-apigw.central.arubanetworks.com.cn",
        "in1" => "https://api-ap.central.arubanetworks.com",
        "jp1" => "https://apigw-apaceast.central.arubanetworks.com",
        "au1" => "https://apigw-apacsouth.central.arubanetworks.com",
        "ae1" => "https://apigw-uaenorth1.central.arubanetworks.com",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use central_auth_core::secret::ExposeSecret;

    #[test]
    fn reads_workspaces_with_aliases_and_numeric_ids() {
        let text = "workspaces:\n  default:\n    classic:\n      base_url: http://127.0.0.1:9/\n      customer_id: 1234\n      client-id: abc\n      client_secret: s3cret\n      user: me@example.com\n      pass: pw\n      token:\n        access: a\n        refresh: r\n  lab:\n    cluster: eu1\n    classic:\n      client_id: lab\n  empty:\n";
        let ws = parse(text, Path::new("c.yaml")).unwrap();
        assert_eq!(ws.len(), 3);
        let d = &ws[0];
        assert_eq!(d.name, "default");
        assert_eq!(d.base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(d.customer_id.as_deref(), Some("1234"));
        assert_eq!(d.client_id.as_deref(), Some("abc"));
        assert_eq!(d.client_secret.as_ref().unwrap().expose_secret(), "s3cret");
        assert_eq!(d.username.as_deref(), Some("me@example.com"));
        assert_eq!(d.password.as_ref().unwrap().expose_secret(), "pw");
        assert!(d.has_tokens);
        assert_eq!(ws[1].name, "empty");
        assert!(ws[1].client_id.is_none());
        assert_eq!(ws[2].cluster.as_deref(), Some("eu1"));
        assert!(!ws[2].has_tokens);
    }

    #[test]
    fn bad_input_is_one_line_without_the_text() {
        for text in [
            "workspaces: [1, 2",
            "just a string",
            "central_info:\n  client_id: x\n",
        ] {
            let e = parse(text, Path::new("c.yaml")).err().unwrap();
            let msg = e.to_string();
            assert!(!msg.contains('\n'), "{msg}");
            assert!(msg.contains("c.yaml"), "{msg}");
        }
        let e = parse(
            "workspaces:\n  d:\n    classic:\n      client_secret: [SECRETVALUE\n",
            Path::new("c.yaml"),
        )
        .err()
        .unwrap();
        assert!(!e.to_string().contains("SECRETVALUE"), "{e}");
    }
}
