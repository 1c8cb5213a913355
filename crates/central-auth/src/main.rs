//! `central-auth`: the command-line front end of the token broker.
//!
//! This binary owns stdout and stderr; the core never prints. `token` prints only
//! the token and a newline on stdout. Errors are one line on stderr starting
//! `central-auth: `, and the exit codes are shared by every central-auth binary
//! (see `--help`).

mod cli;
mod exec;
mod password;
mod view;

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;

use central_auth_core::broker::ImportOutcome;
use central_auth_core::secret::ExposeSecret;
use central_auth_core::{Broker, Error};

use cli::{Cli, Command};

fn main() -> ExitCode {
    central_auth_core::process::harden();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Prints an error as `central-auth: message` on stderr.
#[allow(clippy::print_stderr)]
pub(crate) fn report(e: &Error) {
    eprintln!(
        "{}",
        central_auth_core::adapter::error_line("central-auth", e)
    );
}

#[allow(clippy::print_stderr)]
fn verbose_log(line: &str) {
    eprintln!(
        "{}",
        central_auth_core::adapter::error_line("central-auth", &line)
    );
}

fn open_broker(verbose: bool, client: &str) -> Result<Broker, Error> {
    let broker = Broker::from_env()?.with_client(client);
    if let Some(w) = central_auth_core::strict::exposure_warning(broker.home(), broker.config()) {
        verbose_log(&w);
    }
    Ok(if verbose {
        broker.with_log(verbose_log)
    } else {
        broker
    })
}

fn run(cli: Cli) -> Result<ExitCode, Error> {
    // `status` shows which tools use a profile: `exec` wraps other programs
    // (Terraform, scripts), so it is recorded apart from direct `token` calls.
    let client = match cli.command {
        Command::Exec { .. } => "exec",
        _ => "cli",
    };
    let broker = open_broker(cli.verbose, client)?;
    match cli.command {
        Command::Import {
            profile,
            force,
            file,
        } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let text = read_input(&file)?;
            let outcome = broker.import(profile, &text, force)?;
            let note = match outcome {
                ImportOutcome::Stored { replaced: false } => "stored",
                ImportOutcome::Stored { replaced: true } => "stored, replacing the previous token",
                ImportOutcome::AlreadyStored => "already stored; nothing changed",
            };
            say(&format!(
                "central-auth: profile {}: token {note}",
                profile.name
            ))?;
        }
        Command::Login {
            profile,
            password_stdin,
        } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let password = match password::obtain(profile, password_stdin)? {
                password::Password::Given(p) => Some(p),
                password::Password::FromProfile => None,
                password::Password::Cancelled => {
                    say("central-auth: login cancelled at the password prompt; nothing changed")?;
                    return Ok(ExitCode::from(130));
                }
            };
            let t = broker.login(profile, password)?;
            say(&format!(
                "central-auth: profile {}: logged in; token valid until {}",
                profile.name,
                central_auth_core::status::rfc3339(t.expires_at)
            ))?;
        }
        Command::Token { profile, min_valid } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let t = broker.token(profile, min_valid)?;
            note_min_valid(min_valid.is_some(), &t)?;
            print_stdout(&format!("{}\n", t.token.expose_secret()))?;
        }
        Command::Status { profile, all, json } => {
            let statuses: Vec<central_auth_core::status::ProfileStatus> = if all {
                broker
                    .config()
                    .profiles
                    .values()
                    .map(|p| broker.status(p))
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                vec![broker.status(broker.profile(profile.profile.as_deref())?)?]
            };
            let text = if json {
                view::status_json(&statuses, all)
            } else {
                view::status_text(&statuses)
            };
            print_stdout(&text)?;
            if statuses.iter().any(|s| s.chain_lost()) {
                // Scripts and timers notice a dead chain without parsing.
                return Ok(ExitCode::from(
                    central_auth_core::ExitCode::NeedsLogin as u8,
                ));
            }
        }
        Command::Refresh { profile } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let t = broker.force_refresh(profile)?;
            say(&format!(
                "central-auth: profile {}: refreshed; token valid until {}",
                profile.name,
                central_auth_core::status::rfc3339(t.expires_at)
            ))?;
        }
        Command::Logout { profile } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let note = if broker.logout(profile)? {
                "stored token deleted"
            } else {
                "no token was stored"
            };
            say(&format!("central-auth: profile {}: {note}", profile.name))?;
        }
        Command::Profiles => print_stdout(&view::profiles(broker.config()))?,
        Command::Keepalive {
            profile,
            all,
            older_than,
        } => return keepalive(&broker, profile.profile.as_deref(), all, older_than),
        Command::Doctor { profile } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let checks = central_auth_core::doctor::run(&broker, profile);
            print_stdout(&view::doctor(&profile.name.to_string(), &checks))?;
            let failed = checks
                .iter()
                .any(|c| c.verdict == central_auth_core::doctor::Verdict::Fail);
            return Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        Command::Exec {
            profile,
            min_valid,
            command,
        } => {
            let profile = broker.profile(profile.profile.as_deref())?;
            let t = broker.token(profile, min_valid)?;
            note_min_valid(min_valid.is_some(), &t)?;
            return exec::run(&command, profile, &t);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs keepalive over the chosen profiles; one line per profile on stdout. The
/// exit code is the first failure's, after every profile was tried.
fn keepalive(
    broker: &Broker,
    explicit: Option<&str>,
    all: bool,
    older_than: std::time::Duration,
) -> Result<ExitCode, Error> {
    use central_auth_core::broker::KeepaliveOutcome;
    use central_auth_core::duration::format;
    let profiles: Vec<_> = if all {
        broker.config().profiles.values().collect()
    } else {
        vec![broker.profile(explicit)?]
    };
    let mut first_error = None;
    let mut lines = String::new();
    for p in profiles {
        let line = match broker.keepalive(p, older_than) {
            Ok(KeepaliveOutcome::Refreshed { age }) => {
                format!(
                    "{}: refreshed (refresh token was {} old)",
                    p.name,
                    format(age)
                )
            }
            Ok(KeepaliveOutcome::Fresh { age }) => format!(
                "{}: ok (refresh token {} old, threshold {})",
                p.name,
                format(age),
                format(older_than)
            ),
            Ok(KeepaliveOutcome::NotApplicable) => {
                format!(
                    "{}: skipped (client credentials have no refresh token)",
                    p.name
                )
            }
            Err(e) => {
                report(&e);
                let line = format!("{}: FAILED", p.name);
                first_error.get_or_insert(e.exit_code() as u8);
                line
            }
        };
        lines.push_str(&line);
        lines.push('\n');
    }
    print_stdout(&lines)?;
    Ok(first_error.map_or(ExitCode::SUCCESS, ExitCode::from))
}

/// Says in one stderr line when an explicit `--min-valid` cannot be met.
fn note_min_valid(explicit: bool, t: &central_auth_core::AccessToken) -> Result<(), Error> {
    if explicit && t.effective_min_valid < t.min_valid {
        use central_auth_core::duration::format;
        say(&format!(
            "central-auth: --min-valid {} cannot be met: this token lives {}; using {} (half its lifetime)",
            format(t.min_valid),
            format(t.effective_min_valid * 2),
            format(t.effective_min_valid)
        ))?;
    }
    Ok(())
}

/// Reads a file, or stdin for `-`.
fn read_input(file: &str) -> Result<String, Error> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::bad_input(format!("cannot read stdin: {e}")))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| {
            Error::bad_input(format!(
                "cannot read {file}: {e}; pass the path of the JSON downloaded from the Central Web UI, or - for stdin"
            ))
        })?;
    }
    Ok(text)
}

/// Writes to stdout; a closed pipe is not an error worth reporting.
fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::unavailable(format!("cannot write to stdout: {e}"))),
    }
}

/// Confirmation messages go to stderr, so stdout stays clean for scripts.
#[allow(clippy::print_stderr)]
fn say(line: &str) -> Result<(), Error> {
    eprintln!("{line}");
    Ok(())
}
