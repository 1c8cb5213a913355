//! `git-credential-central`: a git credential helper that answers with the
//! central-auth access token of a profile.
//!
//! [`run`] does the whole job over `impl Read`/`impl Write`, so it is tested without
//! processes; the binary only parses arguments, opens the [`Broker`] lazily and maps
//! the outcome to stderr and an exit code.
//!
//! - `get` (also: no operation at all, as some `git2` versions call helpers): picks
//!   the profile ([`select`]), asks the broker for the token and prints `username`,
//!   `password`, `password_expiry_utc`, plus `authtype=Bearer`/`credential` when git
//!   offered `capability[]=authtype`. Not ours: prints nothing, exit 0.
//! - `erase` with the current token: marks it rejected, so the next `get` refreshes.
//! - `store` and unknown operations: input read and ignored, exit 0.
//! - `capability`: `version 0` and `capability authtype`.

pub mod cli;
pub mod protocol;
pub mod select;

use std::io::{Read, Write};
use std::time::Duration;

use central_auth_core::broker::AccessToken;
use central_auth_core::{Broker, Config, Error, ExitCode, Profile};
use secrecy::SecretString;

use protocol::{Answer, ProtocolError};
use select::Selection;

/// The username sent when the profile has none (Central ignores it; git needs one).
pub const DEFAULT_USERNAME: &str = "central-auth";

/// What the broker does for this helper; implemented by [`Broker`] and by fakes in
/// tests.
pub trait TokenSource {
    /// The loaded configuration (profiles and their git hosts).
    fn config(&self) -> &Config;
    /// The current access token of `profile`, refreshed if needed.
    fn token(&self, profile: &Profile, min_valid: Option<Duration>) -> Result<AccessToken, Error>;
    /// Marks `token` rejected if it is the stored one; true if it was.
    fn reject(&self, profile: &Profile, token: &SecretString) -> Result<bool, Error>;
}

impl TokenSource for Broker {
    fn config(&self) -> &Config {
        Broker::config(self)
    }

    fn token(&self, profile: &Profile, min_valid: Option<Duration>) -> Result<AccessToken, Error> {
        Broker::token(self, profile, min_valid)
    }

    fn reject(&self, profile: &Profile, token: &SecretString) -> Result<bool, Error> {
        Broker::reject(self, profile, token)
    }
}

/// Command-line options relevant to the protocol.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `--profile`: answer with this profile whatever the host.
    pub profile: Option<String>,
    /// `--min-valid`: minimum remaining validity of the token.
    pub min_valid: Option<Duration>,
    /// The operation (`get`, `store`, `erase`, `capability`, ...); `None` means `get`.
    pub operation: Option<String>,
}

pub use central_auth_core::adapter::Failure;

impl From<ProtocolError> for Failure {
    /// Broken input is a usage error (2); stdin or stdout failing is 1.
    fn from(e: ProtocolError) -> Self {
        let code = match e {
            ProtocolError::Io(_) => ExitCode::Other,
            _ => ExitCode::Usage,
        };
        Failure::Protocol {
            error: Box::new(e),
            code,
        }
    }
}

/// Runs one helper invocation. `open` is called only when a profile is needed, so
/// `store` and unknown operations work even without a config. `note` receives
/// diagnostics for `--verbose` (never secrets). Output is written only on success.
pub fn run<S: TokenSource>(
    opts: &Options,
    input: impl Read,
    output: impl Write,
    open: impl FnOnce() -> Result<S, Error>,
    note: &dyn Fn(&str),
) -> Result<(), Failure> {
    match opts.operation.as_deref().unwrap_or("get") {
        "get" => get(opts, input, output, open, note),
        "erase" => erase(opts, input, open, note),
        "capability" => {
            protocol::drain(input)?;
            protocol::write_capabilities(output)?;
            Ok(())
        }
        other => {
            note(&format!("ignoring operation {other:?}"));
            // Input is ignored; a read error does not matter either.
            let _ = protocol::drain(input);
            Ok(())
        }
    }
}

fn get<S: TokenSource>(
    opts: &Options,
    input: impl Read,
    output: impl Write,
    open: impl FnOnce() -> Result<S, Error>,
    note: &dyn Fn(&str),
) -> Result<(), Failure> {
    let request = protocol::parse(input)?;
    let source = open()?;
    let profile = match select::select(source.config(), opts.profile.as_deref(), &request)? {
        Selection::Profile(p) => p,
        Selection::NoMatch(why) => {
            note(&why);
            return Ok(());
        }
    };
    let token = source.token(profile, opts.min_valid)?;
    note(&format!(
        "profile {}: token valid until {}{}",
        profile.name,
        central_auth_core::status::rfc3339(token.expires_at),
        if token.fresh { " (just obtained)" } else { "" }
    ));
    let answer = Answer {
        username: profile
            .username
            .clone()
            .unwrap_or_else(|| DEFAULT_USERNAME.to_owned()),
        token: token.token,
        expiry_unix: token.expires_at.unix_timestamp(),
        bearer: request.offers("authtype"),
    };
    protocol::write_answer(output, &answer)?;
    Ok(())
}

fn erase<S: TokenSource>(
    opts: &Options,
    input: impl Read,
    open: impl FnOnce() -> Result<S, Error>,
    note: &dyn Fn(&str),
) -> Result<(), Failure> {
    let request = protocol::parse(input)?;
    let bearer = request
        .authtype
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer"));
    let refused = match (&request.password, &request.credential) {
        (Some(p), _) => p,
        (None, Some(c)) if bearer => c,
        _ => {
            note("erase without a password: nothing to do");
            return Ok(());
        }
    };
    let source = open()?;
    let profile = match select::select(source.config(), opts.profile.as_deref(), &request)? {
        Selection::Profile(p) => p,
        Selection::NoMatch(why) => {
            note(&why);
            return Ok(());
        }
    };
    if source.reject(profile, refused)? {
        note(&format!(
            "profile {}: the server refused the current token; the next get refreshes it",
            profile.name
        ));
    } else {
        note(&format!(
            "profile {}: the refused password is not the current token; nothing to do",
            profile.name
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::path::Path;

    use secrecy::ExposeSecret;
    use time::OffsetDateTime;

    use super::*;

    struct Fake {
        config: Config,
        result: Result<&'static str, fn() -> Error>,
        calls: RefCell<Vec<String>>,
    }

    impl Fake {
        fn new() -> Fake {
            Fake::with(Ok("tok-1"))
        }

        fn with(result: Result<&'static str, fn() -> Error>) -> Fake {
            let config = Config::parse(
                r#"
[profiles.prod]
base_url = "https://apigw.example.com"
client_id = "c"
client_secret_env = "X"
username = "alice"
git_hosts = ["git.example.com"]

[profiles.lab]
base_url = "http://127.0.0.1:18090"
client_id = "c"
client_secret_env = "X"
"#,
                Path::new("/cfg.toml"),
            )
            .expect("test config parses");
            Fake {
                config,
                result,
                calls: RefCell::new(Vec::new()),
            }
        }
    }

    impl TokenSource for &Fake {
        fn config(&self) -> &Config {
            &self.config
        }

        fn token(&self, profile: &Profile, min: Option<Duration>) -> Result<AccessToken, Error> {
            self.calls
                .borrow_mut()
                .push(format!("token {} {min:?}", profile.name));
            match self.result {
                Ok(t) => Ok(AccessToken {
                    token: SecretString::from(t.to_owned()),
                    expires_at: OffsetDateTime::from_unix_timestamp(1_800_000_000)
                        .expect("valid timestamp"),
                    issued_at: OffsetDateTime::from_unix_timestamp(1_799_992_800)
                        .expect("valid timestamp"),
                    base_url: profile.base_url.clone(),
                    fresh: false,
                    min_valid: std::time::Duration::ZERO,
                    effective_min_valid: std::time::Duration::ZERO,
                }),
                Err(e) => Err(e()),
            }
        }

        fn reject(&self, profile: &Profile, token: &SecretString) -> Result<bool, Error> {
            self.calls.borrow_mut().push(format!(
                "reject {} {}",
                profile.name,
                token.expose_secret()
            ));
            Ok(token.expose_secret() == "tok-1")
        }
    }

    fn call(
        fake: &Fake,
        args: (Option<&str>, Option<&str>),
        input: &str,
    ) -> (Result<(), Failure>, String) {
        let opts = Options {
            profile: args.0.map(str::to_owned),
            min_valid: None,
            operation: args.1.map(str::to_owned),
        };
        let mut out = Vec::new();
        let r = run(&opts, input.as_bytes(), &mut out, || Ok(fake), &|_| {});
        (r, String::from_utf8(out).expect("utf-8 output"))
    }

    #[test]
    fn get_by_git_host() {
        let fake = Fake::new();
        let (r, out) = call(
            &fake,
            (None, Some("get")),
            "protocol=https\nhost=git.example.com\n\n",
        );
        r.unwrap();
        insta::assert_snapshot!(out, @r"
        username=alice
        password=tok-1
        password_expiry_utc=1800000000
        ");
        assert_eq!(*fake.calls.borrow(), ["token prod None"]);
    }

    #[test]
    fn get_with_authtype_capability() {
        let fake = Fake::new();
        let (r, out) = call(
            &fake,
            (Some("lab"), Some("get")),
            "capability[]=authtype\nprotocol=https\nhost=elsewhere.example\nwwwauth[]=Basic realm=\"git\"\n",
        );
        r.unwrap();
        insta::assert_snapshot!(out, @r"
        capability[]=authtype
        authtype=Bearer
        credential=tok-1
        username=central-auth
        password=tok-1
        password_expiry_utc=1800000000
        ");
    }

    #[test]
    fn no_operation_means_get_like_git2() {
        let fake = Fake::new();
        let (r, out) = call(&fake, (None, None), "protocol=http\nhost=127.0.0.1:18090\n");
        r.unwrap();
        assert!(out.contains("password=tok-1\n"), "{out}");
        assert_eq!(*fake.calls.borrow(), ["token lab None"]);
    }

    #[test]
    fn no_match_prints_nothing_and_succeeds() {
        let fake = Fake::new();
        let (r, out) = call(
            &fake,
            (None, Some("get")),
            "protocol=https\nhost=github.com\n\n",
        );
        r.unwrap();
        assert_eq!(out, "");
        assert!(fake.calls.borrow().is_empty());
    }

    #[test]
    fn broker_error_prints_nothing_and_keeps_its_exit_code() {
        let fake = Fake::with(Err(|| Error::NeedsLogin {
            profile: "prod".into(),
            reason: "the refresh token expired".into(),
        }));
        let (r, out) = call(
            &fake,
            (None, Some("get")),
            "protocol=https\nhost=git.example.com\n",
        );
        let f = r.unwrap_err();
        assert_eq!(f.code(), ExitCode::NeedsLogin);
        assert!(
            f.to_string().contains("central-auth login --profile prod"),
            "{f}"
        );
        assert_eq!(out, "");
    }

    #[test]
    fn injection_is_refused_before_the_broker_is_opened() {
        let opts = Options {
            operation: Some("get".into()),
            ..Options::default()
        };
        let mut out = Vec::new();
        let r = run::<&Fake>(
            &opts,
            &b"protocol=https\nhost=git.example.com\r\nhost=evil\n"[..],
            &mut out,
            || panic!("must not open the broker"),
            &|_| {},
        );
        assert_eq!(r.unwrap_err().code(), ExitCode::Usage);
        assert!(out.is_empty());
    }

    #[test]
    fn erase_rejects_the_refused_token() {
        let fake = Fake::new();
        let (r, out) = call(
            &fake,
            (None, Some("erase")),
            "protocol=https\nhost=git.example.com\nusername=alice\npassword=tok-1\n\n",
        );
        r.unwrap();
        assert_eq!(out, "");
        assert_eq!(*fake.calls.borrow(), ["reject prod tok-1"]);
    }

    #[test]
    fn erase_with_bearer_credential_only() {
        let fake = Fake::new();
        let (r, _) = call(
            &fake,
            (Some("prod"), Some("erase")),
            "capability[]=authtype\nauthtype=Bearer\ncredential=tok-1\nprotocol=https\nhost=x.example\n",
        );
        r.unwrap();
        assert_eq!(*fake.calls.borrow(), ["reject prod tok-1"]);
    }

    #[test]
    fn erase_without_password_or_for_other_hosts_does_nothing() {
        let fake = Fake::new();
        call(
            &fake,
            (None, Some("erase")),
            "protocol=https\nhost=git.example.com\n",
        )
        .0
        .unwrap();
        call(
            &fake,
            (None, Some("erase")),
            "protocol=https\nhost=github.com\npassword=x\n",
        )
        .0
        .unwrap();
        assert!(fake.calls.borrow().is_empty());
    }

    #[test]
    fn store_and_unknown_operations_ignore_input_without_opening_the_broker() {
        for op in ["store", "frobnicate", "approve"] {
            let opts = Options {
                operation: Some(op.into()),
                ..Options::default()
            };
            let mut out = Vec::new();
            run::<&Fake>(
                &opts,
                &b"garbage\0\r\nwithout equals\n"[..],
                &mut out,
                || panic!("must not open the broker"),
                &|_| {},
            )
            .unwrap();
            assert!(out.is_empty());
        }
    }

    #[test]
    fn capability_operation() {
        let fake = Fake::new();
        let (r, out) = call(&fake, (None, Some("capability")), "");
        r.unwrap();
        assert_eq!(out, "version 0\ncapability authtype\n");
    }
}
