//! `central-sim` binary: runs the Central simulator until killed.
//!
//! Prints `central-sim listening on http://127.0.0.1:PORT` as its first
//! stdout line, then a banner for a newcomer: the credentials, a ready
//! `config.toml` for central-auth and the `curl` that mints a Download Token
//! file (see docs/simulator.md). A non-loopback `--listen` address is refused
//! (exit 2).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use central_sim::{Sim, SimConfig};
use clap::Parser;

/// Local simulator of the HPE Aruba Networking Central API gateway.
#[derive(Debug, Parser)]
#[command(name = "central-sim", version, about)]
struct Args {
    /// Listen address (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// Classic API client id.
    #[arg(long)]
    client_id: Option<String>,
    /// Classic API client secret.
    #[arg(long)]
    client_secret: Option<String>,
    /// Customer id.
    #[arg(long)]
    customer_id: Option<String>,
    /// Central user name.
    #[arg(long)]
    username: Option<String>,
    /// Central password.
    #[arg(long)]
    password: Option<String>,
    /// Access-token lifetime in seconds.
    #[arg(long)]
    access_ttl: Option<u64>,
    /// Refresh-token idle lifetime in seconds.
    #[arg(long)]
    refresh_ttl: Option<u64>,
    /// Client-credentials client id (default: --client-id).
    #[arg(long)]
    gl_client_id: Option<String>,
    /// Client-credentials client secret (default: --client-secret).
    #[arg(long)]
    gl_client_secret: Option<String>,
    /// Client-credentials token lifetime in seconds.
    #[arg(long)]
    gl_ttl: Option<u64>,
    /// Lifetime in seconds of GLP-scoped tokens: those of a workspace issuer
    /// (`/authorization/v2/oauth2/<id>/token`) and exchanged tenant tokens
    /// (default 899, GreenLake's 15 minutes).
    #[arg(long)]
    glp_token_ttl: Option<u64>,
    /// Requests allowed per second.
    #[arg(long)]
    rate_limit_second: Option<u32>,
    /// Requests allowed per day.
    #[arg(long)]
    rate_limit_day: Option<u32>,
    /// Status for a failed login.
    #[arg(long)]
    login_failure_status: Option<u16>,
    /// Whether /oauth2/* and token calls count against the app's rate limits.
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    rate_limit_oauth: bool,
}

impl Args {
    fn into_config(self) -> SimConfig {
        let d = SimConfig::default();
        let client_id = self.client_id.unwrap_or(d.client_id);
        let client_secret = self.client_secret.unwrap_or(d.client_secret);
        SimConfig {
            listen: self.listen,
            gl_client_id: self.gl_client_id.unwrap_or_else(|| client_id.clone()),
            gl_client_secret: self
                .gl_client_secret
                .unwrap_or_else(|| client_secret.clone()),
            client_id,
            client_secret,
            customer_id: self.customer_id.unwrap_or(d.customer_id),
            username: self.username.unwrap_or(d.username),
            password: self.password.unwrap_or(d.password),
            access_ttl: self.access_ttl.map_or(d.access_ttl, Duration::from_secs),
            refresh_ttl: self.refresh_ttl.map_or(d.refresh_ttl, Duration::from_secs),
            gl_ttl: self.gl_ttl.map_or(d.gl_ttl, Duration::from_secs),
            glp_ttl: self.glp_token_ttl.map_or(d.glp_ttl, Duration::from_secs),
            rate_limit_second: self.rate_limit_second.unwrap_or(d.rate_limit_second),
            rate_limit_day: self.rate_limit_day.unwrap_or(d.rate_limit_day),
            login_failure_status: self.login_failure_status.unwrap_or(d.login_failure_status),
            rate_limit_oauth: self.rate_limit_oauth,
        }
    }
}

/// What a newcomer needs after the first line: credentials, a config.toml to
/// paste and the Download Token `curl`. Plain text; tools read only line one.
fn banner(url: &str, cfg: &SimConfig) -> String {
    format!(
        "
Credentials (classic API client and Central user):
  client_id      {client_id}
  client_secret  {client_secret}
  customer_id    {customer_id}
  username       {username}
  password       {password}

central-auth config (~/.config/central-auth/config.toml, or $CENTRAL_AUTH_HOME/config.toml):

default_profile = \"prod\"

[profiles.prod]
base_url = \"{url}\"
client_id = \"{client_id}\"
client_secret_cmd = \"echo {client_secret}\"
customer_id = \"{customer_id}\"
username = \"{username}\"
password_cmd = \"echo {password}\"

A Download Token file, as the Web UI's \"Download Token\" button gives:
  curl -s -X POST {url}/_sim/download-token > token.json
  central-auth import token.json

Flags: `central-sim --help`; control endpoints and faults: simulator.md of the
central-auth docs (share/doc/central-auth/). Stop with Ctrl-C.
",
        client_id = cfg.client_id,
        client_secret = cfg.client_secret,
        customer_id = cfg.customer_id,
        username = cfg.username,
        password = cfg.password,
    )
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> ExitCode {
    let cfg = Args::parse().into_config();
    let shown = cfg.clone();
    if let Err(e) = central_sim::check_loopback(&cfg.listen) {
        eprintln!("central-sim: {e}");
        return ExitCode::from(2);
    }
    let sim = match Sim::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("central-sim: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "central-sim listening on {}", sim.url());
    let _ = write!(out, "{}", banner(&sim.url(), &shown));
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}
