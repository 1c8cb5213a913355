//! Command-line definition of `central-auth` (clap derive). A library module so
//! that `cargo xtask release` renders its man page and completions from it.

use clap::{Parser, Subcommand};

use central_auth_cli_common::{after_help, parse_duration, Common};

/// The one place on this machine that holds HPE Aruba Networking Central API tokens.
///
/// Every tool asks central-auth for the current access token of a profile; the
/// token is refreshed once, under a lock, for all of them.
#[derive(Debug, Parser)]
#[command(name = "central-auth", version, after_help = after_help(EXEC_ENV_HELP))]
pub struct Cli {
    /// `-p/--profile`, `-v/--verbose`: before or after the subcommand.
    #[command(flatten)]
    pub common: Common,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The clap command as parsed and documented (help, man pages,
    /// completions): the derive's, with the global `-p`/`-v` hidden where
    /// they do nothing (`completions`).
    pub fn command() -> clap::Command {
        use clap::{Arg, ArgAction};
        // A subcommand's own argument of the same id stops a global from
        // being copied into it when the command is built: these are the
        // globals' twins, hidden from its help and ignored.
        <Cli as clap::CommandFactory>::command().mut_subcommand("completions", |c| {
            c.arg(
                Arg::new("profile")
                    .short('p')
                    .long("profile")
                    .value_name("NAME")
                    .hide(true),
            )
            .arg(
                Arg::new("verbose")
                    .short('v')
                    .long("verbose")
                    .action(ArgAction::SetTrue)
                    .hide(true),
            )
        })
    }

    /// Parses the process's command line with [`Cli::command`].
    pub fn try_parse_args() -> Result<Cli, clap::Error> {
        let matches = Cli::command().try_get_matches()?;
        <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
    }

    /// `token` with at most a profile, built without clap (the cached call is a
    /// whole process start; see `central_auth_cli_common::quick`); `None` for
    /// every other command line.
    pub fn quick(args: &[std::ffi::OsString]) -> Option<Cli> {
        let (profile, words) = central_auth_cli_common::quick::split(args)?;
        (words == ["token"]).then_some(Cli {
            common: Common {
                profile,
                verbose: false,
            },
            command: Command::Token { min_valid: None },
        })
    }
}

/// The variables `exec` sets, for `--help`.
const EXEC_ENV_HELP: &str = "  exec sets CENTRAL_ACCESS_TOKEN, CENTRAL_BASE_URL, TF_VAR_central_access_token,\n  TF_VAR_central_base_url, ARUBA_CENTRAL_ACCESS_TOKEN and ARUBA_CENTRAL_BASE_URL";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store a token downloaded from the Central Web UI (or a token response).
    Import {
        /// Print the outcome as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Store the token even if the file is older than the stored one, or
        /// created 15 days ago or more (Central has then most likely removed it).
        #[arg(long)]
        force: bool,
        /// Then prove the pair with one call to Central (a refresh); exit 3
        /// if Central rejects it.
        #[arg(long)]
        verify: bool,
        /// Take over the chain from another tool's token file, then leave that
        /// file with only the access token (no refresh; see pycentral.md and
        /// cencli.md of the central-auth docs).
        #[arg(long, value_name = "TOOL", value_enum)]
        from: Option<ImportFrom>,
        /// The JSON file, or `-` for stdin.
        #[arg(value_name = "FILE|-")]
        file: String,
    },
    /// Log in with username and password (classic OAuth) and store the new pair.
    Login {
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
        /// Print the outcome as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print the current access token (refreshing it if needed) and a newline.
    Token {
        /// The token must stay valid at least this long (e.g. 30s, 5m, 1h).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        min_valid: Option<std::time::Duration>,
    },
    /// Show expiry, refresh-token age, the 15-day rule, store and recent users.
    ///
    /// Exits 3 when a chain is known dead: recorded lost, or its refresh token
    /// past the 15-day rule.
    Status {
        /// Every configured profile.
        #[arg(long, conflicts_with = "profile")]
        all: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Refresh the token now, whatever its expiry.
    Refresh {
        /// Print the outcome as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Delete the stored token of a profile.
    Logout,
    /// List the tenants an MSP profile (client credentials with the MSP's
    /// workspace_id) manages: tenant id, name, inventory ownership.
    Tenants {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Append a `grant = "token_exchange"` profile per tenant to the
        /// config (atomically, 0600, validated first; existing names skipped).
        #[arg(long, conflicts_with = "json")]
        write_profiles: bool,
    },
    /// List the configured profiles (and where the config file is).
    #[command(args_conflicts_with_subcommands = true)]
    Profiles {
        /// Machine-readable output (of the list; `import` prints lines).
        #[arg(long, conflicts_with = "names")]
        json: bool,
        /// Only the profile names, one per line (what shell completion reads;
        /// no secret is resolved, Central is not contacted).
        #[arg(long)]
        names: bool,
        /// Instead of listing: create profiles from another tool's config.
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
    /// Refresh profiles whose refresh token is older than a threshold, so the
    /// 15-day rule never removes one that is still needed (run it from a timer).
    Keepalive {
        /// Every configured profile.
        #[arg(long, conflicts_with = "profile")]
        all: bool,
        /// Refresh when the refresh token is at least this old.
        #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = parse_duration)]
        older_than: std::time::Duration,
        /// Machine-readable output: one object per profile.
        #[arg(long)]
        json: bool,
    },
    /// Check a profile end to end; one line per check, `ok` or the fix.
    Doctor {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Store a profile's client secret or password in the OS keyring (see
    /// keyring.md of the docs).
    Secret {
        /// What to do.
        #[command(subcommand)]
        action: SecretAction,
    },
    /// Manage where a profile's token is stored (see fleet.md of the docs).
    Store {
        /// What to do.
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Serve Central's API to you alone, with the current token added.
    ///
    /// Forwards every request to the profile's base URL with `Authorization:
    /// Bearer <token>` (replacing the client's), retries once with a refreshed
    /// token on 401 invalid_token, and keeps all clients within Central's calls
    /// per second (then 429 with Retry-After). Listens on loopback TCP or a Unix
    /// socket and serves only the user who started it (or root): another
    /// user's connection gets 403, and so does any request a web page could
    /// send (Origin, Sec-Fetch-Site, a Host other than 127.0.0.1, localhost or
    /// [::1]: 421). Prints `listening on URL` first (not with --exec); stops on
    /// SIGTERM or Ctrl-C. See proxy.md of the central-auth docs.
    Proxy(ProxyArgs),
    /// Run a command with the token and base URL in its environment.
    ///
    /// Sets CENTRAL_ACCESS_TOKEN, CENTRAL_BASE_URL, TF_VAR_central_access_token,
    /// TF_VAR_central_base_url, ARUBA_CENTRAL_ACCESS_TOKEN and ARUBA_CENTRAL_BASE_URL.
    /// The variables named by the profile's client_secret_env and password_env
    /// are removed. The token never appears in a command line. Exits with the command's code
    /// (128 + N when killed by signal N; 127 not found; 126 not runnable).
    Exec {
        /// The token must stay valid at least this long.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        min_valid: Option<std::time::Duration>,
        /// The command and its arguments.
        #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
        command: Vec<std::ffi::OsString>,
    },
    /// Run centralcli (cencli) on the chain, with no refresh token of its own.
    ///
    /// Writes cencli's token cache with the current access token and no refresh
    /// token, then runs `cencli ARGS`. The cache is `<cencli config dir>/.cache/tok_<customer_id>_<client_id>.json`
    /// (the profile's ids), replaced atomically, mode 0600. cencli's config must
    /// hold no client_secret and no password, so it can never refresh or log in
    /// by itself. Exits with cencli's code. See cencli.md of the central-auth docs.
    Cencli {
        /// cencli's config directory (default: ~/.config/centralcli, or
        /// ~/.centralcli when ~/.config does not exist, as cencli decides).
        #[arg(long, value_name = "DIR")]
        config_dir: Option<std::path::PathBuf>,
        /// The token must stay valid at least this long when cencli starts
        /// (default: 10m, or the profile's min_valid when larger).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        min_valid: Option<std::time::Duration>,
        /// The cencli program to run.
        #[arg(long, value_name = "PROGRAM", default_value = "cencli")]
        program: std::ffi::OsString,
        /// cencli's arguments (after `--` when one starts with `-`).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "ARGS"
        )]
        args: Vec<std::ffi::OsString>,
    },
    /// Print the shell completion script for SHELL on stdout.
    ///
    /// `cargo xtask install` installs them for bash, zsh and fish. By hand:
    /// bash to ~/.local/share/bash-completion/completions/central-auth, zsh
    /// to _central-auth in a directory on $fpath, fish to
    /// ~/.config/fish/completions/central-auth.fish. `-p/--profile` completes
    /// the configured profile names (from `central-auth profiles --names`).
    Completions {
        /// bash, zsh, fish, powershell or elvish.
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
}

/// `central-auth proxy` options.
#[derive(Debug, clap::Args)]
pub struct ProxyArgs {
    /// Loopback address to listen on: 127.0.0.1:PORT, localhost:PORT (the
    /// same) or [::1]:PORT (port 0 picks a free one; default 127.0.0.1:8470,
    /// or a free port with --exec).
    #[arg(long, value_name = "ADDR", conflicts_with = "unix_socket")]
    pub listen: Option<String>,
    /// Listen on a Unix socket at PATH instead (mode 0600; its directory
    /// must be yours and writable by nobody else).
    #[arg(long, value_name = "PATH")]
    pub unix_socket: Option<std::path::PathBuf>,
    /// Upstream calls per second across all clients (Central allows 7 per application).
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub rate: u32,
    /// Serve TCP without checking which local user connects (only on
    /// platforms where the proxy cannot ask the kernel; refused on Linux).
    #[arg(long)]
    pub allow_unchecked_tcp: bool,
    /// Run COMMAND with CENTRAL_BASE_URL (and TF_VAR_central_base_url,
    /// ARUBA_CENTRAL_BASE_URL) set to a proxy on a fresh port (or the
    /// --unix-socket, then also CENTRAL_AUTH_PROXY_SOCKET), stop when it
    /// exits, and exit with its code.
    #[arg(long, requires = "command")]
    pub exec: bool,
    /// The command for --exec and its arguments, after `--`.
    #[arg(last = true, value_name = "COMMAND", requires = "exec")]
    pub command: Vec<std::ffi::OsString>,
}

/// `central-auth secret` actions.
#[derive(Debug, Subcommand)]
pub enum SecretAction {
    /// Read the secret with a no-echo prompt (or one line of stdin when it is
    /// not a terminal), store it in the OS keyring item the profile's
    /// `NAME_keyring` names (default: service `central-auth`, account
    /// `PROFILE/NAME`), and point the profile at it, replacing its `NAME`,
    /// `NAME_env` or `NAME_cmd` line.
    Set {
        /// Which secret.
        #[arg(value_name = "NAME", value_parser = ["client_secret", "password"])]
        name: String,
    },
}

/// `central-auth store` actions.
#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Move a live chain between stores without a refresh. `--from file`: from
    /// the local file store into the profile's configured store (`store =
    /// "NAME"`). `--to keyring`: from the file store into the OS keyring,
    /// adding `[stores.keyring]` and `store = "keyring"` to the config.
    /// `--to file`: from the profile's store back into the file store,
    /// removing its `store` line. The source's copy is deleted only after the
    /// target holds the pair and the config points at it.
    #[command(group = clap::ArgGroup::new("direction").required(true))]
    Migrate {
        /// The store the chain is in now (only `file`).
        #[arg(long, value_name = "KIND", value_parser = ["file"], group = "direction")]
        from: Option<String>,
        /// The store to move the chain into (`keyring` or `file`).
        #[arg(long, value_name = "KIND", value_parser = ["keyring", "file"], group = "direction")]
        to: Option<String>,
    },
}

/// `central-auth profiles` actions.
#[derive(Debug, Subcommand)]
pub enum ProfilesAction {
    /// Create profiles from another tool's config (cencli's `config.yaml`):
    /// one profile per workspace with a classic API client. Existing profiles
    /// are never changed. Literal secrets are copied only with a stderr line
    /// each (see cencli.md of the central-auth docs).
    Import {
        /// The tool whose config it is.
        #[arg(long, value_name = "TOOL", value_enum)]
        from: ProfilesFrom,
        /// Never copy a literal secret: write `client_secret_env` naming a
        /// variable to set instead.
        #[arg(long)]
        no_secrets: bool,
        /// The tool's config file, e.g. ~/.config/centralcli/config.yaml.
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

/// The tools whose config files `profiles import --from` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProfilesFrom {
    /// centralcli (cencli) 10's `config.yaml` (`workspaces:`).
    Cencli,
}

/// The tools whose token files `import --from` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFrom {
    /// pycentral 1.4.3's `temp/tok_<customer_id>_<client_id>.json`.
    Pycentral,
    /// centralcli (cencli) 10's `<config dir>/.cache/tok_<customer_id>_<client_id>.json`.
    Cencli,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_token_is_what_clap_builds() {
        central_auth_cli_common::quick::assert_agrees_with_clap(
            Cli::quick,
            &[
                &["central-auth", "token"],
                &["central-auth", "-p", "prod", "token"],
                &["central-auth", "token", "--profile", "prod"],
                &["central-auth", "--profile=prod", "token"],
            ],
            &[
                &["central-auth", "status"],
                &["central-auth", "token", "-v"],
                &["central-auth", "token", "--min-valid", "5m"],
                &["central-auth", "token", "extra"],
                &["central-auth", "-p", "token", "token"],
            ],
        );
        assert!(Cli::quick(&["status".into()]).is_none());
        assert!(Cli::quick(&["token".into(), "x".into()]).is_none());
    }
}
