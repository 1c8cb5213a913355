//! git's credential helper wire format: `key=value` lines in, `key=value` lines out.
//!
//! Input ends at a blank line or at EOF (the `git2` crate closes stdin without a
//! blank line). Unknown keys are tolerated and dropped. Keys ending in `[]` are
//! multi-valued and an empty value clears the list. Anything that could smuggle an
//! extra attribute into git (a carriage return or NUL in a value, a NUL in a key, a
//! line without `=`, a line longer than [`MAX_LINE`] bytes) is refused, and no value
//! containing CR, LF or NUL is ever written.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};

use secrecy::{ExposeSecret, SecretString};

/// Longest accepted input line in bytes, without its newline (git's own limit).
pub const MAX_LINE: usize = 65535;
/// Most values kept for one multi-valued key (`capability[]`, `wwwauth[]`); git
/// sends a handful.
pub const MAX_LIST: usize = 64;
/// Most input read in all (git sends well under 4 KiB).
pub const MAX_INPUT: u64 = 1024 * 1024;

/// Why the input was refused or the answer could not be written.
#[derive(Debug)]
pub enum ProtocolError {
    /// A line is longer than [`MAX_LINE`] bytes.
    LineTooLong {
        /// 1-based line number.
        line: usize,
    },
    /// A line has no `=`.
    NoEquals {
        /// 1-based line number.
        line: usize,
    },
    /// A key is empty or contains NUL.
    BadKey {
        /// 1-based line number.
        line: usize,
    },
    /// More than [`MAX_LIST`] values for one multi-valued key.
    TooManyValues {
        /// The key, e.g. `capability[]`.
        key: String,
    },
    /// More than [`MAX_INPUT`] bytes of input.
    InputTooLarge,
    /// A value contains a carriage return or NUL.
    BadValue {
        /// 1-based line number.
        line: usize,
        /// The attribute's key (never the value).
        key: String,
    },
    /// A value to be written contains CR, LF or NUL.
    UnsafeOutput {
        /// The attribute's key (never the value).
        key: &'static str,
    },
    /// Reading stdin or writing stdout failed.
    Io(std::io::Error),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::LineTooLong { line } => write!(
                f,
                "input line {line} is longer than {MAX_LINE} bytes; refusing it (git never sends such lines)"
            ),
            ProtocolError::TooManyValues { key } => write!(
                f,
                "more than {MAX_LIST} {key:?} lines; refusing the input (git sends a handful)"
            ),
            ProtocolError::InputTooLarge => write!(
                f,
                "more than {MAX_INPUT} bytes of input; refusing it (git sends a few lines)"
            ),
            ProtocolError::NoEquals { line } => write!(
                f,
                "input line {line} is not key=value; send git's credential format (see `git help credential`)"
            ),
            ProtocolError::BadKey { line } => write!(
                f,
                "input line {line} has an empty key or a key containing NUL; refusing possible protocol injection"
            ),
            ProtocolError::BadValue { line, key } => write!(
                f,
                "input line {line}: the value of {key:?} contains a carriage return or NUL; refusing possible protocol injection"
            ),
            ProtocolError::UnsafeOutput { key } => write!(
                f,
                "the {key} to answer with contains CR, LF or NUL and cannot be sent to git safely; check the profile's configuration and stored token"
            ),
            ProtocolError::Io(e) => write!(f, "cannot talk to git over stdin/stdout: {e}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

impl From<std::io::Error> for ProtocolError {
    fn from(e: std::io::Error) -> Self {
        ProtocolError::Io(e)
    }
}

/// What git sent to the helper. Secrets stay in [`SecretString`].
#[derive(Debug, Default)]
pub struct Request {
    /// `protocol`, e.g. `https`.
    pub protocol: Option<String>,
    /// `host`, with `:port` when the URL had one.
    pub host: Option<String>,
    /// `path` (only with `credential.useHttpPath`).
    pub path: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `password` (on `erase`: the one the server just refused).
    pub password: Option<SecretString>,
    /// `authtype` (git 2.46+).
    pub authtype: Option<String>,
    /// `credential` (git 2.46+, goes with `authtype`).
    pub credential: Option<SecretString>,
    /// `capability[]` values git offered, e.g. `authtype`.
    pub capabilities: Vec<String>,
    /// `wwwauth[]`: the server's `WWW-Authenticate` headers, in order.
    pub wwwauth: Vec<String>,
}

impl Request {
    /// Whether git offered `capability[]=<name>`.
    pub fn offers(&self, name: &str) -> bool {
        self.capabilities.iter().any(|c| c == name)
    }

    fn set(&mut self, key: &str, value: String) -> Result<(), ProtocolError> {
        let list = match key {
            "capability[]" => &mut self.capabilities,
            "wwwauth[]" => &mut self.wwwauth,
            _ => {
                self.set_single(key, value);
                return Ok(());
            }
        };
        if list.len() >= MAX_LIST && !value.is_empty() {
            return Err(ProtocolError::TooManyValues {
                key: key.to_owned(),
            });
        }
        push_or_clear(list, value);
        Ok(())
    }

    fn set_single(&mut self, key: &str, value: String) {
        match key {
            "protocol" => self.protocol = Some(value),
            "host" => self.host = Some(value),
            "path" => self.path = Some(value),
            "username" => self.username = Some(value),
            "password" => self.password = Some(SecretString::from(value)),
            "authtype" => self.authtype = Some(value),
            "credential" => self.credential = Some(SecretString::from(value)),
            "url" => self.set_url(&value),
            _ => {}
        }
    }

    /// `url=` is a shorthand for protocol, host and path (as `git credential` takes it).
    fn set_url(&mut self, url: &str) {
        let Some((scheme, rest)) = url.split_once("://") else {
            return;
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        self.protocol = Some(scheme.to_owned());
        self.host = Some(host.to_owned());
        if !path.is_empty() {
            self.path = Some(path.to_owned());
        }
    }
}

fn push_or_clear(list: &mut Vec<String>, value: String) {
    if value.is_empty() {
        list.clear();
    } else {
        list.push(value);
    }
}

/// Reads git's attributes up to a blank line or EOF.
pub fn parse(input: impl Read) -> Result<Request, ProtocolError> {
    let mut reader = BufReader::new(input.take(MAX_INPUT + 1));
    let mut total: u64 = 0;
    let mut request = Request::default();
    let mut buf = Vec::new();
    for line_no in 1.. {
        buf.clear();
        let limit = u64::try_from(MAX_LINE + 1).expect("small constant fits u64");
        let n = reader.by_ref().take(limit).read_until(b'\n', &mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > MAX_INPUT {
            return Err(ProtocolError::InputTooLarge);
        }
        if buf.last() == Some(&b'\n') {
            buf.pop();
        } else if buf.len() > MAX_LINE {
            return Err(ProtocolError::LineTooLong { line: line_no });
        }
        if buf.is_empty() {
            break;
        }
        let eq = buf
            .iter()
            .position(|&b| b == b'=')
            .ok_or(ProtocolError::NoEquals { line: line_no })?;
        let (key, value) = (&buf[..eq], &buf[eq + 1..]);
        if key.is_empty() || key.contains(&0) {
            return Err(ProtocolError::BadKey { line: line_no });
        }
        let key = String::from_utf8_lossy(key).into_owned();
        if value.contains(&b'\r') || value.contains(&0) {
            return Err(ProtocolError::BadValue { line: line_no, key });
        }
        request.set(&key, String::from_utf8_lossy(value).into_owned())?;
    }
    Ok(request)
}

/// Reads and discards everything on stdin (for operations whose input is ignored),
/// so git never gets SIGPIPE writing to us.
pub fn drain(mut input: impl Read) -> Result<(), ProtocolError> {
    std::io::copy(&mut input, &mut std::io::sink())?;
    Ok(())
}

/// The helper's answer to `get`.
#[derive(Debug)]
pub struct Answer {
    /// `username=`.
    pub username: String,
    /// `password=` (and `credential=` with the authtype capability): the token.
    pub token: SecretString,
    /// `password_expiry_utc=`, Unix seconds.
    pub expiry_unix: i64,
    /// Whether to answer with `capability[]=authtype`, `authtype=Bearer` and
    /// `credential=` as well (only when git offered it).
    pub bearer: bool,
}

/// Writes the answer in one piece, after checking that no value can inject lines.
/// Nothing is written when a check fails.
pub fn write_answer(mut out: impl Write, answer: &Answer) -> Result<(), ProtocolError> {
    let token = answer.token.expose_secret();
    check("username", &answer.username)?;
    check("token", token)?;
    let mut text = String::new();
    if answer.bearer {
        text.push_str("capability[]=authtype\nauthtype=Bearer\n");
        text.push_str(&format!("credential={token}\n"));
    }
    text.push_str(&format!("username={}\n", answer.username));
    text.push_str(&format!("password={token}\n"));
    text.push_str(&format!("password_expiry_utc={}\n", answer.expiry_unix));
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// The answer to the `capability` operation (git 2.46+).
pub fn write_capabilities(mut out: impl Write) -> Result<(), ProtocolError> {
    out.write_all(b"version 0\ncapability authtype\n")?;
    out.flush()?;
    Ok(())
}

fn check(key: &'static str, value: &str) -> Result<(), ProtocolError> {
    if value.is_empty() || value.contains(['\r', '\n', '\0']) {
        return Err(ProtocolError::UnsafeOutput { key });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(input: &[u8]) -> Result<Request, ProtocolError> {
        parse(input)
    }

    #[test]
    fn parses_git_input_with_unknown_keys_and_lists() {
        let r = req(b"capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=git.example.com:8443\npath=org/repo.git\nwwwauth[]=Basic realm=\"git\"\nusername=me\npassword=p=w\nfuture_key=x\n\nignored=after-blank\n").unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("git.example.com:8443"));
        assert_eq!(r.path.as_deref(), Some("org/repo.git"));
        assert_eq!(r.username.as_deref(), Some("me"));
        assert_eq!(r.password.as_ref().unwrap().expose_secret(), "p=w");
        assert_eq!(r.capabilities, ["authtype", "state"]);
        assert!(r.offers("authtype"));
        assert_eq!(r.wwwauth, ["Basic realm=\"git\""]);
    }

    #[test]
    fn eof_without_blank_line_ends_input() {
        let r = req(b"protocol=http\nhost=127.0.0.1:9").unwrap();
        assert_eq!(r.host.as_deref(), Some("127.0.0.1:9"));
        let empty = req(b"").unwrap();
        assert!(empty.host.is_none());
    }

    #[test]
    fn empty_list_value_clears_the_list() {
        let r = req(b"capability[]=authtype\ncapability[]=\nwwwauth[]=a\nwwwauth[]=\n").unwrap();
        assert!(r.capabilities.is_empty() && r.wwwauth.is_empty());
    }

    #[test]
    fn url_shorthand_fills_protocol_host_path() {
        let r = req(b"url=https://user@git.example.com:444/a/b.git\n").unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("git.example.com:444"));
        assert_eq!(r.path.as_deref(), Some("a/b.git"));
    }

    #[test]
    fn refuses_injection() {
        assert!(matches!(
            req(b"host=a\r\nhost=b\n"),
            Err(ProtocolError::BadValue { line: 1, .. })
        ));
        assert!(matches!(
            req(b"protocol=https\nhost=a\0b\n"),
            Err(ProtocolError::BadValue { line: 2, .. })
        ));
        assert!(matches!(
            req(b"ho\0st=a\n"),
            Err(ProtocolError::BadKey { line: 1 })
        ));
        assert!(matches!(req(b"=a\n"), Err(ProtocolError::BadKey { .. })));
        assert!(matches!(
            req(b"protocol=https\nhost\n"),
            Err(ProtocolError::NoEquals { line: 2 })
        ));
    }

    #[test]
    fn line_length_limit() {
        let mut ok = b"path=".to_vec();
        ok.resize(MAX_LINE, b'a');
        ok.push(b'\n');
        assert_eq!(req(&ok).unwrap().path.unwrap().len(), MAX_LINE - 5);
        let mut ok_eof = ok.clone();
        ok_eof.pop();
        assert!(req(&ok_eof).is_ok());
        let mut long = ok.clone();
        long.insert(6, b'a');
        assert!(matches!(
            req(&long),
            Err(ProtocolError::LineTooLong { line: 1 })
        ));
        long.pop();
        assert!(matches!(
            req(&long),
            Err(ProtocolError::LineTooLong { line: 1 })
        ));
    }

    #[test]
    fn error_messages_never_carry_values() {
        let e = req(b"password=sekrit\0\n").unwrap_err().to_string();
        assert!(!e.contains("sekrit"), "{e}");
        assert!(e.contains("\"password\""), "{e}");
    }

    fn answer(bearer: bool, token: &str, username: &str) -> Result<String, ProtocolError> {
        let mut out = Vec::new();
        write_answer(
            &mut out,
            &Answer {
                username: username.into(),
                token: SecretString::from(token.to_owned()),
                expiry_unix: 1_800_000_000,
                bearer,
            },
        )?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn answer_basic() {
        insta::assert_snapshot!(answer(false, "tok123", "central-auth").unwrap(), @r"
        username=central-auth
        password=tok123
        password_expiry_utc=1800000000
        ");
    }

    #[test]
    fn answer_with_authtype_keeps_username_and_password() {
        insta::assert_snapshot!(answer(true, "tok123", "alice").unwrap(), @r"
        capability[]=authtype
        authtype=Bearer
        credential=tok123
        username=alice
        password=tok123
        password_expiry_utc=1800000000
        ");
    }

    #[test]
    fn never_writes_unsafe_values() {
        for bad in ["a\nusername=evil", "a\rb", "a\0b", ""] {
            let mut out = Vec::new();
            let tok = write_answer(
                &mut out,
                &Answer {
                    username: "u".into(),
                    token: SecretString::from(bad.to_owned()),
                    expiry_unix: 0,
                    bearer: true,
                },
            );
            assert!(matches!(
                tok,
                Err(ProtocolError::UnsafeOutput { key: "token" })
            ));
            assert!(out.is_empty());
        }
        assert!(matches!(
            answer(false, "t", "u\nx"),
            Err(ProtocolError::UnsafeOutput { key: "username" })
        ));
    }

    #[test]
    fn capabilities_answer() {
        let mut out = Vec::new();
        write_capabilities(&mut out).unwrap();
        assert_eq!(out, b"version 0\ncapability authtype\n");
    }
}

#[cfg(test)]
mod roundtrip {
    //! Property tests: whatever git could send parses back to the same fields, and
    //! whatever we answer parses back to what we meant.
    use super::*;
    use proptest::prelude::*;

    /// Values git may carry: anything but LF, CR and NUL.
    fn value() -> impl Strategy<Value = String> {
        "[^\r\n\u{0}]{0,40}"
    }

    proptest! {
        #[test]
        fn request_fields_round_trip(
            protocol in "[a-z]{1,8}",
            host in "[a-z0-9.:-]{1,30}",
            path in value(),
            username in value(),
            password in value(),
        ) {
            let input = format!(
                "protocol={protocol}\nhost={host}\npath={path}\nusername={username}\npassword={password}\n\n"
            );
            let r = parse(input.as_bytes()).unwrap();
            prop_assert_eq!(r.protocol.as_deref(), Some(protocol.as_str()));
            prop_assert_eq!(r.host.as_deref(), Some(host.as_str()));
            prop_assert_eq!(r.path.as_deref(), Some(path.as_str()));
            prop_assert_eq!(r.username.as_deref(), Some(username.as_str()));
            prop_assert_eq!(r.password.as_ref().map(|p| p.expose_secret().to_owned()), Some(password));
        }

        #[test]
        fn answers_round_trip(username in "[^\r\n\u{0}]{1,40}", token in "[^\r\n\u{0}]{1,60}", bearer: bool) {
            let answer = Answer {
                username: username.clone(),
                token: SecretString::from(token.clone()),
                expiry_unix: 1_795_843_800,
                bearer,
            };
            let mut out = Vec::new();
            write_answer(&mut out, &answer).unwrap();
            let r = parse(out.as_slice()).unwrap();
            prop_assert_eq!(r.username.as_deref(), Some(username.as_str()));
            prop_assert_eq!(r.password.as_ref().map(|p| p.expose_secret().to_owned()), Some(token.clone()));
            if bearer {
                prop_assert_eq!(r.authtype.as_deref(), Some("Bearer"));
                prop_assert_eq!(r.credential.as_ref().map(|p| p.expose_secret().to_owned()), Some(token));
            }
        }

        #[test]
        fn injected_line_breaks_are_refused(
            before in value(),
            after in value(),
            bad in prop::sample::select(vec!["\r", "\u{0}"]),
        ) {
            let input = format!("host={before}{bad}{after}\n\n");
            prop_assert!(parse(input.as_bytes()).is_err());
        }
    }
}
