//! What every central-auth binary shares: [`Failure`], the one failure type of a
//! run (the CLI's and every helper's), and the one-line stderr messages
//! (`<binary>: message`). Building the lines lives here; printing them stays in
//! the binaries (`central-auth-cli-common` prints them for all of them).

use std::fmt;
use std::io::Write;

use serde::Serialize;

use crate::broker::AccessToken;
use crate::error::{Error, ExitCode};
use crate::secret::ExposeSecret;
use crate::status::rfc3339;

/// Why one run of a central-auth binary failed: what the binary prints as
/// `<binary>: message` (never a secret) and the exit code it ends with.
#[derive(Debug)]
pub enum Failure {
    /// The broker, the configuration or the input failed; the exit code is
    /// the error's ([`Error::exit_code`]).
    Core(Error),
    /// The answer could not be written to stdout (exit 1).
    Output(std::io::Error),
    /// The calling tool's own protocol was broken or could not be spoken (git's
    /// `key=value` lines): the helper's typed error and the exit code the
    /// helper gives it.
    Protocol {
        /// The helper's error; its `Display` is the message.
        error: Box<dyn std::error::Error + Send + Sync>,
        /// The exit code.
        code: ExitCode,
    },
}

impl Failure {
    /// The process exit code (the shared codes; 1 when stdout failed).
    pub fn exit_code(&self) -> u8 {
        self.code() as u8
    }

    /// The shared exit code this failure ends the process with.
    pub fn code(&self) -> ExitCode {
        match self {
            Failure::Core(e) => e.exit_code(),
            Failure::Output(_) => ExitCode::Other,
            Failure::Protocol { code, .. } => *code,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Core(e) => write!(f, "{e}"),
            Failure::Output(e) => write!(f, "cannot write the token to stdout: {e}"),
            Failure::Protocol { error, .. } => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for Failure {}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Core(e)
    }
}

/// The token object shared by the Terraform and Ansible adapters, in key order.
#[derive(Serialize)]
struct TokenJson<'a> {
    access_token: &'a str,
    expires_at: String,
    base_url: &'a str,
    profile: &'a str,
}

/// Renders `{"access_token","expires_at" (RFC 3339),"base_url","profile"}` and a
/// newline: one JSON object of strings. The protocol carries the token, so this
/// is where it is exposed.
pub fn render_token_json(profile: &str, token: &AccessToken) -> Vec<u8> {
    let answer = TokenJson {
        access_token: token.token.expose_secret(),
        expires_at: rfc3339(token.expires_at),
        base_url: &token.base_url,
        profile,
    };
    // A struct of strings always serializes; the empty default is never used.
    let mut out = serde_json::to_vec(&answer).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Writes [`render_token_json`] to `out` in one write and flushes it.
pub fn write_token_json(
    mut out: impl Write,
    profile: &str,
    token: &AccessToken,
) -> std::io::Result<()> {
    out.write_all(&render_token_json(profile, token))?;
    out.flush()
}

/// `name: message` on one line, whatever the message holds: line breaks become
/// spaces and other control characters are escaped ([`terminal_safe`]).
pub fn error_line(name: &str, message: &dyn fmt::Display) -> String {
    let message = message.to_string().replace(['\n', '\r'], " ");
    format!("{name}: {}", terminal_safe(&message))
}

/// `text` with every control character (C0, DEL, C1: ESC, OSC, BEL...) and every
/// bidirectional-override or zero-width format character written as `\u{XX}`,
/// so bytes that came from input cannot drive the terminal they are shown on.
pub fn terminal_safe(text: &str) -> String {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads all of `input` up to `max` bytes; more is [`Error::BadInput`] naming
/// `what` (e.g. `the query on stdin`), so no input can make a helper allocate
/// without bound.
pub fn read_bounded(input: impl std::io::Read, max: u64, what: &str) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let mut bytes = Vec::new();
    input
        .take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::bad_input(format!("cannot read {what}: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(Error::bad_input(format!(
            "{what} is larger than {max} bytes; refusing it (a real one is far smaller)"
        )));
    }
    Ok(bytes)
}

/// The members of a JSON object in document order, duplicates kept, so callers
/// can refuse a key given twice (serde_json's map keeps only the last one).
/// `Ok(None)` when the text is valid JSON but not an object.
pub fn json_object_members(
    text: &str,
) -> Result<Option<Vec<(String, serde_json::Value)>>, serde_json::Error> {
    struct Members(Option<Vec<(String, serde_json::Value)>>);
    impl<'de> serde::Deserialize<'de> for Members {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
            struct Visit;
            impl<'de> serde::de::Visitor<'de> for Visit {
                type Value = Members;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a JSON value")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Members, A::Error> {
                    let mut out = Vec::new();
                    while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                        out.push(entry);
                    }
                    Ok(Members(Some(out)))
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut seq: A,
                ) -> Result<Members, A::Error> {
                    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                    Ok(Members(None))
                }
                fn visit_bool<E>(self, _: bool) -> Result<Members, E> {
                    Ok(Members(None))
                }
                fn visit_i64<E>(self, _: i64) -> Result<Members, E> {
                    Ok(Members(None))
                }
                fn visit_u64<E>(self, _: u64) -> Result<Members, E> {
                    Ok(Members(None))
                }
                fn visit_f64<E>(self, _: f64) -> Result<Members, E> {
                    Ok(Members(None))
                }
                fn visit_str<E>(self, _: &str) -> Result<Members, E> {
                    Ok(Members(None))
                }
                fn visit_unit<E>(self) -> Result<Members, E> {
                    Ok(Members(None))
                }
            }
            d.deserialize_any(Visit)
        }
    }
    serde_json::from_str::<Members>(text).map(|m| m.0)
}

/// A command-line error as one line: the first line of clap's rendering (which
/// spans several), then `hint` and a pointer to `--help`.
pub fn usage_line(name: &str, rendered: &str, hint: &str) -> String {
    usage_line_for(name, rendered, hint, None)
}

/// [`usage_line`] pointing to `command --help` (`central-auth token`) when the
/// caller knows which subcommand the line was about; else the command of
/// clap's `Usage:` line, else `name`.
pub fn usage_line_for(name: &str, rendered: &str, hint: &str, command: Option<&str>) -> String {
    let first = rendered.lines().next().unwrap_or("invalid command line");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // clap's suggestion ("tip: a similar subcommand exists: 'token'") is kept.
    let tip = rendered
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("tip: "))
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    let first = format!("{first}{tip}");
    // The help of the subcommand the error is about: clap's `Usage:` line
    // names it (`Usage: central-auth token [OPTIONS]`).
    let command = command
        .map(str::to_owned)
        .or_else(|| {
            rendered
                .lines()
                .find_map(|l| l.trim_start().strip_prefix("Usage: "))
                .map(|usage| {
                    usage
                        .split_whitespace()
                        .take_while(|w| !w.starts_with(['[', '<', '-']) && !w.contains("..."))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .filter(|c| c.starts_with(name))
        })
        .unwrap_or_else(|| name.to_owned());
    if hint.is_empty() {
        format!("{name}: {first}; see `{command} --help`")
    } else {
        format!("{name}: {first}; {hint}, see `{command} --help`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(terminal_safe("host a.example"), "host a.example");
        let evil = "h\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}x\u{202e}";
        let safe = terminal_safe(evil);
        assert!(!safe.chars().any(|c| c.is_control()), "{safe}");
        assert_eq!(safe, "h\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}x\\u{202e}");
        assert_eq!(error_line("x", &"a\u{1b}b\nc"), "x: a\\u{1b}b c");
    }

    #[test]
    fn bounded_reads_and_duplicate_keys() {
        assert_eq!(read_bounded(&b"abc"[..], 3, "x").unwrap(), b"abc");
        let e = read_bounded(&b"abcd"[..], 3, "the query").unwrap_err();
        assert!(e.to_string().contains("larger than 3 bytes"), "{e}");
        let m = json_object_members(r#"{"a":"1","a":"2"}"#)
            .unwrap()
            .unwrap();
        assert_eq!(m.len(), 2);
        assert!(json_object_members("[1]").unwrap().is_none());
        assert!(json_object_members("{").is_err());
    }

    #[test]
    fn lines_are_single() {
        let f = Failure::Core(Error::bad_input("a\nb"));
        assert_eq!(error_line("x", &f), "x: a b");
        assert_eq!(f.exit_code(), 2);
        let o = Failure::Output(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(o.exit_code(), 1);
        let p = Failure::Protocol {
            error: "input line 1 is not key=value".into(),
            code: ExitCode::Usage,
        };
        assert_eq!(error_line("x", &p), "x: input line 1 is not key=value");
        assert_eq!(p.exit_code(), 2);
        assert_eq!(
            usage_line(
                "x",
                "error: unexpected argument '--nope' found\n\nUsage: x",
                ""
            ),
            "x: unexpected argument '--nope' found; see `x --help`"
        );
        assert_eq!(
            usage_line(
                "x",
                "error: unrecognized subcommand 'tokn'\n\n  tip: a similar subcommand exists: 'token'\n\nUsage: x",
                ""
            ),
            "x: unrecognized subcommand 'tokn' (a similar subcommand exists: 'token'); see `x --help`"
        );
        assert_eq!(
            usage_line(
                "x",
                "error: unexpected argument '--json' found\n\nUsage: x token [OPTIONS]\n\nFor more information, try '--help'.",
                ""
            ),
            "x: unexpected argument '--json' found; see `x token --help`"
        );
        assert_eq!(
            usage_line(
                "x",
                "error: a value is required\n\nUsage: x store migrate --from <KIND>",
                ""
            ),
            "x: a value is required; see `x store migrate --help`"
        );
    }
}
