//! Shell completion in real shells (issue 23): bash through bash-completion
//! with `COMP_WORDS` as readline sets them, fish through `complete -C`, zsh
//! through a terminal (tmux) where TAB is typed. Every flag of a subcommand
//! completes (the bash script had clap-rs/clap#6421: nothing did), and
//! `-p`/`--profile` offers the configured profile names, not file names.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use central_auth_e2e::*;

/// A home with profiles `prod` and `lab-2` and the completion script of
/// `shell` written to `dir/file`; returns the script's path.
fn setup(home: &TestHome, shell: &str, file: &str) -> PathBuf {
    home.write_config(&[
        ProfileOpts {
            name: "prod".into(),
            ..ProfileOpts::default()
        },
        ProfileOpts {
            name: "lab-2".into(),
            ..ProfileOpts::default()
        },
    ]);
    let out = home.cli(&["completions", shell]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dir = home.path().join("completions");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// PATH with the built binaries first.
fn path_with_bins() -> String {
    format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn shell_cmd(home: &TestHome, program: &Path) -> Command {
    let mut c = Command::new(program);
    home.apply_env(&mut c);
    c.env("PATH", path_with_bins());
    c
}

/// The words bash offers for `line` (split into words; the last one is the
/// word being completed), through the function `complete -p` registered.
fn bash_offers(home: &TestHome, bash: &Path, script: &Path, line: &[&str]) -> Vec<String> {
    let words = line
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        r#"source /usr/share/bash-completion/bash_completion || exit 9
source '{}' || exit 8
spec=$(complete -p central-auth) || exit 7
func=${{spec#*-F }}; func=${{func%% *}}
COMP_WORDS=({words})
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="${{COMP_WORDS[*]}}"; COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
"$func" central-auth "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        script.display()
    );
    let out = shell_cmd(home, bash)
        .args(["--norc", "--noprofile", "-c", &program])
        .current_dir(home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "bash: {}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn bash_completion_installed() -> Option<PathBuf> {
    let bash = require_tool("bash", &on_path("bash"))?;
    require_tool(
        "bash-completion (Debian package bash-completion)",
        &[PathBuf::from("/usr/share/bash-completion/bash_completion")],
    )?;
    Some(bash)
}

#[test]
fn bash_completes_every_flag_and_the_profile_names() {
    let Some(bash) = bash_completion_installed() else {
        return;
    };
    let home = TestHome::new();
    let script = setup(&home, "bash", "central-auth");
    // A file that must not be offered for -p.
    std::fs::write(home.path().join("lab-notes.txt"), "x").unwrap();

    let offers = bash_offers(&home, &bash, &script, &["central-auth", "token", "--"]);
    for flag in ["--min-valid", "--profile", "--verbose", "--help"] {
        assert!(offers.contains(&flag.to_owned()), "{flag}: {offers:?}");
    }
    let offers = bash_offers(&home, &bash, &script, &["central-auth", "status", "--j"]);
    assert_eq!(offers, ["--json"]);
    let offers = bash_offers(&home, &bash, &script, &["central-auth", "-p", ""]);
    assert_eq!(offers, ["lab-2", "prod"], "profile names, not files");
    let offers = bash_offers(
        &home,
        &bash,
        &script,
        &["central-auth", "token", "--profile", "l"],
    );
    assert_eq!(offers, ["lab-2"]);
    let offers = bash_offers(&home, &bash, &script, &["central-auth", "st"]);
    assert_eq!(offers, ["status", "store"]);
    // Listing the names read the config only: Central never heard of it.
    assert_eq!(home.sim.counters().requests, 0);
}

#[test]
fn completions_help_lists_no_flag_that_does_nothing_there() {
    let home = TestHome::new();
    let out = home.cli(&["completions", "--help"]);
    let help = text(&out.stdout);
    assert!(out.status.success() && help.contains("<SHELL>"), "{help}");
    let options = help.split("Options:").nth(1).expect("an Options section");
    for dead in ["--profile", "--verbose", "-p,", "-v,"] {
        assert!(!options.contains(dead), "{dead} in:\n{help}");
    }
    // Where they do something, they are listed.
    let help = text(&home.cli(&["token", "--help"]).stdout);
    assert!(
        help.contains("--profile") && help.contains("--verbose"),
        "{help}"
    );
}

#[test]
fn fish_completes_every_flag_and_the_profile_names() {
    let Some(fish) = require_tool("fish (Debian package fish)", &on_path("fish")) else {
        return;
    };
    let home = TestHome::new();
    let script = setup(&home, "fish", "central-auth.fish");
    let offers = |line: &str| -> Vec<String> {
        let program = format!("source '{}'; complete -C '{line}'", script.display());
        let out = shell_cmd(&home, &fish)
            .args(["--no-config", "-c", &program])
            .current_dir(home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "fish: {}", text(&out.stderr));
        // `word<TAB>description` lines.
        text(&out.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or("").to_owned())
            .collect()
    };
    let flags = offers("central-auth token --");
    for flag in ["--min-valid", "--profile", "--help"] {
        assert!(flags.contains(&flag.to_owned()), "{flag}: {flags:?}");
    }
    assert_eq!(offers("central-auth token -p "), ["lab-2", "prod"]);
    assert_eq!(offers("central-auth --profile p"), ["prod"]);
}

#[test]
fn zsh_completes_every_flag_and_the_profile_names_when_tab_is_typed() {
    let Some(zsh) = require_tool("zsh (Debian package zsh)", &on_path("zsh")) else {
        return;
    };
    let Some(tmux) = require_tool("tmux (Debian package tmux)", &on_path("tmux")) else {
        return;
    };
    let home = TestHome::new();
    let script = setup(&home, "zsh", "_central-auth");
    let fpath = script.parent().unwrap();
    std::fs::write(
        home.path().join(".zshrc"),
        format!(
            "fpath=('{}' $fpath)\nautoload -Uz compinit && compinit -u -d '{}/.zcompdump'\nPS1='ready> '\n",
            fpath.display(),
            home.path().display()
        ),
    )
    .unwrap();
    let socket = home.path().join("tmux.sock");
    let tmux_cmd = |args: &[&str]| {
        let mut c = Command::new(&tmux);
        home.apply_env(&mut c);
        c.env("PATH", path_with_bins())
            .env("ZDOTDIR", home.path())
            .env("TERM", "xterm")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .current_dir(home.path())
            .output()
            .unwrap()
    };
    let out = tmux_cmd(&[
        "new-session",
        "-d",
        "-x",
        "160",
        "-y",
        "40",
        &zsh.display().to_string(),
    ]);
    assert!(out.status.success(), "tmux: {}", text(&out.stderr));
    let screen_with = |needles: &[&str]| -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = text(&tmux_cmd(&["capture-pane", "-p"]).stdout);
            if needles.iter().all(|n| screen.contains(n)) || Instant::now() > deadline {
                return screen;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    screen_with(&["ready>"]);
    tmux_cmd(&["send-keys", "central-auth token --", "Tab"]);
    let screen = screen_with(&["--min-valid", "--profile"]);
    let typed = tmux_cmd(&["send-keys", "C-u"]);
    assert!(typed.status.success());
    tmux_cmd(&["send-keys", "central-auth status -p ", "Tab"]);
    let names = screen_with(&["lab-2", "prod"]);
    let _ = tmux_cmd(&["kill-server"]);
    assert!(
        screen.contains("--min-valid") && screen.contains("--profile"),
        "zsh offered:\n{screen}"
    );
    assert!(
        names.contains("lab-2") && names.contains("prod"),
        "zsh offered for -p:\n{names}"
    );
}
