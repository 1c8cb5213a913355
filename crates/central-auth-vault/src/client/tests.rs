//! The client against a scripted Vault: logins, renewals, denials, and
//! check-and-set answers (also used by the lease's tests).

use super::*;
use std::rc::Rc;

use std::time::Duration;

use central_auth_core::http::TransportError;

use super::login::login_body;

/// A scripted Vault: logins hand out `t1`, `t2`, ... with a lease of
/// `lease` seconds; a data read answers 403 for a token in `revoked`, and
/// for every token when `deny_all`; a write fails its check-and-set when
/// `cas_fails` (a peer that always wins, or lies). Every call is recorded as
/// `login`, `read t1`, `denied t1`, `write t1`, ...
#[derive(Default)]
pub(crate) struct Script {
    pub(crate) lease: u64,
    pub(crate) logins: u32,
    pub(crate) revoked: Vec<String>,
    pub(crate) deny_all: bool,
    pub(crate) cas_fails: bool,
    pub(crate) calls: Vec<String>,
}

pub(crate) fn client(script: &Rc<RefCell<Script>>) -> Client {
    let raw: crate::config::RawVaultConfig = toml::from_str(
        "kind = \"vault\"\naddress = \"http://127.0.0.1:8200\"\nauth = \"approle\"\nrole_id = \"r\"\nsecret_id_env = \"CENTRAL_AUTH_TEST_SECRET_ID\"",
    )
    .unwrap();
    let config = VaultConfig::resolve("team", raw).unwrap();
    std::env::set_var("CENTRAL_AUTH_TEST_SECRET_ID", "s");
    let script = Rc::clone(script);
    let transport = move |request: &Request| -> Result<Response, TransportError> {
        let mut s = script.borrow_mut();
        let answer = |status: u16, body: String| Response {
            status,
            headers: Vec::new(),
            body: SecretString::from(body),
        };
        if request.url.ends_with("/auth/approle/login") {
            s.logins += 1;
            let token = format!("t{}", s.logins);
            s.calls.push("login".into());
            let body = format!(
                "{{\"auth\":{{\"client_token\":\"{token}\",\"lease_duration\":{}}}}}",
                s.lease
            );
            return Ok(answer(200, body));
        }
        let token = request
            .headers
            .iter()
            .find(|(k, _)| k == "X-Vault-Token")
            .map(|(_, v)| match v {
                central_auth_core::http::Value::Secret(t) => t.expose_secret().to_owned(),
                central_auth_core::http::Value::Plain(t) => t.clone(),
            })
            .unwrap_or_default();
        if s.deny_all || s.revoked.contains(&token) {
            s.calls.push(format!("denied {token}"));
            return Ok(answer(403, "{\"errors\":[\"permission denied\"]}".into()));
        }
        if request.method == Method::Post {
            s.calls.push(format!("write {token}"));
            let body = if s.cas_fails {
                "{\"errors\":[\"check-and-set parameter did not match the current version\"]}"
            } else {
                "{\"errors\":[\"unexpected write\"]}"
            };
            return Ok(answer(400, body.into()));
        }
        s.calls.push(format!("read {token}"));
        Ok(answer(404, "{\"errors\":[]}".into()))
    };
    Client {
        address: "http://127.0.0.1:8200".into(),
        config,
        token: RefCell::new(None),
        transport: Box::new(transport),
        consistency: consistency::Consistency::default(),
    }
}

#[test]
fn a_login_token_is_renewed_before_its_lease_ends() {
    let script = Rc::new(RefCell::new(Script {
        lease: 1,
        ..Script::default()
    }));
    let c = client(&script);
    c.read("prod").unwrap();
    // Renewed at 90 % of the 1 s lease, before Vault would deny it.
    std::thread::sleep(Duration::from_millis(950));
    c.read("prod").unwrap();
    assert_eq!(
        script.borrow().calls,
        ["login", "read t1", "login", "read t2"]
    );
}

#[test]
fn a_denied_login_token_logs_in_again_once() {
    let script = Rc::new(RefCell::new(Script {
        lease: 600,
        ..Script::default()
    }));
    let c = client(&script);
    c.read("prod").unwrap();
    script.borrow_mut().revoked.push("t1".into());
    c.read("prod").unwrap();
    assert_eq!(
        script.borrow().calls,
        ["login", "read t1", "denied t1", "login", "read t2"]
    );
    // A fresh token that is denied lacks the policy: no login loop.
    script.borrow_mut().deny_all = true;
    script.borrow_mut().calls.clear();
    let e = c.read("prod").unwrap_err().to_string();
    assert!(e.contains("secret/data/central-auth/*"), "{e}");
    assert_eq!(script.borrow().calls, ["denied t2", "login", "denied t3"]);
}

#[test]
fn a_lease_too_long_for_the_clock_is_kept_without_a_panic() {
    let script = Rc::new(RefCell::new(Script {
        lease: u64::MAX,
        ..Script::default()
    }));
    let c = client(&script);
    c.read("prod").unwrap();
    c.read("prod").unwrap();
    assert_eq!(script.borrow().calls, ["login", "read t1", "read t1"]);
}

#[test]
fn login_bodies_are_json_objects() {
    let body = login_body(&[("role", "ci \"a\""), ("jwt", "x.y.z\u{1}")]);
    let v: serde_json::Value = serde_json::from_str(body.expose_secret()).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"role": "ci \"a\"", "jwt": "x.y.z\u{1}"})
    );
}
