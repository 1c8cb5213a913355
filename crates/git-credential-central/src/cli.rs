//! The command line of `git-credential-central` (clap derive), a library module
//! so that `cargo xtask release` renders its man page and completions from it.

use clap::Parser;

use central_auth_cli_common::{after_help, HelperArgs, HelperCli};

/// git credential helper that answers with the current HPE Aruba Networking Central
/// access token held by central-auth.
///
/// Configure it in git as `credential.helper = central` (with this binary on PATH),
/// optionally `credential.helper = "central --profile NAME"`. Without --profile, the
/// profile whose git_hosts (or base_url host) matches git's host answers; for any
/// other host nothing is printed and git asks its next helper. Tokens are only
/// handed out for https, or http to a loopback host.
#[derive(Debug, Parser)]
#[command(name = "git-credential-central", version, after_help = after_help(""))]
pub struct Cli {
    /// `--profile` (answer with this profile whatever host git asks for),
    /// `--min-valid`, `--verbose`, as on every helper.
    #[command(flatten)]
    pub args: HelperArgs,

    /// The operation git appends: get, store, erase or capability. Missing means
    /// get; unknown operations are ignored.
    #[arg(value_name = "OPERATION")]
    pub operation: Option<String>,
}

impl HelperCli for Cli {
    fn helper_args(&self) -> &HelperArgs {
        &self.args
    }

    /// The operation word with at most a profile, built without clap (see
    /// `central_auth_cli_common::quick`); `None` for every other command line.
    fn quick(args: &[std::ffi::OsString]) -> Option<Cli> {
        let (profile, words) = central_auth_cli_common::quick::split(args)?;
        match words[..] {
            [] => Some(None),
            [op] => Some(Some(op.to_owned())),
            _ => None,
        }
        .map(|operation| Cli {
            args: HelperArgs::with_profile(profile),
            operation,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_lines_are_what_clap_builds() {
        let n = "git-credential-central";
        central_auth_cli_common::quick::assert_agrees_with_clap(
            Cli::quick,
            &[
                &[n, "get"],
                &[n, "store"],
                &[n, "erase"],
                &[n],
                &[n, "--profile", "prod", "get"],
                &[n, "-p", "prod", "capability"],
            ],
            &[
                &[n, "get", "extra"],
                &[n, "--min-valid", "5m", "get"],
                &[n, "-v", "get"],
            ],
        );
    }
}
