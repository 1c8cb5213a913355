//! `central-auth`: the command-line front end of the token broker.
//!
//! This binary owns stdout and stderr; the core never prints. `token` prints only
//! the token and a newline on stdout. Errors are one line on stderr starting
//! `central-auth: `, and the exit codes are shared by every central-auth binary
//! (see `--help`).

mod cencli;
mod cencli_config;
mod exec;
mod migrate;
mod password;
mod profiles_import;
#[cfg(unix)]
mod proxy;
mod store_cmd;
mod view;

use std::io::{Read, Write};
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use central_auth_core::broker::ImportOutcome;
use central_auth_core::secret::ExposeSecret;
use central_auth_core::{Broker, Error};

use central_auth::cli::{Cli, Command, ProfilesAction, ProfilesFrom};

fn main() -> ExitCode {
    central_auth_core::process::harden();
    central_auth_vault::register();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let cli = match Cli::quick(&args).map_or_else(Cli::try_parse, Ok) {
        Ok(cli) => cli,
        // --help, --version and a bare `central-auth` print clap's text.
        Err(e)
            if !e.use_stderr()
                || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            // A bad command line is one line, as every other error.
            usage_error(&e.to_string());
            return ExitCode::from(central_auth_core::ExitCode::Usage as u8);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Prints clap's error as one line: `central-auth: <first line>; see `central-auth --help``.
#[allow(clippy::print_stderr)]
fn usage_error(rendered: &str) {
    eprintln!(
        "{}",
        central_auth_core::adapter::usage_line("central-auth", rendered, "")
    );
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

/// Opens the broker; with `for_profile` (the hot one-profile commands) only that
/// profile's part of the config is read (`Broker::open_for`).
pub(crate) fn open_broker(
    verbose: bool,
    client: &str,
    for_profile: Option<Option<&str>>,
) -> Result<Broker, Error> {
    let broker = match for_profile {
        Some(explicit) => Broker::from_env_for(explicit)?,
        None => Broker::from_env()?,
    }
    .with_client(client);
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
    if let Command::Completions { shell } = cli.command {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "central-auth", &mut out);
        print_stdout(&String::from_utf8_lossy(&out))?;
        return Ok(ExitCode::SUCCESS);
    }
    // `status` shows which tools use a profile: `exec` wraps other programs
    // (Terraform, scripts), so it is recorded apart from direct `token` calls.
    let client = match cli.command {
        Command::Exec { .. } => "exec",
        Command::Cencli { .. } => "cencli",
        Command::Proxy(_) => "proxy",
        _ => "cli",
    };
    let explicit = cli.common.profile.as_deref();
    let one_profile = matches!(cli.command, Command::Token { .. } | Command::Exec { .. });
    let broker = open_broker(cli.common.verbose, client, one_profile.then_some(explicit))?;
    match cli.command {
        Command::Completions { .. } => {}
        Command::Import {
            force,
            from,
            file,
            json,
        } => {
            let (profile, label) = chosen(&broker, explicit)?;
            if let Some(from) = from {
                let line = migrate::import(&broker, profile, from, file.as_ref(), force)?;
                say(&line)?;
                return Ok(ExitCode::SUCCESS);
            }
            let text = read_input(&file)?;
            let outcome = broker.import(profile, &text, force)?;
            let (key, note) = match outcome {
                ImportOutcome::Stored { replaced: false } => ("stored", "stored"),
                ImportOutcome::Stored { replaced: true } => {
                    ("replaced", "stored, replacing the previous token")
                }
                ImportOutcome::AlreadyStored => ("unchanged", "already stored; nothing changed"),
            };
            if json {
                print_stdout(&view::json(&serde_json::json!({
                    "profile": profile.name.as_str(),
                    "outcome": key,
                })))?;
            } else {
                say(&format!("central-auth: {label}: token {note}"))?;
            }
        }
        Command::Login {
            password_stdin,
            json,
        } => {
            let (profile, label) = chosen(&broker, explicit)?;
            let password = match password::obtain(profile, password_stdin)? {
                password::Password::Given(p) => Some(p),
                password::Password::FromProfile => None,
                password::Password::Cancelled => {
                    say("central-auth: login cancelled at the password prompt; nothing changed")?;
                    return Ok(ExitCode::from(130));
                }
            };
            let t = broker.login(profile, password)?;
            renewed(&label, profile, "logged in", "login", &t, json)?;
        }
        Command::Token { min_valid } => {
            let (profile, _) = chosen(&broker, explicit)?;
            let t = broker.token(profile, min_valid)?;
            note_min_valid(min_valid.is_some(), &t)?;
            print_stdout(&format!("{}\n", t.token.expose_secret()))?;
        }
        Command::Status { all, json } => {
            let statuses: Vec<central_auth_core::status::ProfileStatus> = if all {
                broker
                    .config()
                    .profiles
                    .values()
                    .map(|p| broker.status(p))
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                vec![broker.status(broker.profile(explicit)?)?]
            };
            let text = if json {
                view::status_json(&statuses, all)
            } else if all {
                view::status_text(&statuses)
            } else {
                let source = view::profile_source(&broker, explicit);
                view::with_source(view::status_text(&statuses), source)
            };
            print_stdout(&text)?;
            if statuses.iter().any(|s| s.chain_lost()) {
                // Scripts and timers notice a dead chain without parsing.
                return Ok(ExitCode::from(
                    central_auth_core::ExitCode::NeedsLogin as u8,
                ));
            }
        }
        Command::Refresh { json } => {
            let (profile, label) = chosen(&broker, explicit)?;
            let t = broker.force_refresh(profile)?;
            renewed(&label, profile, "refreshed", "refresh", &t, json)?;
        }
        Command::Logout => {
            let (profile, label) = chosen(&broker, explicit)?;
            let note = if broker.logout(profile)? {
                "stored token deleted"
            } else {
                "no token was stored"
            };
            say(&format!("central-auth: {label}: {note}"))?;
        }
        Command::Profiles {
            action:
                Some(ProfilesAction::Import {
                    from: ProfilesFrom::Cencli,
                    no_secrets,
                    file,
                }),
            ..
        } => {
            let report = profiles_import::import(&broker.home().config_file, &file, no_secrets)?;
            for line in report.lines {
                say(&line)?;
            }
        }
        Command::Profiles { json, action: None } => {
            let text = if json {
                view::profiles_json(broker.config())
            } else {
                view::profiles(broker.config())
            };
            print_stdout(&text)?;
        }
        Command::Keepalive {
            all,
            older_than,
            json,
        } => return keepalive(&broker, explicit, all, older_than, json),
        Command::Doctor { json } => {
            let (profile, _) = chosen(&broker, explicit)?;
            let checks = central_auth_core::doctor::run(&broker, profile);
            let text = if json {
                view::doctor_json(profile.name.as_str(), &checks)
            } else {
                view::doctor(profile.name.as_str(), &checks)
            };
            print_stdout(&text)?;
            let failed = checks
                .iter()
                .any(|c| c.verdict == central_auth_core::doctor::Verdict::Fail);
            return Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            });
        }
        Command::Store { action } => return store_cmd::run(&broker, explicit, action),
        Command::Proxy(args) => {
            let (profile, _) = chosen(&broker, explicit)?;
            #[cfg(unix)]
            return proxy::run(profile, &broker.home().state_dir, &args, cli.common.verbose);
            #[cfg(not(unix))]
            {
                let _ = (profile, args);
                return Err(Error::bad_input(
                    "proxy is not supported on this platform (it needs Unix sockets and the kernel's word on who connects)",
                ));
            }
        }
        Command::Cencli {
            config_dir,
            min_valid,
            program,
            args,
        } => {
            let (profile, _) = chosen(&broker, explicit)?;
            let a = cencli::Args {
                config_dir,
                min_valid,
                program: &program,
                args: &args,
            };
            return cencli::run(&broker, profile, &a);
        }
        Command::Exec { min_valid, command } => {
            let (profile, _) = chosen(&broker, explicit)?;
            let t = broker.token(profile, min_valid)?;
            note_min_valid(min_valid.is_some(), &t)?;
            return exec::run("exec", &command, profile, &t);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The profile to use and its label `profile NAME (from SOURCE)`.
fn chosen<'b>(
    broker: &'b Broker,
    explicit: Option<&str>,
) -> Result<(&'b central_auth_core::Profile, String), Error> {
    let p = broker.profile(explicit)?;
    Ok((p, view::profile_label(broker, p, explicit)))
}

/// Reports a new token from `login` or `refresh`: a line on stderr, or with
/// `json` the object `{profile, action, expires_at}` on stdout.
fn renewed(
    label: &str,
    profile: &central_auth_core::Profile,
    done: &str,
    action: &str,
    t: &central_auth_core::broker::AccessToken,
    json: bool,
) -> Result<(), Error> {
    let expires_at = central_auth_core::status::rfc3339(t.expires_at);
    if json {
        print_stdout(&view::json(&serde_json::json!({
            "profile": profile.name.as_str(),
            "action": action,
            "expires_at": expires_at,
        })))
    } else {
        say(&format!(
            "central-auth: {label}: {done}; token valid until {expires_at}"
        ))
    }
}

/// Runs keepalive over the chosen profiles; one line (or with `json` one object
/// in an array) per profile on stdout. The exit code is the first failure's,
/// after every profile was tried.
fn keepalive(
    broker: &Broker,
    explicit: Option<&str>,
    all: bool,
    older_than: std::time::Duration,
    json: bool,
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
    let mut objects = Vec::new();
    for p in profiles {
        let (outcome, age, error) = match broker.keepalive(p, older_than) {
            Ok(KeepaliveOutcome::Refreshed { age }) => {
                let line = format!(
                    "{}: refreshed (refresh token was {} old)",
                    p.name,
                    format(age)
                );
                lines.push_str(&line);
                ("refreshed", Some(age), None)
            }
            Ok(KeepaliveOutcome::Fresh { age }) => {
                lines.push_str(&format!(
                    "{}: ok (refresh token {} old, threshold {})",
                    p.name,
                    format(age),
                    format(older_than)
                ));
                ("fresh", Some(age), None)
            }
            Ok(KeepaliveOutcome::NotApplicable) => {
                lines.push_str(&format!(
                    "{}: skipped (client credentials have no refresh token)",
                    p.name
                ));
                ("skipped", None, None)
            }
            Err(e) => {
                report(&e);
                lines.push_str(&format!("{}: FAILED", p.name));
                first_error.get_or_insert(e.exit_code() as u8);
                ("failed", None, Some(e.to_string()))
            }
        };
        lines.push('\n');
        objects.push(serde_json::json!({
            "profile": p.name.as_str(),
            "outcome": outcome,
            "refresh_token_age_seconds": age.map(|a| a.as_secs()),
            "threshold_seconds": older_than.as_secs(),
            "error": error,
        }));
    }
    if json {
        print_stdout(&view::json(&serde_json::Value::Array(objects)))?;
    } else {
        print_stdout(&lines)?;
    }
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
pub(crate) fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::unavailable(format!("cannot write to stdout: {e}"))),
    }
}

/// Confirmation messages go to stderr, so stdout stays clean for scripts.
#[allow(clippy::print_stderr)]
pub(crate) fn say(line: &str) -> Result<(), Error> {
    eprintln!("{line}");
    Ok(())
}
