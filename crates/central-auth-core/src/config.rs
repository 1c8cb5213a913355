//! The configuration file: profiles, their endpoints and where their secrets come from.
//!
//! `config.toml` holds a top-level `default_profile` and one `[profiles.NAME]` table
//! per profile. Parsing is strict (unknown keys are errors that name the key), and
//! every problem is reported as one line saying how to fix it. Secrets are never
//! resolved here: a profile only says *where* its secret comes from
//! ([`SecretSource`]), so the cached-token path never runs a `*_cmd`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::clusters;
use crate::duration;
use crate::error::Error;
use crate::secret::SecretString;
use crate::secret_source::SecretSource;

/// Default for how long a returned token must stay valid.
pub const DEFAULT_MIN_VALID: Duration = Duration::from_secs(300);
/// Default bound on waiting for another process's lock.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A validated profile name: ASCII letters, digits, `.`, `_`, `-`; no leading dot.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProfileName(String);

impl ProfileName {
    /// Validates a profile name so it is safe to use as a file name.
    pub fn new(name: &str) -> Result<ProfileName, Error> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && !name.starts_with('.')
            && !name.starts_with('-')
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if ok {
            Ok(ProfileName(name.to_owned()))
        } else {
            Err(Error::config(format!(
                "invalid profile name {name:?}: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-' (no '/' or '..')"
            )))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ProfileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// How a profile obtains tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Classic Central: a rotating access/refresh token pair.
    RefreshToken,
    /// New Central / GreenLake: mint a token with the client id and secret.
    ClientCredentials,
}

impl Grant {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Grant::RefreshToken => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }
}

/// One resolved, validated profile.
#[derive(Debug)]
pub struct Profile {
    /// The profile's name.
    pub name: ProfileName,
    /// API gateway base URL without a trailing slash.
    pub base_url: String,
    /// How tokens are obtained.
    pub grant: Grant,
    /// Token endpoint for client credentials.
    pub token_url: String,
    /// OAuth client id.
    pub client_id: String,
    /// Where the client secret comes from.
    pub client_secret: SecretSource,
    /// Central customer id (classic login).
    pub customer_id: Option<String>,
    /// Username for the classic OAuth login.
    pub username: Option<String>,
    /// Where the password comes from, if configured.
    pub password: Option<SecretSource>,
    /// Extra CA certificates (PEM) to trust for this profile.
    pub ca_file: Option<PathBuf>,
    /// Default minimum validity of returned tokens.
    pub min_valid: Duration,
    /// Bound on waiting for the profile lock.
    pub lock_timeout: Duration,
    /// Bound on each `*_cmd` secret command.
    pub secret_cmd_timeout: Duration,
    /// Hosts for which the git helper answers with this profile.
    pub git_hosts: Vec<String>,
    /// Name of the `[stores.NAME]` table holding this profile's record; `None`
    /// for the local file store.
    pub store: Option<String>,
}

impl Profile {
    /// The host (and port) of the base URL, used to match git hosts.
    pub fn base_host(&self) -> &str {
        host_of(&self.base_url)
    }

    /// True when a username and a non-interactive password source are configured,
    /// so the broker may log in again by itself.
    pub fn can_relogin(&self) -> bool {
        self.username.is_some() && self.password.is_some() && self.customer_id.is_some()
    }
}

/// The parsed config file.
#[derive(Debug)]
pub struct Config {
    /// Path the config was read from (for messages).
    pub path: PathBuf,
    /// `default_profile` from the file.
    pub default_profile: Option<ProfileName>,
    /// Profiles by name.
    pub profiles: BTreeMap<ProfileName, Profile>,
    /// Shared token stores by name (`[stores.NAME]`).
    pub stores: BTreeMap<String, crate::store::vault::VaultConfig>,
    /// True when a profile this config left unread ([`Config::load_for`]) has a
    /// literal `client_secret` key (for the exposure warning).
    pub unread_literal_secret: bool,
}

/// Whether `text` has a `client_secret` key holding the secret itself (not
/// `client_secret_env` or `_cmd`): the key, blanks or a closing quote, then `=`.
pub(crate) fn has_literal_secret_key(text: &str) -> bool {
    let bytes = text.as_bytes();
    memchr::memmem::find_iter(bytes, b"client_secret").any(|at| {
        bytes[at + b"client_secret".len()..]
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'"' | b'\''))
            == Some(&b'=')
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, RawProfile>,
    #[serde(default)]
    stores: BTreeMap<String, crate::store::vault::RawVaultConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    base_url: Option<String>,
    cluster: Option<String>,
    grant: Option<Grant>,
    token_url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    client_secret_env: Option<String>,
    client_secret_cmd: Option<String>,
    customer_id: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    password_cmd: Option<String>,
    ca_file: Option<PathBuf>,
    min_valid: Option<String>,
    lock_timeout: Option<String>,
    secret_cmd_timeout: Option<String>,
    #[serde(default)]
    git_hosts: Vec<String>,
    store: Option<String>,
}

impl Config {
    /// Reads and validates the config file. A missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config {
                path: path.to_owned(),
                default_profile: None,
                profiles: BTreeMap::new(),
                stores: BTreeMap::new(),
                unread_literal_secret: false,
            }),
            Err(e) => Err(Error::config(format!(
                "cannot read config {}: {e}",
                path.display()
            ))),
        }
    }

    /// Loads what a call for one profile needs: the profile `wanted` (else the
    /// file's `default_profile`), the default profile, and every table that is
    /// not another profile's (see [`crate::sections`]). Falls back to
    /// [`Config::load`] when there is no name to go by, the file cannot be split
    /// exactly, or the profile is not found (so the error lists every profile).
    /// Only the profiles read are validated; `central-auth profiles` and `doctor`
    /// read them all.
    pub fn load_for(path: &Path, wanted: Option<&str>) -> Result<Config, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse_for(&text, path, wanted),
            Err(_) => Config::load(path),
        }
    }

    /// [`Config::load_for`] on text; `path` is used in messages only.
    pub fn parse_for(text: &str, path: &Path, wanted: Option<&str>) -> Result<Config, Error> {
        #[derive(Deserialize)]
        struct Root {
            default_profile: Option<String>,
        }
        let Some(sections) = crate::sections::Sections::scan(text) else {
            return Config::parse(text, path);
        };
        let default = toml::from_str::<Root>(sections.root())
            .ok()
            .and_then(|r| r.default_profile);
        let keep: Vec<&str> = wanted.iter().copied().chain(default.as_deref()).collect();
        if keep.is_empty() {
            return Config::parse(text, path);
        }
        match Config::parse(&sections.keep_profiles(&keep), path) {
            Ok(mut config)
                if keep.iter().all(|name| {
                    ProfileName::new(name).is_ok_and(|n| config.profiles.contains_key(&n))
                }) =>
            {
                config.unread_literal_secret = sections.dropped_any(&keep, has_literal_secret_key);
                Ok(config)
            }
            _ => Config::parse(text, path),
        }
    }

    /// Parses config text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let shown = path.display();
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let msg = e.message().replace('\n', " ");
            let line = e
                .span()
                .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            Error::config(format!("config {shown}{line}: {msg}"))
        })?;
        let mut stores = BTreeMap::new();
        for (name, raw_store) in raw.stores {
            let store = crate::store::vault::VaultConfig::resolve(&name, raw_store)
                .map_err(|msg| Error::config(format!("config {shown}: stores.{name}: {msg}")))?;
            stores.insert(name, store);
        }
        let mut profiles = BTreeMap::new();
        for (name, rp) in raw.profiles {
            let name = ProfileName::new(&name)
                .map_err(|e| Error::config(format!("config {shown}: {e}")))?;
            let profile = resolve_profile(name.clone(), rp)
                .map_err(|msg| Error::config(format!("config {shown}: profile {name:?}: {msg}")))?;
            if let Some(store) = &profile.store {
                if !stores.contains_key(store) {
                    return Err(Error::config(format!(
                        "config {shown}: profile {name:?}: store {store:?} has no [stores.{store}] table; add it or remove the store key"
                    )));
                }
            }
            profiles.insert(name, profile);
        }
        let default_profile = match raw.default_profile {
            Some(d) => {
                let d = ProfileName::new(&d)
                    .map_err(|e| Error::config(format!("config {shown}: default_profile: {e}")))?;
                if !profiles.contains_key(&d) {
                    return Err(Error::config(format!(
                        "config {shown}: default_profile {d:?} has no [profiles.{d}] table; add it or fix the name"
                    )));
                }
                Some(d)
            }
            None => None,
        };
        Ok(Config {
            path: path.to_owned(),
            default_profile,
            profiles,
            stores,
            unread_literal_secret: false,
        })
    }

    /// Picks the profile to use: `explicit` (from `--profile`), else the
    /// `CENTRAL_AUTH_PROFILE` value passed in `from_env`, else `default_profile`,
    /// else the only profile if there is exactly one.
    pub fn select(
        &self,
        explicit: Option<&str>,
        from_env: Option<&str>,
    ) -> Result<&Profile, Error> {
        let from_env = from_env.filter(|s| !s.is_empty());
        let (chosen, source) = match (explicit, from_env) {
            (Some(n), _) => (Some(n), "--profile"),
            (None, Some(n)) => (Some(n), "CENTRAL_AUTH_PROFILE"),
            (None, None) => (None, "default_profile"),
        };
        let name = match chosen {
            Some(n) => ProfileName::new(n)
                .map_err(|e| Error::config(format!("{source}: {e}")))?,
            None => match (&self.default_profile, self.profiles.len()) {
                (Some(d), _) => d.clone(),
                (None, 1) => self
                    .profiles
                    .keys()
                    .next()
                    .expect("length checked to be 1")
                    .clone(),
                (None, 0) => {
                    let state = if self.path.exists() {
                        "exists but has no [profiles.NAME] table"
                    } else {
                        "does not exist"
                    };
                    return Err(Error::config(format!(
                        "no profiles configured: the config file {} {state}; add a [profiles.NAME] table (see docs/configuration.md)",
                        self.path.display()
                    )));
                }
                (None, _) => {
                    return Err(Error::config(format!(
                        "several profiles and no default in {}; pass --profile, set CENTRAL_AUTH_PROFILE, or set default_profile",
                        self.path.display()
                    )))
                }
            },
        };
        match self.profiles.get(&name) {
            Some(p) => Ok(p),
            None => Err(self.missing(&name, chosen.map(|_| source))),
        }
    }

    /// The named profile, or an error listing the known ones.
    pub fn get(&self, name: &ProfileName) -> Result<&Profile, Error> {
        self.profiles
            .get(name)
            .ok_or_else(|| self.missing(name, None))
    }

    /// The error for an unknown profile name, saying where the name came from
    /// (`--profile`, `CENTRAL_AUTH_PROFILE`) when known.
    fn missing(&self, name: &ProfileName, source: Option<&str>) -> Error {
        let known: Vec<&str> = self.profiles.keys().map(|k| k.as_str()).collect();
        let source = source.map(|s| format!(" (from {s})")).unwrap_or_default();
        let exists = if self.path.exists() {
            ""
        } else {
            ", which does not exist"
        };
        Error::config(format!(
                "no profile {name:?}{source} in {}{exists} (known: {}); add [profiles.{name}] or fix the name",
                self.path.display(),
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
    }
}

fn resolve_profile(name: ProfileName, rp: RawProfile) -> Result<Profile, String> {
    let grant = rp.grant.unwrap_or(Grant::RefreshToken);
    let base_url = match (rp.base_url, rp.cluster) {
        (Some(_), Some(_)) => {
            return Err("set either base_url or cluster, not both".into());
        }
        (Some(url), None) => normalize_url(&url, "base_url")?,
        (None, Some(cluster)) => {
            let table = match grant {
                Grant::RefreshToken => clusters::CLASSIC,
                Grant::ClientCredentials => clusters::NEW_CENTRAL,
            };
            clusters::lookup(table, &cluster)
                .ok_or_else(|| {
                    format!(
                        "unknown cluster {cluster:?} for grant {}; known clusters: {} (or set base_url)",
                        grant.as_str(),
                        clusters::names(table)
                    )
                })?
                .to_owned()
        }
        (None, None) => {
            return Err("set base_url or cluster (e.g. cluster = \"US-2\")".into());
        }
    };
    let token_url = match (&grant, rp.token_url) {
        (_, Some(u)) => normalize_url(&u, "token_url")?,
        (Grant::ClientCredentials, None) => clusters::GREENLAKE_TOKEN_URL.to_owned(),
        (Grant::RefreshToken, None) => format!("{base_url}/oauth2/token"),
    };
    let client_id = rp
        .client_id
        .filter(|s| !s.trim().is_empty())
        .ok_or("client_id is missing")?;
    let client_secret = SecretSource::pick(
        "client_secret",
        rp.client_secret,
        rp.client_secret_env,
        rp.client_secret_cmd,
    )?
    .ok_or("set one of client_secret, client_secret_env or client_secret_cmd")?;
    let password = SecretSource::pick("password", None, rp.password_env, rp.password_cmd)?;
    if password.is_some() && rp.username.is_none() {
        return Err("a password source is set but username is missing".into());
    }
    let min_valid = match rp.min_valid {
        Some(t) => duration::parse(&t).map_err(|e| format!("min_valid: {e}"))?,
        None => DEFAULT_MIN_VALID,
    };
    let lock_timeout = match rp.lock_timeout {
        Some(t) => duration::parse(&t).map_err(|e| format!("lock_timeout: {e}"))?,
        None => DEFAULT_LOCK_TIMEOUT,
    };
    let secret_cmd_timeout = match rp.secret_cmd_timeout {
        Some(t) => duration::parse(&t)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                format!("secret_cmd_timeout {t:?}: write a positive duration such as 10s")
            })?,
        None => crate::secret_source::DEFAULT_CMD_TIMEOUT,
    };
    Ok(Profile {
        name,
        base_url,
        grant,
        token_url,
        client_id,
        client_secret,
        customer_id: rp.customer_id,
        username: rp.username,
        password,
        ca_file: rp.ca_file,
        min_valid,
        lock_timeout,
        secret_cmd_timeout,
        git_hosts: rp.git_hosts,
        store: rp.store.filter(|s| s != "file"),
    })
}

/// Checks a URL is `https://`, or `http://` to a loopback host only, and strips a
/// trailing slash. Refusing here means no secret is ever sent in clear text.
/// The host must read the same to a person and to a resolver ([`check_authority`]).
pub fn normalize_url(url: &str, key: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    if url.contains('\\') || url.chars().any(|c| c.is_control()) {
        return Err(format!(
            "{key} {:?} contains a backslash or a control character; write a plain URL such as https://apigw-prod2.central.arubanetworks.com",
            url.escape_debug().to_string()
        ));
    }
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        format!(
            "{key} {url:?} is not a URL; write e.g. https://apigw-prod2.central.arubanetworks.com"
        )
    })?;
    let host = host_of(url);
    if host.is_empty() || rest.contains(char::is_whitespace) || rest.contains('@') {
        return Err(format!(
            "{key} {url:?} is not a valid URL (no host, spaces, or user info)"
        ));
    }
    check_authority(host).map_err(|why| format!("{key} {url:?}: {why}"))?;
    match scheme {
        "https" => Ok(url.to_owned()),
        "http" if is_loopback(host) => Ok(url.to_owned()),
        "http" => Err(format!(
            "{key} {url:?} uses plain http to a non-loopback host; secrets would travel in clear text, use https://"
        )),
        _ => Err(format!("{key} {url:?}: only https:// URLs are supported")),
    }
}

/// Refuses a `host[:port]` that a resolver could read differently from a person:
/// anything after an IPv6 literal's `]` but a port, percent-encoding, characters
/// outside letters, digits, `-` and `.` (write international names in punycode),
/// empty labels or a trailing dot, and numeric hosts that are not a plain dotted
/// quad (`127.1`, `0x7f.0.0.1`, `2130706433` all mean 127.0.0.1 to `inet_aton`).
pub fn check_authority(authority: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or("the IPv6 address has no closing ']'")?;
        inside
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| "the text in [...] is not an IPv6 address")?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or("only :PORT may follow an IPv6 address's ']'")?,
            ),
        };
        (None, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(authority), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || port.parse::<u16>().map_or(true, |p| p == 0)
        {
            return Err("the port must be a number from 1 to 65535".to_owned());
        }
    }
    let Some(host) = host else {
        return Ok(());
    };
    if host.contains('%') {
        return Err("the host is percent-encoded; write it plainly".to_owned());
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err("the host may hold only letters, digits, '-' and '.' (international names in punycode, IPv6 in [...])".to_owned());
    }
    if host.ends_with('.') {
        return Err("the host ends with '.'; remove the trailing dot".to_owned());
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
    {
        return Err("the host has an empty, too long or '-'-edged label".to_owned());
    }
    let last = labels.last().copied().unwrap_or_default();
    let numeric =
        last.bytes().all(|b| b.is_ascii_digit()) || last.to_ascii_lowercase().starts_with("0x");
    if numeric && host.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(
            "the host looks numeric but is not a dotted-quad IPv4 address (a resolver would read it as one); write e.g. 127.0.0.1".to_owned(),
        );
    }
    Ok(())
}

/// The `host[:port]` part of a URL.
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or("")
}

/// True for `localhost`, `127.0.0.0/8` and `[::1]`, with or without a port.
pub fn is_loopback(host_port: &str) -> bool {
    let host = if let Some(rest) = host_port.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new("/x/config.toml"))
    }

    fn parse_for(text: &str, wanted: Option<&str>) -> Result<Config, Error> {
        Config::parse_for(text, Path::new("/x/config.toml"), wanted)
    }

    fn names(c: &Config) -> Vec<&str> {
        c.profiles.keys().map(|k| k.as_str()).collect()
    }

    fn profile_table(name: &str) -> String {
        format!("\n[profiles.{name}]\ncluster = \"US-2\"\nclient_id = \"cid-{name}\"\nclient_secret_env = \"S\"\n")
    }

    #[test]
    fn one_profile_call_reads_only_its_profile() {
        let mut text = String::from("default_profile = \"main\"\n");
        for i in 0..50 {
            text.push_str(&profile_table(&format!("p{i}")));
        }
        text.push_str(&profile_table("main"));
        text.push_str("[profiles.\"dotted.name\"]\ncluster = \"EU-1\"\nclient_id = \"d\"\nclient_secret_env = \"S\"\n");
        let full = parse(&text).unwrap();
        for (wanted, expect) in [
            (Some("p7"), vec!["main", "p7"]),
            (None, vec!["main"]),
            (Some("dotted.name"), vec!["dotted.name", "main"]),
        ] {
            let part = parse_for(&text, wanted).unwrap();
            assert_eq!(names(&part), expect, "{wanted:?}");
            // The profile read is exactly what the whole parse gives.
            let a = part.select(wanted, None).unwrap();
            let b = full.select(wanted, None).unwrap();
            assert_eq!(format!("{a:?}"), format!("{b:?}"));
            assert_eq!(part.default_profile, full.default_profile);
        }
    }

    #[test]
    fn a_literal_secret_in_an_unread_profile_is_noted() {
        let text = format!(
            "{}{}\n[profiles.lit]\ncluster = \"US-2\"\nclient_id = \"c\"\n\"client_secret\" = \"x\"\n",
            profile_table("a"),
            profile_table("b")
        );
        assert!(parse_for(&text, Some("a")).unwrap().unread_literal_secret);
        assert!(!parse_for(&text, Some("lit")).unwrap().unread_literal_secret);
        let env_only = format!("{}{}", profile_table("a"), profile_table("b"));
        assert!(
            !parse_for(&env_only, Some("a"))
                .unwrap()
                .unread_literal_secret
        );
        assert!(!has_literal_secret_key(
            "client_secret_env = \"S\"\nclient_secret_cmd = \"x\""
        ));
        assert!(has_literal_secret_key("client_secret\t= \"S\""));
    }

    #[test]
    fn one_profile_call_falls_back_to_the_whole_file() {
        let two = format!("{}{}", profile_table("a"), profile_table("b"));
        // No name to go by: the "only profile" and "several profiles" rules need all.
        assert_eq!(names(&parse_for(&two, None).unwrap()), vec!["a", "b"]);
        // An unknown profile: the error lists every profile.
        let e = parse_for(&two, Some("zz"))
            .unwrap()
            .select(Some("zz"), None)
            .unwrap_err();
        assert!(e.to_string().contains("a, b"), "{e}");
        // A file the scan cannot split exactly is parsed whole.
        let aot = format!("{two}[[extra]]\nx = 1\n");
        assert!(parse_for(&aot, Some("a")).is_err());
    }

    #[test]
    fn one_profile_call_reports_its_errors_on_the_file_lines() {
        let text = format!(
            "{}{}\n[profiles.bad]\ncluster = \"US-2\"\nclient_id = 7\n",
            profile_table("a"),
            profile_table("b")
        );
        let whole = parse(&text).unwrap_err().to_string();
        let part = parse_for(&text, Some("bad")).unwrap_err().to_string();
        assert_eq!(part, whole);
        assert!(part.contains("line 14"), "{part}");
        // Another profile's mistake does not break this one's call; the whole
        // file still reports it.
        assert!(parse_for(&text, Some("a")).is_ok());
    }

    const MINIMAL: &str = r#"
        [profiles.prod]
        cluster = "US-2"
        client_id = "cid"
        client_secret_env = "SECRET"
    "#;

    #[test]
    fn minimal_profile_resolves_cluster() {
        let c = parse(MINIMAL).unwrap();
        let p = c.select(None, None).unwrap();
        assert_eq!(p.base_url, "https://apigw-prod2.central.arubanetworks.com");
        assert_eq!(
            p.token_url,
            "https://apigw-prod2.central.arubanetworks.com/oauth2/token"
        );
        assert_eq!(p.grant, Grant::RefreshToken);
        assert_eq!(p.min_valid, DEFAULT_MIN_VALID);
    }

    #[test]
    fn client_credentials_uses_new_central_table_and_sso() {
        let c = parse(
            r#"[profiles.nc]
            grant = "client_credentials"
            cluster = "US-2"
            client_id = "cid"
            client_secret = "s"
            "#,
        )
        .unwrap();
        let p = c.select(Some("nc"), None).unwrap();
        assert_eq!(p.base_url, "https://us2.api.central.arubanetworks.com");
        assert_eq!(p.token_url, clusters::GREENLAKE_TOKEN_URL);
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn rejects_bad_profiles_with_a_fix() {
        let both = err(r#"[profiles.p]
            base_url = "https://a.example"
            cluster = "US-2"
            client_id = "c"
            client_secret = "s""#);
        assert!(
            both.contains("either base_url or cluster, not both"),
            "{both}"
        );
        let unknown = err(r#"[profiles.p]
            cluster = "Mars-1"
            client_id = "c"
            client_secret = "s""#);
        assert!(unknown.contains("unknown cluster \"Mars-1\"") && unknown.contains("US-2"));
        let plain = err(r#"[profiles.p]
            base_url = "http://central.example.com"
            client_id = "c"
            client_secret = "s""#);
        assert!(plain.contains("plain http"), "{plain}");
        let typo = err(r#"[profiles.p]
            base_url = "https://a.example"
            client_idd = "c""#);
        assert!(typo.contains("client_idd"), "{typo}");
        let name = err(r#"[profiles."../evil"]
            base_url = "https://a.example"
            client_id = "c"
            client_secret = "s""#);
        assert!(name.contains("invalid profile name"), "{name}");
        let two = err(r#"[profiles.p]
            base_url = "https://a.example"
            client_id = "c"
            client_secret = "s"
            client_secret_env = "S""#);
        assert!(two.contains("only one of"), "{two}");
    }

    #[test]
    fn loopback_http_is_allowed() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9/x",
            "http://127.1.2.3",
        ] {
            normalize_url(ok, "base_url").unwrap();
        }
        assert!(normalize_url("http://127.0.0.1.evil.com", "base_url").is_err());
        assert!(normalize_url("http://user@127.0.0.1", "base_url").is_err());
        assert!(normalize_url("ftp://x", "base_url").is_err());
    }

    #[test]
    fn hosts_a_resolver_reads_differently_are_refused() {
        for bad in [
            "http://[::1]evil.com",
            "http://[::1]:80evil",
            "https://[::1",
            "https://central.example\\@evil.example",
            "https://evil.example\\central.example",
            "https://c%65ntral.example",
            "https://central.example.",
            "https://central..example",
            "https://-central.example",
            "http://127.1",
            "http://0x7f.0.0.1",
            "http://2130706433",
            "http://127.0.0.1:0",
            "http://127.0.0.1:99999",
            "http://127.0.0.1:8a",
            "https://centr\u{430}l.example",
            "https://central.example\u{1b}[2J",
        ] {
            let e = normalize_url(bad, "base_url").expect_err(bad);
            assert!(!e.contains('\u{1b}'), "{e}");
        }
        for good in [
            "https://apigw-prod2.central.arubanetworks.com",
            "https://apigw-prod2.central.arubanetworks.com:443/",
            "http://[::1]:8080",
            "https://[2001:db8::1]",
            "https://10.0.0.1:8443",
            "https://xn--centrl-3ve.example",
        ] {
            normalize_url(good, "base_url").expect(good);
        }
    }

    #[test]
    fn selection_order() {
        let text = format!("default_profile = \"prod\"\n{MINIMAL}\n[profiles.lab]\nbase_url = \"https://lab.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\n");
        let c = parse(&text).unwrap();
        assert_eq!(c.select(None, None).unwrap().name.as_str(), "prod");
        assert_eq!(c.select(None, Some("lab")).unwrap().name.as_str(), "lab");
        assert_eq!(
            c.select(Some("prod"), Some("lab")).unwrap().name.as_str(),
            "prod"
        );
        assert!(c
            .select(Some("nope"), None)
            .unwrap_err()
            .to_string()
            .contains("known: lab, prod"));
    }

    #[test]
    fn profile_names() {
        for bad in ["", "a/b", "..", ".hidden", "-x", "a b", "ü"] {
            assert!(ProfileName::new(bad).is_err(), "{bad}");
        }
        for good in ["prod", "us-2.lab", "A_b-9"] {
            ProfileName::new(good).unwrap();
        }
    }
}
