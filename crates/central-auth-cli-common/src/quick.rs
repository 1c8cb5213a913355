//! The clap-free reading of the hottest command lines.
//!
//! A cached token call is a whole process start, and building clap's parser for
//! a command tree costs about as much as the rest of the call (`cargo xtask
//! bench`). Tools call the same few lines thousands of times a day:
//! `central-auth token`, `git-credential-central get`, `central-auth-kube
//! --profile prod`. [`split`] reads exactly those shapes: plain words and at most
//! one `-p NAME`, `--profile NAME` or `--profile=NAME`. Anything else, including
//! `--help`, other flags, a repeated or missing value, `--` and non-UTF-8, gives
//! `None`, and the caller parses with clap, which owns every other form and every
//! error message. A binary's quick path only builds the same value clap would;
//! [`assert_agrees_with_clap`] is the test that keeps the two equal.

use std::ffi::OsString;

/// The profile (if given) and the positional words of a command line (without
/// the program name), or `None` when it is not a plain profile-and-words line.
pub fn split(args: &[OsString]) -> Option<(Option<String>, Vec<&str>)> {
    let mut profile = None;
    let mut words = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let arg = arg.to_str()?;
        let value = match arg {
            "-p" | "--profile" => it.next()?.to_str()?,
            _ => match arg.strip_prefix("--profile=") {
                Some(v) => v,
                None if arg.starts_with('-') || arg.is_empty() => return None,
                None => {
                    words.push(arg);
                    continue;
                }
            },
        };
        // Empty, dash-led and repeated values are left to clap's messages.
        if value.is_empty() || value.starts_with('-') || profile.is_some() {
            return None;
        }
        profile = Some(value.to_owned());
    }
    Some((profile, words))
}

/// Test aid: for every command line in `lines` (program name first), checks that
/// `quick` either declines it or gives exactly what clap's `C::try_parse_from`
/// gives (compared through `Debug`), and that it accepts every line in `hot`.
/// Panics with the differing line.
pub fn assert_agrees_with_clap<C: clap::Parser + std::fmt::Debug>(
    quick: impl Fn(&[OsString]) -> Option<C>,
    hot: &[&[&str]],
    lines: &[&[&str]],
) {
    let os = |line: &[&str]| -> Vec<OsString> { line.iter().map(OsString::from).collect() };
    for line in hot {
        assert!(
            quick(&os(line)[1..]).is_some(),
            "quick path declined {line:?}"
        );
    }
    for line in hot.iter().chain(lines) {
        let Some(fast) = quick(&os(line)[1..]) else {
            continue;
        };
        let slow = C::try_parse_from(os(line)).map(|c| format!("{c:?}"));
        assert_eq!(
            Ok(format!("{fast:?}")),
            slow.map_err(|e| e.to_string()),
            "{line:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &[&str]) -> Option<(Option<String>, Vec<String>)> {
        let args: Vec<OsString> = line.iter().map(OsString::from).collect();
        split(&args).map(|(p, w)| (p, w.into_iter().map(str::to_owned).collect()))
    }

    #[test]
    fn reads_words_and_one_profile() {
        assert_eq!(run(&["token"]), Some((None, vec!["token".into()])));
        for line in [
            &["-p", "prod", "token"][..],
            &["token", "--profile", "prod"],
            &["--profile=prod", "token"],
        ] {
            assert_eq!(
                run(line),
                Some((Some("prod".into()), vec!["token".into()])),
                "{line:?}"
            );
        }
        // A profile may be named like a word.
        assert_eq!(
            run(&["-p", "token", "token"]),
            Some((Some("token".into()), vec!["token".into()]))
        );
        assert_eq!(run(&[]), Some((None, vec![])));
    }

    #[test]
    fn leaves_everything_else_to_clap() {
        for line in [
            &["token", "-v"][..],
            &["token", "--min-valid", "5m"],
            &["--help"],
            &["-p"],
            &["-p", "-v", "token"],
            &["-p", "a", "-p", "b", "token"],
            &["--profile=", "token"],
            &["-pprod", "token"],
            &["--", "token"],
            &[""],
        ] {
            assert_eq!(run(line), None, "{line:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let bad = vec![OsString::from_vec(vec![0x74, 0xff])];
            assert!(split(&bad).is_none());
        }
    }
}
