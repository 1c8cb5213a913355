//! Writing the helper's answer: `get`'s attributes and the `capability`
//! lines, in one write, never a value that could inject a line.

use std::io::Write;

use secrecy::{ExposeSecret, SecretString};

use super::ProtocolError;

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
