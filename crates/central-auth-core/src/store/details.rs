//! What `status` shows about a remote store, filled by its backend: ordered
//! JSON fields (`store_details` in `status --json`, docs/json.md) and the lines
//! of the text report. Never holds a secret.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// A remote store as `status` shows it.
#[derive(Debug, Clone, Default)]
pub struct StoreDetails {
    fields: Vec<(&'static str, Value)>,
    lines: Vec<(&'static str, String)>,
}

impl StoreDetails {
    /// No fields, no lines.
    pub fn new() -> StoreDetails {
        StoreDetails::default()
    }

    /// Adds the JSON field `key` (in this order); a value that cannot be
    /// represented as JSON is `null`.
    pub fn field(mut self, key: &'static str, value: impl Serialize) -> StoreDetails {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.fields.push((key, value));
        self
    }

    /// Adds a line of the text report: `label` (at most 14 characters) and
    /// what follows it.
    pub fn line(mut self, label: &'static str, text: impl Into<String>) -> StoreDetails {
        self.lines.push((label, text.into()));
        self
    }

    /// The JSON fields, in order.
    pub fn fields(&self) -> &[(&'static str, Value)] {
        &self.fields
    }

    /// The value of the JSON field `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The lines of the text report, in order.
    pub fn lines(&self) -> &[(&'static str, String)] {
        &self.lines
    }
}

impl Serialize for StoreDetails {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, value) in &self.fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_serialize_in_order() {
        let d = StoreDetails::new()
            .field("name", "team")
            .field("address", None::<String>)
            .field("cache_ttl_seconds", 30u64)
            .line("store auth", "token_env VAULT_TOKEN");
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"name":"team","address":null,"cache_ttl_seconds":30}"#
        );
        assert_eq!(d.get("name"), Some(&Value::from("team")));
        assert_eq!(d.lines()[0].0, "store auth");
    }
}
