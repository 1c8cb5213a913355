//! The five ways a tool asks for a token, as whole processes: `central-auth token`
//! and the four helpers, each with its protocol's input and a parser for the token
//! in its output. Shared by the soak and the secret-leak audit.

use std::io::Write;
use std::process::{Output, Stdio};

use central_auth_e2e::*;

/// One client binary and how to call it.
#[derive(Clone, Copy, Debug)]
pub struct Client {
    pub name: &'static str,
    pub binary: &'static str,
    pub args: &'static [&'static str],
    pub stdin: &'static str,
    pub env: &'static [(&'static str, &'static str)],
    pub token_of: fn(&str) -> Option<String>,
}

const EXEC_INFO: &str = r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#;

fn plain(out: &str) -> Option<String> {
    Some(out.trim().to_owned()).filter(|t| !t.is_empty())
}

fn git(out: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.strip_prefix("password="))
        .map(str::to_owned)
}

fn kube(out: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(out).ok()?;
    v["status"]["token"].as_str().map(str::to_owned)
}

fn json_access_token(out: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(out).ok()?;
    v["access_token"].as_str().map(str::to_owned)
}

/// Every client, for profile `test`.
pub const ALL: &[Client] = &[
    Client {
        name: "central-auth token",
        binary: "central-auth",
        args: &["token", "--profile", "test"],
        stdin: "",
        env: &[],
        token_of: plain,
    },
    Client {
        name: "git-credential-central get",
        binary: "git-credential-central",
        args: &["--profile", "test", "get"],
        stdin: "protocol=http\nhost=127.0.0.1\n\n",
        env: &[],
        token_of: git,
    },
    Client {
        name: "central-auth-kube",
        binary: "central-auth-kube",
        args: &["--profile", "test"],
        stdin: "",
        env: &[("KUBERNETES_EXEC_INFO", EXEC_INFO)],
        token_of: kube,
    },
    Client {
        name: "central-auth-terraform",
        binary: "central-auth-terraform",
        args: &[],
        stdin: r#"{"profile":"test"}"#,
        env: &[],
        token_of: json_access_token,
    },
    Client {
        name: "central-auth-ansible",
        binary: "central-auth-ansible",
        args: &["--profile", "test"],
        stdin: "",
        env: &[],
        token_of: json_access_token,
    },
];

impl Client {
    /// Runs the client once with `extra` arguments placed first (e.g. `-v`).
    pub fn run(&self, home: &TestHome, extra: &[&str]) -> Output {
        let mut cmd = home.cmd(self.binary);
        cmd.args(extra).args(self.args);
        for (k, v) in self.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(self.stdin.as_bytes());
        drop(stdin);
        child.wait_with_output().unwrap()
    }
}
