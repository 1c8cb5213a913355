//! The docs are tested: every fenced block whose info string carries the word
//! `test` (```` ```sh test ````, ```` ```toml test file=PATH ````) in the README
//! and the tool pages runs, in page order, against one `central-sim` in a temp
//! HOME with the workspace binaries first on PATH. `http://127.0.0.1:8800` (the
//! port the docs start the simulator on) becomes the simulator's address, `~`
//! the temp HOME. A block with `file=PATH` is written there; a `sh` block runs
//! under `bash -euo pipefail` and must succeed. The banner `central-sim` prints
//! must hold the README's config block and Download Token `curl` word for word.
//! Snippets run in the temp HOME, where `ansible/` links to the repository's, so
//! "from the repository root" paths hold; the ansible venv's `bin/` is on PATH.
//! docs/cencli.md's blocks run from `cencli.rs` with the same helpers, on a
//! simulator of their own with generous rate limits (cencli's first run fills
//! its local inventory cache with a burst of calls).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use central_auth_e2e::*;
use central_sim::{Sim, SimConfig};

/// The pages whose `test` blocks run, in order (later pages use the profile
/// the README's "Try it without Central" set up), with the real tool each needs.
const PAGES: &[(&str, Option<&str>)] = &[
    ("README.md", None),
    ("docs/git.md", Some("git")),
    ("docs/kubectl.md", None),
    ("docs/terraform.md", Some("terraform")),
    ("docs/ansible.md", Some("ansible-playbook")),
    ("docs/new-central.md", Some("ansible-playbook")),
];

/// The address the docs use for the simulator.
const DOC_URL: &str = "http://127.0.0.1:8800";

/// One fenced block marked for testing.
#[derive(Debug)]
pub(crate) struct Block {
    page: String,
    line: usize,
    lang: String,
    file: Option<String>,
    /// `server`: a long-running command (`central-sim`, `bao server -dev`)
    /// the reader starts in a terminal of its own; see `spawn_server`.
    pub(crate) server: bool,
    pub(crate) body: String,
}

/// The fenced blocks whose info string has the word `test`.
pub(crate) fn test_blocks(page: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push_str(l.get(indent..).unwrap_or(l.trim_start()));
            body.push('\n');
        }
        let words: Vec<&str> = info.split_whitespace().collect();
        if !words.contains(&"test") {
            continue;
        }
        out.push(Block {
            page: page.to_owned(),
            line: n + 1,
            lang: words.first().copied().unwrap_or("").to_owned(),
            file: words
                .iter()
                .find_map(|w| w.strip_prefix("file="))
                .map(str::to_owned),
            server: words.contains(&"server"),
            body,
        });
    }
    out
}

pub(crate) fn read_page(page: &str) -> String {
    std::fs::read_to_string(workspace().join(page)).unwrap()
}

/// Runs one block in `home`; panics with the page and line when it fails.
pub(crate) fn run_block(block: &Block, home: &Path, url: &str) -> String {
    run_block_with(block, home, &[(DOC_URL, url)])
}

/// The PATH a snippet gets: the workspace binaries, then the test venvs'
/// ansible-core, cencli and bao, then the inherited PATH.
fn snippet_path() -> std::ffi::OsString {
    let mut path = vec![
        bin_dir(),
        venvs_dir().join("ansible").join("bin"),
        venvs_dir().join("centralcli").join("bin"),
        venvs_dir().join("openbao").join("bin"),
    ];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    std::env::join_paths(path).unwrap()
}

/// A block's text with each documented `http://host:port` replaced by the
/// test's own (with and without the scheme).
fn substituted(block: &Block, replacements: &[(&str, &str)]) -> String {
    let mut body = block.body.clone();
    for (doc, real) in replacements {
        body = body.replace(doc, real).replace(
            doc.trim_start_matches("http://"),
            real.trim_start_matches("http://"),
        );
    }
    body
}

/// Starts a `server` block (`bash -c 'exec BODY'`, output to `log`) in `home`,
/// with the documented addresses replaced; the caller stops it.
pub(crate) fn spawn_server(
    block: &Block,
    home: &Path,
    replacements: &[(&str, &str)],
    log: &Path,
) -> std::process::Child {
    assert!(
        block.server,
        "{}:{} is not a server block",
        block.page, block.line
    );
    let body = substituted(block, replacements);
    let log = std::fs::File::create(log).unwrap();
    Command::new("bash")
        .args(["-c", &format!("exec {}", body.trim())])
        .current_dir(home)
        .env("HOME", home)
        .env("PATH", snippet_path())
        .env_remove("CENTRAL_AUTH_HOME")
        .env_remove("VAULT_ADDR")
        .env_remove("BAO_ADDR")
        .env_remove("VAULT_TOKEN")
        .env_remove("BAO_TOKEN")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Runs one block in `home` with each `(documented, real)` address replaced;
/// returns a `sh` block's stdout. Panics with the page and line when it fails.
pub(crate) fn run_block_with(block: &Block, home: &Path, replacements: &[(&str, &str)]) -> String {
    assert!(
        !block.server,
        "{}:{}: start a server block with spawn_server",
        block.page, block.line
    );
    let body = substituted(block, replacements);
    let at = format!("{}:{}", block.page, block.line);
    match (block.lang.as_str(), block.file.as_deref()) {
        (_, Some(file)) => {
            let path = match file.strip_prefix("~/") {
                Some(rest) => home.join(rest),
                None => home.join(file),
            };
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, body).unwrap();
            String::new()
        }
        ("sh", None) => {
            let out = Command::new("bash")
                .args(["-euo", "pipefail", "-c", &body])
                .current_dir(home)
                .env("HOME", home)
                .env("PATH", snippet_path())
                .env_remove("CENTRAL_AUTH_HOME")
                .env_remove("VAULT_ADDR")
                .env_remove("BAO_ADDR")
                .env_remove("VAULT_TOKEN")
                .env_remove("BAO_TOKEN")
                .env_remove("CENTRAL_AUTH_PROFILE")
                .env_remove("XDG_CONFIG_HOME")
                .env_remove("XDG_STATE_HOME")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("COLUMNS", "200")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{at}: the snippet failed ({:?})\n--- snippet\n{body}--- stdout\n{}--- stderr\n{}",
                out.status.code(),
                text(&out.stdout),
                text(&out.stderr)
            );
            eprintln!("{at}: ok\n{}", text(&out.stdout));
            text(&out.stdout)
        }
        (other, None) => panic!("{at}: a `{other} test` block needs file=PATH (only sh runs)"),
    }
}

#[test]
fn doc_snippets_run_against_the_simulator() {
    let sim = Sim::start(SimConfig::default()).unwrap();
    let home = tempfile::Builder::new()
        .prefix("central-auth-docs-")
        .tempdir()
        .unwrap();
    // Snippets that name repository paths (`ansible/...`) run from the root.
    std::os::unix::fs::symlink(workspace().join("ansible"), home.path().join("ansible")).unwrap();
    let mut ran = 0;
    for (page, tool) in PAGES {
        // Missing outside CI: a loud skip of that page; under CI: a failure.
        if let Some(tool) = tool {
            let mut candidates = on_path(tool);
            candidates.push(venvs_dir().join("ansible").join("bin").join(tool));
            if require_tool(tool, &candidates).is_none() {
                continue;
            }
        }
        let blocks = test_blocks(page, &read_page(page));
        assert!(!blocks.is_empty(), "{page} has no `test` blocks");
        for block in &blocks {
            run_block(block, home.path(), &sim.url());
            ran += 1;
        }
    }
    // The snippets really reached the simulator: one import, then tokens.
    let c = sim.counters();
    eprintln!(
        "figures: docs: {ran} snippets from {} pages ran against central-sim",
        PAGES.len()
    );
    assert!(ran >= 3, "the README's blocks ran");
    assert_eq!(c.refresh, 0, "the imported token was served from the store");
}

#[test]
fn the_sim_banner_is_what_the_readme_shows() {
    let mut child = Command::new(bin("central-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push_str(&line);
        if line.contains("Stop with Ctrl-C") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let url = banner
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("central-sim listening on "))
        .expect("first line names the URL")
        .to_owned();
    let banner = banner.replace(&url, DOC_URL);
    let readme = read_page("README.md");
    let config = test_blocks("README.md", &readme)
        .into_iter()
        .find(|b| b.lang == "toml" && b.body.contains(DOC_URL))
        .expect("README has the sim config block");
    assert!(
        banner.contains(&config.body),
        "README.md:{} drifted from the central-sim banner:\n--- README\n{}--- banner\n{banner}",
        config.line,
        config.body
    );
    let curl = banner
        .lines()
        .find(|l| l.trim_start().starts_with("curl "))
        .expect("banner has the curl line")
        .trim();
    assert!(readme.contains(curl), "README lacks the banner's `{curl}`");
    for secret in [
        "sim-secret",
        "sim-password",
        "sim-client",
        "admin@example.com",
    ] {
        assert!(banner.contains(secret), "banner lacks {secret}");
    }
}

#[test]
fn blocks_are_extracted_with_their_tags() {
    let md = "x\n```sh test\necho a\n```\n```sh\nno\n```\n   ```toml test file=~/c.toml\n   k = 1\n   ```\n";
    let b = test_blocks("p", md);
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0].lang.as_str(), b[0].body.as_str(), b[0].line),
        ("sh", "echo a\n", 2)
    );
    assert_eq!(b[1].file.as_deref(), Some("~/c.toml"));
    assert_eq!(b[1].body, "k = 1\n");
}

/// Every `cargo install` of a workspace crate in the docs builds what
/// Cargo.lock pins (`--locked`), as `cargo xtask install` does.
#[test]
fn every_install_line_is_locked() {
    let mut pages = vec![workspace().join("README.md")];
    for entry in std::fs::read_dir(workspace().join("docs")).unwrap() {
        pages.push(entry.unwrap().path());
    }
    let mut seen = 0;
    for page in pages
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        for (n, line) in std::fs::read_to_string(page).unwrap().lines().enumerate() {
            if line.contains("cargo install") && line.contains("--path") {
                seen += 1;
                assert!(
                    line.contains("--locked"),
                    "{}:{}: `cargo install` without --locked: {line}",
                    page.display(),
                    n + 1
                );
            }
        }
    }
    assert!(seen >= 6, "{seen} install lines");
}
