//! `central-auth tenants --write-profiles`: one `grant = "token_exchange"`
//! profile per managed tenant, appended to the config file's text (comments
//! and layout stay), validated by the parser every command uses, and written
//! atomically at 0600. A tenant whose profile name already exists is skipped
//! with a line; nothing is written when there is nothing new.
//!
//! The profile name is the tenant's name in lower case with every other
//! character as `-` (`Bob's Bikes` → `bob-s-bikes`); a name that is empty or
//! taken by another tenant of the same list gets the id's first 8 digits.
//! Profiles name the tenant by `tenant_id`, so they never list tenants again;
//! the workspace name is kept as a comment (a TOML string, so no name can
//! break out of the comment).

use std::path::Path;

use central_auth_core::config::Config;
use central_auth_core::{Error, ProfileName, TenantEntry};

/// A TOML string literal.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The profile name for a tenant's workspace name.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(48).collect()
}

/// Appends a profile per tenant to `config_path`; the lines for stderr.
pub fn write(
    config_path: &Path,
    msp: &ProfileName,
    tenants: &[TenantEntry],
) -> Result<Vec<String>, Error> {
    let existing = match std::fs::read_to_string(config_path) {
        Ok(text) => text,
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read config {}: {e}",
                config_path.display()
            )))
        }
    };
    let current = Config::parse(&existing, config_path)?;
    let mut text = existing.clone();
    let mut lines = Vec::new();
    let mut created: Vec<ProfileName> = Vec::new();
    for t in tenants {
        let hex8: String = t.hex_id.chars().take(8).collect();
        let base = slug(&t.name);
        let mut candidates = vec![];
        if !base.is_empty() {
            candidates.push(base.clone());
        }
        candidates.push(if base.is_empty() {
            format!("tenant-{hex8}")
        } else {
            format!("{base}-{hex8}")
        });
        let shown = central_auth_core::adapter::terminal_safe(&t.name);
        let mut chosen = None;
        for c in candidates {
            let Ok(name) = ProfileName::new(&c) else {
                continue;
            };
            if current.profiles.contains_key(&name) {
                lines.push(format!(
                    "central-auth: tenant {shown:?}: profile {name} already exists; skipped"
                ));
                chosen = None;
                break;
            }
            if !created.contains(&name) {
                chosen = Some(name);
                break;
            }
        }
        let Some(name) = chosen else { continue };
        if t.hex_id.is_empty() || !t.hex_id.bytes().all(|b| b.is_ascii_hexdigit()) {
            lines.push(format!(
                "central-auth: tenant {shown:?}: the list gave no usable workspace id; skipped"
            ));
            continue;
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!(
            "\n# workspaceName = {}\n[profiles.{name}]\ngrant = \"token_exchange\"\nfrom = {}\ntenant_id = {}\n",
            quoted(&t.name),
            quoted(msp.as_str()),
            quoted(&t.hex_id)
        ));
        created.push(name);
    }
    if created.is_empty() {
        lines.push("central-auth: no new tenant profiles; the config is unchanged".to_owned());
        return Ok(lines);
    }
    Config::parse(&text, config_path).map_err(|e| {
        Error::bad_input(format!(
            "the tenant profiles would not make a valid config ({e}); nothing was changed"
        ))
    })?;
    let target = std::fs::canonicalize(config_path).unwrap_or_else(|_| config_path.to_owned());
    central_auth_core::store::file::write_atomically(&target, text.as_bytes())?;
    for name in &created {
        lines.push(format!(
            "central-auth: profile {name}: created in {}",
            config_path.display()
        ));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs() {
        assert_eq!(slug("Bob's Bikes"), "bob-s-bikes");
        assert_eq!(slug("Café \"Zürich\" & Co"), "caf-z-rich-co");
        assert_eq!(slug("ÄÖÜ"), "");
        assert_eq!(slug("--x--"), "x");
    }
}
