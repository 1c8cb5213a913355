//! `central-auth`: the command-line front end of the token broker.
//!
//! This binary owns stdout and stderr; the core never prints. `token` prints only
//! the token and a newline on stdout. Errors are one line on stderr starting
//! `central-auth: `, and the exit codes are shared by every central-auth binary
//! (see `--help`). `main` parses the command line and [`run`] hands each
//! subcommand to its module under `commands/`.

mod cencli_config;
mod commands;
mod config_edit;
mod exec;
mod open;
mod output;
mod password;
mod profiles_import;
#[cfg(unix)]
mod proxy;
mod tenant_profiles;
mod view;

use std::process::ExitCode;

use central_auth::cli::{Cli, Command, ProfilesAction, ProfilesFrom};
use central_auth_cli_common::Failure;

use commands::{
    cencli, completions, doctor, import, keepalive, login, logout, profiles, secret, status, store,
    tenants, token,
};

fn main() -> ExitCode {
    central_auth_core::process::harden();
    central_auth_vault::register();
    central_auth_keyring::register();
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let cli = match Cli::quick(&args).map_or_else(Cli::try_parse_args, Ok) {
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
            output::usage_error(&e.to_string(), &help_command(&args));
            return ExitCode::from(central_auth_core::ExitCode::Usage as u8);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(failure) => central_auth_cli_common::fail(output::NAME, &failure),
    }
}

/// `central-auth SUBCOMMAND...` of a command line, whose `--help` a usage
/// error points to: the subcommand words (after skipping options and the
/// value of `-p`/`--profile`) that name a subcommand.
fn help_command(args: &[std::ffi::OsString]) -> String {
    let mut cmd = Cli::command();
    let mut out = output::NAME.to_owned();
    let mut words = args.iter().filter_map(|a| a.to_str());
    while let Some(w) = words.next() {
        if w == "-p" || w == "--profile" {
            words.next();
            continue;
        }
        if w == "--" {
            break;
        }
        if w.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(w) {
            Some(sub) => {
                out.push(' ');
                out.push_str(w);
                cmd = sub.clone();
            }
            None => break,
        }
    }
    out
}

/// Opens the broker the command needs and hands the command to its module.
fn run(cli: Cli) -> Result<ExitCode, Failure> {
    if let Command::Completions { shell } = cli.command {
        return completions::run(shell);
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
    let verbose = cli.common.verbose;
    let one_profile = matches!(cli.command, Command::Token { .. } | Command::Exec { .. });
    let broker = open::open_broker(verbose, client, one_profile.then_some(explicit))?;
    let b = &broker;
    match cli.command {
        Command::Completions { shell } => completions::run(shell),
        Command::Import {
            force,
            verify,
            from,
            file,
            json,
        } => import::run(
            b,
            explicit,
            &import::Args {
                force,
                from,
                file,
                json,
                verify,
            },
        ),
        Command::Login {
            password_stdin,
            json,
        } => login::login(b, explicit, password_stdin, json),
        Command::Token { min_valid } => token::token(b, explicit, min_valid),
        Command::Status { all, json } => status::run(b, explicit, all, json),
        Command::Refresh { json } => login::refresh(b, explicit, json),
        Command::Logout => logout::run(b, explicit),
        Command::Profiles {
            action:
                Some(ProfilesAction::Import {
                    from: ProfilesFrom::Cencli,
                    no_secrets,
                    file,
                }),
            ..
        } => profiles::import_cencli(b, &file, no_secrets),
        Command::Profiles {
            json,
            names,
            action: None,
        } => profiles::list(b, json, names),
        Command::Keepalive {
            all,
            older_than,
            json,
        } => keepalive::run(b, explicit, all, older_than, json),
        Command::Doctor { json } => doctor::run(b, explicit, json),
        Command::Tenants {
            json,
            write_profiles,
        } => tenants::run(b, explicit, json, write_profiles),
        Command::Store { action } => store::run(b, explicit, action),
        Command::Secret { action } => secret::run(b, explicit, action),
        Command::Proxy(args) => commands::proxy(b, explicit, &args, verbose),
        Command::Cencli {
            config_dir,
            min_valid,
            program,
            args,
        } => cencli::run(
            b,
            explicit,
            &cencli::Args {
                config_dir,
                min_valid,
                program: &program,
                args: &args,
            },
        ),
        Command::Exec { min_valid, command } => token::exec(b, explicit, min_valid, &command),
    }
}
