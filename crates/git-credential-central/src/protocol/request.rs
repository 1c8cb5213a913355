//! Reading git's request: `key=value` lines up to a blank line or EOF, with
//! every line that could smuggle an attribute refused.

use std::io::{BufRead, BufReader, Read};

use secrecy::SecretString;

use super::{ProtocolError, MAX_INPUT, MAX_LINE, MAX_LIST};

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

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

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
}
