//! The `[stores.NAME]` table of kind `vault` through the core's config, once
//! the backend is registered: parsed by this crate, with the messages (line
//! numbers included) the config gave when it parsed the table itself.

use std::path::Path;

use central_auth_core::Config;

fn parse(text: &str) -> Result<Config, String> {
    central_auth_vault::register();
    Config::parse(text, Path::new("/x/config.toml")).map_err(|e| e.to_string())
}

const PROFILE: &str = "[profiles.p]\ncluster = \"US-2\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\nstore = \"team\"\n";

#[test]
fn a_vault_table_opens_a_shared_vault_store() {
    let c = parse(&format!(
        "{PROFILE}\n[stores.team]\nkind = \"openbao\"\naddress = \"http://127.0.0.1:8200\"\n"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = c.stores["team"].open(dir.path());
    assert_eq!(store.kind(), "vault");
    assert!(store.shared());
    let p = central_auth_core::ProfileName::new("p").unwrap();
    assert_eq!(
        store.location(&p),
        "vault http://127.0.0.1:8200/v1/secret/data/central-auth/p"
    );
    let details = store.details(&p).unwrap();
    let keys: Vec<&str> = details.fields().iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "name",
            "address",
            "mount",
            "path",
            "record",
            "policy_path",
            "namespace",
            "auth",
            "auth_source",
            "cache_ttl_seconds",
            "cache",
            "rescue_record"
        ]
    );
    let labels: Vec<&str> = details.lines().iter().map(|(l, _)| *l).collect();
    assert_eq!(labels, ["store table", "store auth", "local cache"]);
}

#[test]
fn a_bad_vault_table_is_reported_as_before() {
    let table = |body: &str| format!("{PROFILE}\n[stores.team]\n{body}\n");
    assert_eq!(
        parse(&table("kind = \"etcd\"")).unwrap_err(),
        "config /x/config.toml: stores.team: kind \"etcd\" is not supported; use kind = \"vault\" (HashiCorp Vault or OpenBao, KV version 2)"
    );
    assert_eq!(
        parse(&table("address = \"https://v.example\"")).unwrap_err(),
        "config /x/config.toml: stores.team: kind is missing; write kind = \"vault\""
    );
    let e = parse(&table("kind = \"vault\"\nmount_point = \"x\"")).unwrap_err();
    assert!(
        e.starts_with(
            "config /x/config.toml (line 8): unknown field `mount_point`, expected one of `kind`"
        ),
        "{e}"
    );
    let e = parse(&table("kind = \"vault\"\nlock_ttl = 5")).unwrap_err();
    assert!(
        e.starts_with(
            "config /x/config.toml (line 9): invalid type: integer `5`, expected a string"
        ),
        "{e}"
    );
    assert_eq!(
        parse(&format!("{PROFILE}\n[stores.\"a b\"]\nkind = \"vault\"\n")).unwrap_err(),
        "config /x/config.toml: stores.a b: store names use 1 to 64 letters, digits, '_' or '-'"
    );
}
