//! Fuzzes the git credential input parser, and checks that any username/password
//! it accepts round-trips through the answer writer (or is refused by it).
#![no_main]

use git_credential_central::protocol::{parse, write_answer, Answer};
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse(data) else { return };
    let (Some(username), Some(password)) = (request.username, request.password) else {
        return;
    };
    let answer = Answer {
        username: username.clone(),
        token: secrecy::SecretString::from(password.expose_secret().to_owned()),
        expiry_unix: 1_795_843_800,
        bearer: false,
    };
    let mut out = Vec::new();
    if write_answer(&mut out, &answer).is_ok() {
        let back = parse(out.as_slice()).expect("our own answer parses");
        assert_eq!(back.username.as_deref(), Some(username.as_str()));
        assert_eq!(
            back.password.as_ref().map(|p| p.expose_secret().to_owned()),
            Some(password.expose_secret().to_owned())
        );
    }
});
