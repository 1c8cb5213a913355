//! Ansible end-to-end: the collection `central_auth.central`
//! (`ansible/central_auth/central`) built and installed with the real
//! `ansible-galaxy`, its lookup `central_auth.central.token` running
//! `central-auth-ansible` inside real `ansible-playbook` runs (ansible-core from
//! the `ansible` venv made by `cargo xtask test`), against the in-process
//! `central-sim`, whose API accepts only tokens it issued and that have not
//! expired. The playbooks are `tests/fixtures/ansible/*.yml`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use central_auth_e2e::*;

const COLLECTION: &str = "ansible/central_auth/central";
const PROGRAM: &str = "central-auth-ansible";

/// The ansible-core tools of the venv, and a private Ansible directory inside
/// the test home with the collection installed in it.
pub(crate) struct Ansible {
    bin: PathBuf,
    dir: PathBuf,
}

impl Ansible {
    /// Finds the venv (or skips) and prepares `<home>/ansible`.
    pub(crate) fn new(home: &TestHome) -> Option<Ansible> {
        let playbook = venv_bin("ansible", "ansible-playbook")?;
        let bin = playbook.parent().unwrap().to_path_buf();
        let dir = home.path().join("ansible");
        std::fs::create_dir_all(dir.join("tmp")).unwrap();
        std::fs::create_dir_all(dir.join("out")).unwrap();
        // The program the lookup runs must be built.
        central_auth_e2e::bin(PROGRAM);
        Some(Ansible { bin, dir })
    }

    fn collections(&self) -> PathBuf {
        self.dir.join("collections")
    }

    fn out_dir(&self) -> PathBuf {
        self.dir.join("out")
    }

    /// A command for a venv tool with the home's environment, a private
    /// ANSIBLE_HOME, the collection path, and the built binaries on PATH.
    fn cmd(&self, home: &TestHome, tool: &str) -> Command {
        let mut c = Command::new(self.bin.join(tool));
        home.apply_env(&mut c);
        let mut path = vec![bin_dir(), self.bin.clone()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        c.current_dir(&self.dir)
            .env("PATH", std::env::join_paths(path).unwrap())
            .env("ANSIBLE_HOME", self.dir.join("home"))
            .env("ANSIBLE_LOCAL_TEMP", self.dir.join("tmp"))
            .env("ANSIBLE_COLLECTIONS_PATH", self.collections())
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("ANSIBLE_LOCALHOST_WARNING", "False")
            .env("ANSIBLE_INVENTORY_UNPARSED_WARNING", "False")
            .env_remove("ANSIBLE_CONFIG")
            .env_remove("CENTRAL_AUTH_ANSIBLE_BIN")
            .env_remove("CENTRAL_AUTH_LOOKUP_PROFILE");
        c
    }

    /// `ansible-galaxy collection build` to a tarball, then install the tarball.
    fn install_tarball(&self, home: &TestHome) {
        let build = self.dir.join("build");
        run_ok(self.cmd(home, "ansible-galaxy").args([
            "collection",
            "build",
            workspace().join(COLLECTION).to_str().unwrap(),
            "--output-path",
            build.to_str().unwrap(),
        ]));
        let tarball = build.join("central_auth-central-0.1.0.tar.gz");
        assert!(tarball.is_file(), "{} was not built", tarball.display());
        self.install(home, &tarball);
    }

    /// `ansible-galaxy collection install` straight from the source directory.
    pub(crate) fn install_dir(&self, home: &TestHome) {
        self.install(home, &workspace().join(COLLECTION));
    }

    fn install(&self, home: &TestHome, source: &Path) {
        let out = run_ok(self.cmd(home, "ansible-galaxy").args([
            "collection",
            "install",
            source.to_str().unwrap(),
            "-p",
            self.collections().to_str().unwrap(),
        ]));
        assert!(
            text(&out.stdout).contains("central_auth.central:0.1.0 was installed successfully"),
            "{}",
            text(&out.stdout)
        );
        assert!(self
            .collections()
            .join("ansible_collections/central_auth/central/plugins/lookup/token.py")
            .is_file());
    }

    /// `ansible-playbook` on a fixture against localhost, with `sim_url` and
    /// `out_dir` set and `extra` arguments added.
    pub(crate) fn play(&self, home: &TestHome, fixture: &str, extra: &[&str]) -> Output {
        let playbook = workspace().join("tests/fixtures/ansible").join(fixture);
        let mut c = self.cmd(home, "ansible-playbook");
        c.args(["-i", "localhost,"])
            .arg(&playbook)
            .args(["-e", &format!("sim_url={}", home.sim.url())])
            .args(["-e", &format!("out_dir={}", self.out_dir().display())])
            .args([
                "-e",
                &format!(
                    "ansible_python_interpreter={}",
                    self.bin.join("python").display()
                ),
            ]);
        c.args(extra).output().unwrap()
    }

    /// The SHA-256 the fixture recorded of the token Ansible got.
    pub(crate) fn recorded_sha(&self) -> String {
        let path = self.out_dir().join("token.sha256");
        let sha = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(path).unwrap();
        sha.trim().to_owned()
    }
}

fn run_ok(c: &mut Command) -> Output {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{c:?} failed ({:?}):\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn both(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Asserts the play output holds none of the secrets.
fn assert_no_secret(output: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!s.is_empty());
        assert!(
            !output.contains(s),
            "a secret leaked into the play output:\n{output}"
        );
    }
}

#[test]
fn lookup_token_reaches_the_api_and_refreshes_once_after_expiry() {
    let home = TestHome::new();
    let Some(ansible) = Ansible::new(&home) else {
        return;
    };
    ansible.install_tarball(&home);
    let download = home.import_download("test", 0);

    // First run: the stored token is valid; no refresh, one accepted API call.
    let out = ansible.play(&home, "groups.yml", &[]);
    let output = both(&out);
    assert!(out.status.success(), "play failed:\n{output}");
    assert!(output.contains("ok=3"), "{output}");
    let c = home.sim.counters();
    assert_eq!(
        (c.refresh, c.login, c.api_ok, c.api_unauthorized),
        (0, 0, 1, 0)
    );
    let first = home.token("test");
    assert_eq!(first, download["access_token"].as_str().unwrap());
    assert_eq!(ansible.recorded_sha(), sha256_hex(&first));
    assert_no_secret(
        &output,
        &[&first, download["refresh_token"].as_str().unwrap()],
    );

    // The token expires: an older Web UI download (access token 7300 s old,
    // refresh token live) replaces the stored one.
    assert!(home.cli(&["logout", "--profile", "test"]).status.success());
    let old = home.import_download("test", 7300);

    // Second run (at -vvv): the lookup is evaluated five times, Central sees one
    // refresh, and the verbose lines show the profile and expiry only.
    let out = ansible.play(&home, "groups.yml", &["-vvv"]);
    let output = both(&out);
    assert!(out.status.success(), "play failed:\n{output}");
    assert!(
        output.contains("central_auth.central.token: profile test, token valid until 20"),
        "{output}"
    );
    let c = home.sim.counters();
    assert_one_refresh(&c, "five lookups in one play on an expired token");
    assert_eq!((c.api_ok, c.api_unauthorized), (2, 0), "{c:?}");
    let second = home.token("test");
    assert_ne!(second, first);
    assert_ne!(second, old["access_token"].as_str().unwrap());
    assert!(home.sim.access_token_valid(&second));
    assert_eq!(ansible.recorded_sha(), sha256_hex(&second));
    assert_one_refresh(&home.sim.counters(), "central-auth token reused it");
    assert_no_secret(&output, &[&second, old["refresh_token"].as_str().unwrap()]);
}

#[test]
fn ansible_doc_renders_the_lookup() {
    let home = TestHome::new();
    let Some(ansible) = Ansible::new(&home) else {
        return;
    };
    ansible.install_dir(&home);
    let out = run_ok(ansible.cmd(&home, "ansible-doc").args([
        "-t",
        "lookup",
        "central_auth.central.token",
    ]));
    let doc = text(&out.stdout);
    for needle in [
        "central_auth.central.token",
        "min_valid",
        "default: 5m",
        "central_auth_profile",
        "CENTRAL_AUTH_LOOKUP_PROFILE",
        "CENTRAL_AUTH_ANSIBLE_BIN",
        "central_auth_executable",
        "_raw",
    ] {
        assert!(doc.contains(needle), "{needle:?} missing:\n{doc}");
    }
}

#[test]
fn unknown_profile_fails_the_play_with_the_helpers_message() {
    let home = TestHome::new();
    let Some(ansible) = Ansible::new(&home) else {
        return;
    };
    ansible.install_dir(&home);
    let download = home.import_download("test", 0);
    let out = ansible.play(&home, "unknown_profile.yml", &[]);
    let output = both(&out);
    assert!(!out.status.success(), "the play must fail:\n{output}");
    assert!(output.contains("central-auth-ansible: "), "{output}");
    assert!(output.contains("\"nope\""), "{output}");
    assert!(output.contains("exit 2"), "{output}");
    assert_no_secret(
        &output,
        &[
            download["access_token"].as_str().unwrap(),
            download["refresh_token"].as_str().unwrap(),
        ],
    );
    let c = home.sim.counters();
    assert_eq!((c.api_ok, c.api_unauthorized, c.token_requests), (0, 0, 0));
}

#[test]
fn no_stored_token_fails_the_play_saying_how_to_log_in() {
    let home = TestHome::new();
    let Some(ansible) = Ansible::new(&home) else {
        return;
    };
    ansible.install_dir(&home);
    let out = ansible.play(&home, "groups.yml", &[]);
    let output = both(&out);
    assert!(!out.status.success(), "the play must fail:\n{output}");
    assert!(
        output.contains("central-auth login --profile test"),
        "{output}"
    );
    assert!(output.contains("exit 3"), "{output}");
    assert_eq!(home.sim.counters().api_unauthorized, 0);
}

#[test]
fn executable_variable_is_honoured() {
    let home = TestHome::new();
    let Some(ansible) = Ansible::new(&home) else {
        return;
    };
    ansible.install_dir(&home);
    home.import_download("test", 0);
    let missing = home.path().join("nowhere").join(PROGRAM);
    let out = ansible.play(
        &home,
        "groups.yml",
        &[
            "-e",
            &format!("central_auth_executable={}", missing.display()),
        ],
    );
    let output = both(&out);
    assert!(!out.status.success(), "the play must fail:\n{output}");
    assert!(output.contains("is not an executable file"), "{output}");
    assert!(output.contains("central_auth_executable"), "{output}");

    // A bare name is looked up on PATH.
    let out = ansible.play(
        &home,
        "groups.yml",
        &["-e", "central_auth_executable=central-auth-ansible-missing"],
    );
    let output = both(&out);
    assert!(!out.status.success(), "the play must fail:\n{output}");
    assert!(
        output.contains("central-auth-ansible-missing was not found on the controller's PATH"),
        "{output}"
    );
    assert_eq!(home.sim.counters().api_ok, 0);

    // The absolute path of the real program works the same as PATH.
    let real = bin(PROGRAM);
    let out = ansible.play(
        &home,
        "groups.yml",
        &["-e", &format!("central_auth_executable={}", real.display())],
    );
    assert!(out.status.success(), "play failed:\n{}", both(&out));
    assert_eq!(home.sim.counters().api_ok, 1);
}
