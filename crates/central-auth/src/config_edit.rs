//! Line edits of the config text for `store migrate --to` (point a profile at
//! a store, adding the store's table when missing, or back at the file store)
//! and `secret set` (point a profile's secret at its keyring item).
//! The caller parses the result with the same parser as every command and
//! checks the profile's store, so an edit the scan cannot make (a dotted key,
//! an inline table) is refused, never written half-right.

/// The `[stores.NAME]` table of a default keyring store.
pub const KEYRING_TABLE: &str = "[stores.keyring]\nkind = \"keyring\"\n";

/// Whether a header line names `table` (e.g. `profiles.work`), quoted or not.
fn is_header(line: &str, table: &str) -> bool {
    let t: String = line
        .split('#')
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    t == format!("[{table}]")
}

fn is_any_header(line: &str) -> bool {
    line.trim_start().starts_with('[')
}

fn is_key(line: &str, key: &str) -> bool {
    let t = line.trim_start();
    t.strip_prefix(key)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// `text` with the profile's `store` line set to `store`, or `None` when it
/// has no `[profiles.NAME]` header line.
pub fn set_store(text: &str, profile: &str, store: &str) -> Option<String> {
    set_key(text, profile, &["store"], &format!("store = \"{store}\""))
}

/// `text` without the `store` line of the profile's table, or `None` when it
/// has no `[profiles.NAME]` header line.
pub fn remove_store(text: &str, profile: &str) -> Option<String> {
    remove_keys(text, profile, &["store"])
}

/// `text` with the lines of `keys` in the profile's table replaced by `line`
/// right under its header, or `None` when it has no `[profiles.NAME]` header.
pub fn set_key(text: &str, profile: &str, keys: &[&str], line_text: &str) -> Option<String> {
    let without = remove_keys(text, profile, keys)?;
    let mut out = String::with_capacity(without.len() + 32);
    let mut done = false;
    for line in without.split_inclusive('\n') {
        out.push_str(line);
        if !done && is_header(line, &format!("profiles.{profile}")) {
            if !line.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(line_text);
            out.push('\n');
            done = true;
        }
    }
    done.then_some(out)
}

/// `text` without the lines of `keys` in the profile's table, or `None` when
/// it has no `[profiles.NAME]` header line.
pub fn remove_keys(text: &str, profile: &str, keys: &[&str]) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    let mut found = false;
    for line in text.split_inclusive('\n') {
        if is_any_header(line) {
            inside = is_header(line, &format!("profiles.{profile}"));
            found |= inside;
        } else if inside && keys.iter().any(|k| is_key(line, k)) {
            continue;
        }
        out.push_str(line);
    }
    found.then_some(out)
}

/// `text` with a `[stores.keyring]` table appended unless one is there.
pub fn with_keyring_table(text: &str) -> String {
    if text.lines().any(|l| is_header(l, "stores.keyring")) {
        return text.to_owned();
    }
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push('\n');
    out.push_str(KEYRING_TABLE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "default_profile = \"work\"\n\n[profiles.work]\nclient_id = \"a\"\nstore = \"team\"\n\n[profiles.\"home\"]\nclient_id = \"b\"\n";

    #[test]
    fn sets_replaces_and_removes_only_the_profiles_store_line() {
        let set = set_store(TEXT, "home", "keyring").unwrap();
        assert!(set.contains("[profiles.\"home\"]\nstore = \"keyring\"\nclient_id = \"b\"\n"));
        assert!(set.contains("store = \"team\""), "{set}");
        let moved = set_store(TEXT, "work", "keyring").unwrap();
        assert!(!moved.contains("team"), "{moved}");
        assert_eq!(moved.matches("store =").count(), 1);
        let removed = remove_store(TEXT, "work").unwrap();
        assert!(!removed.contains("store ="), "{removed}");
        assert!(set_store(TEXT, "nope", "keyring").is_none());
        assert!(remove_store(TEXT, "nope").is_none());
    }

    #[test]
    fn the_keyring_table_is_added_once() {
        let once = with_keyring_table(TEXT);
        assert!(once.ends_with(KEYRING_TABLE));
        assert_eq!(with_keyring_table(&once), once);
    }
}
