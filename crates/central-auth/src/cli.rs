//! Command-line definition of `central-auth` (clap derive).

use clap::{Args, Parser, Subcommand};

use central_auth_core::error::EXIT_CODES_HELP;

/// The one place on this machine that holds HPE Aruba Networking Central API tokens.
///
/// Every tool asks central-auth for the current access token of a profile; the
/// token is refreshed once, under a lock, for all of them.
#[derive(Debug, Parser)]
#[command(name = "central-auth", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Log each HTTP call (method, redacted URL, status, time) and lock wait to stderr.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Profile selection shared by most commands.
#[derive(Debug, Args)]
pub struct ProfileArg {
    /// Profile to use (default: $CENTRAL_AUTH_PROFILE, then default_profile).
    #[arg(short, long, value_name = "NAME")]
    pub profile: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a token downloaded from the Central Web UI (or a token response).
    Import {
        #[command(flatten)]
        profile: ProfileArg,
        /// Replace a stored token even if the file is older than it.
        #[arg(long)]
        force: bool,
        /// The JSON file, or `-` for stdin.
        #[arg(value_name = "FILE|-")]
        file: String,
    },
    /// Log in with username and password (classic OAuth) and store the new pair.
    Login {
        #[command(flatten)]
        profile: ProfileArg,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Print the current access token (refreshing it if needed) and a newline.
    Token {
        #[command(flatten)]
        profile: ProfileArg,
        /// The token must stay valid at least this long (e.g. 30s, 5m, 1h).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        min_valid: Option<std::time::Duration>,
    },
    /// Show expiry, refresh-token age, the 15-day rule, store and recent users.
    Status {
        #[command(flatten)]
        profile: ProfileArg,
        /// Every configured profile.
        #[arg(long, conflicts_with = "profile")]
        all: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Refresh the token now, whatever its expiry.
    Refresh {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Delete the stored token of a profile.
    Logout {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// List the configured profiles.
    Profiles,
    /// Refresh profiles whose refresh token is older than a threshold, so the
    /// 15-day rule never removes one that is still needed (run it from a timer).
    Keepalive {
        #[command(flatten)]
        profile: ProfileArg,
        /// Every configured profile.
        #[arg(long, conflicts_with = "profile")]
        all: bool,
        /// Refresh when the refresh token is at least this old.
        #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
        older_than: std::time::Duration,
    },
    /// Check a profile end to end; one line per check, `ok` or the fix.
    Doctor {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Run a command with the token and base URL in its environment.
    ///
    /// Sets CENTRAL_ACCESS_TOKEN, CENTRAL_BASE_URL, TF_VAR_central_access_token,
    /// TF_VAR_central_base_url, ARUBA_CENTRAL_ACCESS_TOKEN and ARUBA_CENTRAL_BASE_URL.
    /// The variables named by the profile's client_secret_env and password_env
    /// are removed. The token never appears in a command line. Exits with the command's code
    /// (128 + N when killed by signal N; 127 not found; 126 not runnable).
    Exec {
        #[command(flatten)]
        profile: ProfileArg,
        /// The token must stay valid at least this long.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        min_valid: Option<std::time::Duration>,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    central_auth_core::duration::parse(s)
}
