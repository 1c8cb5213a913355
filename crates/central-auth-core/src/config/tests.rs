//! Unit tests of the config: parsing, one-profile reads, selection, names.

use std::collections::BTreeMap;
use std::path::Path;

use super::load::has_literal_secret_key;
use super::*;
use crate::clusters;

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

/// A store backend for the tests below: `kind = "test"`, one optional key.
struct TestBackend;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TestTable {
    #[allow(dead_code)]
    kind: String,
    size: Option<u32>,
}

#[derive(Debug)]
struct TestStore;

impl crate::store::backend::StoreConfig for TestStore {
    fn open(&self, state_dir: &Path) -> Box<dyn crate::store::TokenStore> {
        Box::new(crate::store::file::FileStore::new(state_dir))
    }
}

impl crate::store::backend::StoreBackend for TestBackend {
    fn kinds(&self) -> &'static [&'static str] {
        &["test"]
    }

    fn parse(
        &self,
        name: &str,
        table: crate::store::backend::StoreTable<'_>,
    ) -> Result<Box<dyn StoreConfig>, crate::store::backend::TableError> {
        let t: TestTable = table.deserialize()?;
        if t.size == Some(0) {
            return Err(format!("size of {name} must not be 0").into());
        }
        Ok(Box::new(TestStore))
    }
}

/// The message a whole-document parse with the backend's type in place
/// gives (how the Vault table was parsed before it had a backend of its own).
fn whole_document_error(text: &str) -> String {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Whole {
        profiles: toml::Table,
        stores: BTreeMap<String, TestTable>,
    }
    let e = toml::from_str::<Whole>(text).unwrap_err();
    let line = e
        .span()
        .map(|s| format!(" (line {})", text[..s.start].lines().count().max(1)))
        .unwrap_or_default();
    format!(
        "config /x/config.toml{line}: {}",
        e.message().replace('\n', " ")
    )
}

#[test]
fn a_store_table_is_parsed_by_its_backend_and_its_errors_name_the_line() {
    crate::store::backend::register(&TestBackend);
    let text = format!(
        "{}\n[stores.team]\nkind = \"test\"\nsize = 3\n",
        profile_table("a")
    );
    let c = parse(&text).unwrap();
    assert_eq!(c.stores.keys().collect::<Vec<_>>(), ["team"]);
    for bad in [
        text.replace("size = 3", "size = 3\nsizes = 4"),
        text.replace("size = 3", "size = \"x\""),
        text.replace(
            "kind = \"test\"",
            "kind = \"test\"\n[stores.other]\nkind = \"test\"\nsize = -1",
        ),
        format!("{}\n[stores]\nteam = 5\n", profile_table("a")),
        // A wrong key in a later table comes before a wrong value in an earlier one.
        text.replace(
            "size = 3",
            "size = 3\nsizes = 4\n[stores.a]\nkind = \"test\"\nsize = 0",
        ),
    ] {
        let e = err(&bad);
        assert_eq!(e, whole_document_error(&bad));
        assert!(e.contains("(line "), "{e}");
    }
    let e = err(&text.replace("size = 3", "size = 0"));
    assert_eq!(
        e,
        "config /x/config.toml: stores.team: size of team must not be 0"
    );
}

const MSP: &str = "[profiles.msp]\ngrant = \"client_credentials\"\ncluster = \"US-2\"\nworkspace_id = \"6A1F0C2E-4b7d-4e8f-9a0b-1c2d3e4f5a6b\"\nclient_id = \"m\"\nclient_secret_env = \"S\"\n";

#[test]
fn a_workspace_id_gives_the_workspace_issuer() {
    let c = parse(MSP).unwrap();
    let msp = &c.profiles[&ProfileName::new("msp").unwrap()];
    assert_eq!(
        msp.workspace_id.as_deref(),
        Some("6a1f0c2e4b7d4e8f9a0b1c2d3e4f5a6b")
    );
    assert_eq!(
        msp.token_url,
        "https://global.api.greenlake.hpe.com/authorization/v2/oauth2/6a1f0c2e4b7d4e8f9a0b1c2d3e4f5a6b/token"
    );
}

#[test]
fn tenant_profiles_link_to_their_msp_and_inherit_its_base_url() {
    let text = format!(
        "{MSP}\n[profiles.t]\ngrant = \"token_exchange\"\nfrom = \"msp\"\ntenant_id = \"0C5E7D1A-9b2f-4c3d-8e4f-5a6b7c8d0001\"\n"
    );
    let c = parse_for(&text, Some("t")).unwrap();
    assert_eq!(
        names(&c),
        ["msp", "t"],
        "the MSP profile is read with its tenant"
    );
    let t = &c.profiles[&ProfileName::new("t").unwrap()];
    let msp = &c.profiles[&ProfileName::new("msp").unwrap()];
    assert_eq!(t.base_url, msp.base_url);
    let tenant = t.tenant.as_ref().unwrap();
    assert_eq!(
        tenant.id.as_deref(),
        Some("0c5e7d1a9b2f4c3d8e4f5a6b7c8d0001")
    );
}

#[test]
fn tenant_profiles_refuse_what_does_not_belong() {
    for (table, says) in [
        ("grant = \"token_exchange\"\nfrom = \"msp\"\n", "set tenant_id or tenant_name"),
        ("grant = \"token_exchange\"\nfrom = \"msp\"\ntenant_id = \"a\"\ntenant_name = \"b\"\n", "not both"),
        ("grant = \"token_exchange\"\nfrom = \"msp\"\ntenant_id = \"xyz\"\n", "is not a workspace id"),
        ("grant = \"token_exchange\"\ntenant_id = \"ab\"\n", "needs from"),
        ("grant = \"token_exchange\"\nfrom = \"msp\"\ntenant_id = \"ab\"\nclient_id = \"c\"\n", "client_id does not belong"),
        ("grant = \"token_exchange\"\nfrom = \"nope\"\ntenant_id = \"ab\"\n", "has no [profiles.nope]"),
        ("grant = \"token_exchange\"\nfrom = \"t\"\ntenant_id = \"ab\"\n", "must be a client_credentials profile"),
        ("cluster = \"US-2\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\ntenant_id = \"ab\"\n", "belongs to a tenant profile"),
    ] {
        let err = parse(&format!("{MSP}\n[profiles.t]\n{table}")).unwrap_err().to_string();
        assert!(err.contains(says), "{table}: {err}");
        assert_eq!(err.lines().count(), 1);
    }
}
