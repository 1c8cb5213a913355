//! Reading `config.toml`: the whole file, or the part a call about one profile
//! needs ([`Config::load_for`]), parsed strictly and validated.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::de::DeValue;
use toml::Spanned;

use super::{profile, Config};
use crate::error::Error;
use crate::profile_name::ProfileName;
use crate::store::backend::{self, TableError};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    default_profile: Option<String>,
    #[serde(default)]
    profiles: BTreeMap<String, profile::RawProfile>,
    /// Checked here as a table of tables only; each is parsed by its backend
    /// ([`crate::store::backend`]) from the document's own spans.
    #[serde(default, rename = "stores")]
    _stores: BTreeMap<String, serde::de::IgnoredAny>,
}

/// The `[stores.NAME]` tables of a parsed document, by name, with their spans.
fn store_tables<'i>(root: &toml::de::DeTable<'i>) -> BTreeMap<String, Spanned<DeValue<'i>>> {
    let stores = root
        .iter()
        .find(|(k, _)| k.get_ref() == "stores")
        .and_then(|(_, v)| v.get_ref().as_table());
    stores
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.get_ref().to_string(), v.clone()))
        .collect()
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
        let mut keep: Vec<String> = keep.iter().map(|k| (*k).to_owned()).collect();
        let mut partial = Config::parse_unlinked(&sections.keep_profiles(&as_strs(&keep)), path);
        // A tenant profile needs its MSP profile: read that one too.
        if let Ok(config) = &partial {
            let froms: Vec<String> = config
                .profiles
                .values()
                .filter_map(|p| p.tenant.as_ref())
                .map(|t| t.from.to_string())
                .filter(|f| !keep.contains(f))
                .collect();
            if !froms.is_empty() {
                keep.extend(froms);
                partial = Config::parse_unlinked(&sections.keep_profiles(&as_strs(&keep)), path);
            }
        }
        match partial.and_then(|mut c| c.link_tenants().map(|()| c)) {
            Ok(mut config)
                if keep.iter().all(|name| {
                    ProfileName::new(name).is_ok_and(|n| config.profiles.contains_key(&n))
                }) =>
            {
                config.unread_literal_secret =
                    sections.dropped_any(&as_strs(&keep), has_literal_secret_key);
                Ok(config)
            }
            _ => Config::parse(text, path),
        }
    }

    /// Checks each tenant profile's `from` (a client-credentials profile with
    /// a `workspace_id`) and gives a tenant profile without its own base URL
    /// its MSP's.
    fn link_tenants(&mut self) -> Result<(), Error> {
        let shown = self.path.display().to_string();
        let mut inherit = Vec::new();
        for (name, p) in &self.profiles {
            let Some(t) = &p.tenant else { continue };
            let msp = self.profiles.get(&t.from).ok_or_else(|| {
                Error::config(format!(
                    "config {shown}: profile {name:?}: from {:?} has no [profiles.{}] table; name the MSP profile",
                    t.from.as_str(), t.from
                ))
            })?;
            if msp.grant != super::Grant::ClientCredentials || msp.workspace_id.is_none() {
                return Err(Error::config(format!(
                    "config {shown}: profile {name:?}: from {:?} must be a client_credentials profile with the MSP's workspace_id",
                    t.from.as_str()
                )));
            }
            if p.base_url.is_empty() {
                inherit.push((name.clone(), msp.base_url.clone()));
            }
        }
        for (name, base) in inherit {
            if let Some(p) = self.profiles.get_mut(&name) {
                p.base_url = base;
            }
        }
        Ok(())
    }

    /// Parses config text; `path` is used in messages only.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let mut config = Config::parse_unlinked(text, path)?;
        config.link_tenants()?;
        Ok(config)
    }

    /// Parses config text without linking tenant profiles to their MSP.
    pub(crate) fn parse_unlinked(text: &str, path: &Path) -> Result<Config, Error> {
        let shown = path.display();
        let toml_error = |e: toml::de::Error| {
            let msg = e.message().replace('\n', " ");
            let line = e
                .span()
                .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            Error::config(format!("config {shown}{line}: {msg}"))
        };
        // One parse of the document; the `[stores.NAME]` tables are kept with
        // their spans and handed to their backends, so a backend's error names
        // the same line a whole-file parse would.
        let root = toml::de::DeTable::parse(text).map_err(toml_error)?;
        let store_tables = store_tables(root.get_ref());
        let raw = RawConfig::deserialize(toml::de::Deserializer::from(root)).map_err(toml_error)?;
        let mut stores = BTreeMap::new();
        let mut invalid = None;
        for (name, table) in store_tables {
            match backend::parse(&name, table) {
                Ok(store) => {
                    stores.insert(name, store);
                }
                // A table that does not fit its backend's keys is reported
                // before a wrong value in any table, as one parse of the whole
                // file did.
                Err(TableError::Toml(e)) => return Err(toml_error(e)),
                Err(TableError::Invalid(msg)) => {
                    invalid.get_or_insert_with(|| {
                        Error::config(format!("config {shown}: stores.{name}: {msg}"))
                    });
                }
            }
        }
        if let Some(e) = invalid {
            return Err(e);
        }
        let mut profiles = BTreeMap::new();
        for (name, rp) in raw.profiles {
            let name = ProfileName::new(&name)
                .map_err(|e| Error::config(format!("config {shown}: {e}")))?;
            let profile = profile::resolve_profile(name.clone(), rp)
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
}

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
