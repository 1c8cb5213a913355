//! git's credential helper wire format: `key=value` lines in, `key=value` lines out.
//!
//! Input ends at a blank line or at EOF (the `git2` crate closes stdin without a
//! blank line). Unknown keys are tolerated and dropped. Keys ending in `[]` are
//! multi-valued and an empty value clears the list. Anything that could smuggle an
//! extra attribute into git (a carriage return or NUL in a value, a NUL in a key, a
//! line without `=`, a line longer than [`MAX_LINE`] bytes) is refused, and no value
//! containing CR, LF or NUL is ever written.
//!
//! [`request`] reads what git sends, [`answer`] writes what the helper says back;
//! this module holds the limits and the error both share.

mod answer;
mod request;

use std::fmt;

pub use answer::{write_answer, write_capabilities, Answer};
pub use request::{drain, parse, Request};

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

#[cfg(test)]
mod roundtrip {
    //! Property tests: whatever git could send parses back to the same fields, and
    //! whatever we answer parses back to what we meant.
    use super::*;
    use proptest::prelude::*;
    use secrecy::{ExposeSecret, SecretString};

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
