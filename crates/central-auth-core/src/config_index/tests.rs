//! Tests of the config index: same answers as the whole read, and a stale,
//! broken or forged index never used.

use super::*;

/// A config file and an empty state directory in a temp dir.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(config: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        let f = Fixture { dir };
        std::fs::write(f.config(), config).unwrap();
        f
    }
    fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("config.toml")
    }
    fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }
    fn index(&self) -> std::path::PathBuf {
        self.state().join(FILE_NAME)
    }
    fn load(&self, wanted: Option<&str>) -> (Config, Source) {
        let (config, how) = load_with(&self.config(), &self.state(), wanted, Duration::ZERO);
        (config.expect("loads"), how)
    }
}

fn profile(name: &str, min_valid: &str) -> String {
    format!("\n[profiles.{name}]\nbase_url = \"https://{name}.example\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\nmin_valid = \"{min_valid}\"\n")
}

/// About 100 KB: `default_profile = "a"`, profiles a and b, then fillers.
fn big_config() -> String {
    let mut text = String::from("default_profile = \"a\"\n");
    text.push_str(&profile("a", "1m"));
    text.push_str(&profile("b", "2m"));
    for i in 0..800 {
        text.push_str(&profile(&format!("filler-{i:04}"), "5m"));
    }
    text.push_str("\n[profiles.literal]\nbase_url = \"https://l.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\n");
    text.push_str(&format!("# {}\n", "#".repeat(60)));
    assert!(text.len() as u64 >= INDEX_FROM);
    text
}

fn min_valid(config: &Config, name: &str) -> Duration {
    config
        .get(&ProfileName::new(name).unwrap())
        .unwrap()
        .min_valid
}

#[test]
fn a_large_config_is_read_through_its_index_with_the_same_result() {
    let f = Fixture::new(&big_config());
    let (first, how) = f.load(Some("b"));
    assert_eq!(how, Source::Whole(true));
    let (second, how) = f.load(Some("b"));
    assert_eq!(how, Source::Index);
    for c in [&first, &second] {
        let names: Vec<&str> = c.profiles.keys().map(ProfileName::as_str).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(min_valid(c, "b"), Duration::from_secs(120));
        assert_eq!(
            c.default_profile.as_ref().map(ProfileName::as_str),
            Some("a")
        );
        assert!(
            c.unread_literal_secret,
            "the literal secret left unread is noted"
        );
    }
    let (default, how) = f.load(None);
    assert_eq!(how, Source::Index);
    assert_eq!(min_valid(&default, "a"), Duration::from_secs(60));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(f.index()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // A profile that is not there: the whole file (whose error lists all).
    let (whole, how) = load_with(&f.config(), &f.state(), Some("nope"), Duration::ZERO);
    assert_eq!(whole.expect("loads").profiles.len(), 803);
    assert_eq!(
        how,
        Source::Whole(false),
        "the index was current: not written again"
    );
}

#[test]
fn a_changed_config_is_noticed_even_at_the_same_size_and_mtime() {
    let text = big_config();
    let f = Fixture::new(&text);
    f.load(Some("a"));
    assert_eq!(f.load(Some("a")).1, Source::Index);
    let mtime = std::fs::metadata(f.config()).unwrap().modified().unwrap();
    // Past the file system's timestamp tick.
    std::thread::sleep(Duration::from_millis(50));
    // Profile a grows by a blank and an indented line, so that its old
    // range ends cleanly before the new line; the padding comment shrinks
    // by as much. Same size, same inode, mtime set back: only ctime tells.
    let added = "\n  lock_timeout = \"9s\"";
    let changed = text
        .replacen(
            "min_valid = \"1m\"\n",
            &format!("min_valid = \"1m\"\n{added}"),
            1,
        )
        .replacen(&"#".repeat(added.len()), "", 1);
    assert_eq!(changed.len(), text.len());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(f.config())
        .unwrap();
    std::io::Write::write_all(&mut &file, changed.as_bytes()).unwrap();
    file.set_modified(mtime).unwrap();
    drop(file);
    let (config, how) = f.load(Some("a"));
    let a = config.get(&ProfileName::new("a").unwrap()).unwrap();
    assert_eq!(
        a.lock_timeout,
        Duration::from_secs(9),
        "a stale index was used"
    );
    assert_eq!(how, Source::Whole(true));
    assert_eq!(f.load(Some("a")).1, Source::Index);
}

#[test]
fn a_broken_or_forged_index_is_ignored() {
    let f = Fixture::new(&big_config());
    f.load(Some("a"));
    let good = std::fs::read_to_string(f.index()).unwrap();
    let a_line = good
        .lines()
        .find(|l| l.starts_with("p ") && l.ends_with(" a"))
        .unwrap()
        .to_owned();
    let b_line = good
        .lines()
        .find(|l| l.starts_with("p ") && l.ends_with(" b"))
        .unwrap()
        .to_owned();
    let b_start: usize = b_line[2..b_line.len() - 2].parse().unwrap();
    let swapped = good
        .replace(&a_line, "A")
        .replace(&b_line, &format!("p {} a", &b_line[2..b_line.len() - 2]))
        .replace("A", &format!("p {} b", &a_line[2..a_line.len() - 2]));
    let forged = [
        String::new(),
        "garbage".to_owned(),
        good.replace("end\n", ""),
        good.replace("d a\n", "d b\n"),
        good.replace("d a\n", ""),
        good.replace(&b_line, ""),
        swapped,
        good.replace(&b_line, &format!("p {} b", b_start + 1)),
        good.replace(&b_line, &format!("p {} b", b_start - 1)),
    ];
    for text in forged {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(f.index(), &text).unwrap();
        std::fs::set_permissions(f.index(), std::fs::Permissions::from_mode(0o600)).unwrap();
        for (wanted, min) in [(Some("b"), 120), (Some("a"), 60), (None, 60)] {
            let (config, how) = f.load(wanted);
            let name = wanted.unwrap_or("a");
            assert_eq!(
                min_valid(&config, name),
                Duration::from_secs(min),
                "{text:.200}"
            );
            assert_ne!(how, Source::Index, "{text:.300}");
            std::fs::write(f.index(), &text).unwrap();
        }
    }
    // A good index that others may write is not trusted.
    std::fs::write(f.index(), &good).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(f.index(), std::fs::Permissions::from_mode(0o622)).unwrap();
    assert_eq!(f.load(Some("b")).1, Source::Whole(true));
    assert_eq!(f.load(Some("b")).1, Source::Index);
}

#[test]
fn small_configs_and_a_missing_state_directory_write_nothing() {
    let f = Fixture::new(&format!("default_profile = \"a\"\n{}", profile("a", "1m")));
    assert_eq!(f.load(None).1, Source::Whole(false));
    assert!(!f.index().exists());
    let f = Fixture::new(&big_config());
    std::fs::remove_dir(f.state()).unwrap();
    assert_eq!(f.load(None).1, Source::Whole(false));
    assert!(!f.state().exists());
}

#[test]
fn an_unsettled_config_is_not_indexed_yet() {
    let f = Fixture::new(&big_config());
    let (config, how) = load_with(&f.config(), &f.state(), Some("a"), SETTLED);
    assert!(config.is_ok());
    assert_eq!(how, Source::Whole(false));
}

#[test]
fn a_tenant_profile_is_read_through_the_index_with_its_msp() {
    let mut text = String::from("[profiles.msp]\ngrant = \"client_credentials\"\nbase_url = \"https://msp.example\"\nworkspace_id = \"ab12\"\nclient_id = \"c\"\nclient_secret_env = \"S\"\n");
    for i in 0..1000 {
        text.push_str(&format!(
            "\n[profiles.tenant-{i:04}]\ngrant = \"token_exchange\"\nfrom = \"msp\"\ntenant_id = \"{i:032x}\"\n"
        ));
    }
    assert!(text.len() as u64 >= INDEX_FROM);
    let f = Fixture::new(&text);
    let (_, first) = f.load(Some("tenant-0500"));
    assert!(
        matches!(first, Source::Whole(true)),
        "the first read writes the index"
    );
    let (config, how) = f.load(Some("tenant-0500"));
    assert!(matches!(how, Source::Index), "read through the index");
    assert_eq!(config.profiles.len(), 2, "the tenant and its MSP only");
    let t = config
        .get(&ProfileName::new("tenant-0500").unwrap())
        .unwrap();
    assert_eq!(t.base_url, "https://msp.example");
}
