//! Shell completion scripts of every central-auth binary: clap_complete's
//! static scripts, rendered from the clap definition, then fixed in two ways
//! (`central-auth completions SHELL`, `cargo xtask install` and the release
//! archive all come through [`script`]):
//!
//! - `-p/--profile` completes the configured profile names, read at TAB time
//!   from `central-auth profiles --names` (names only: no secret is resolved
//!   and Central is not contacted), instead of file names;
//! - bash: the case labels of a hyphenated binary name are repaired (see
//!   [`fix_bash_hyphen`]).

use clap_complete::Shell;

/// The command the scripts run to list the profile names, one per line.
pub const PROFILE_NAMES_CMD: &str = "central-auth profiles --names 2>/dev/null";

/// The completion script of `cmd`, installed as `name`, for `shell`.
pub fn script(shell: Shell, cmd: &mut clap::Command, name: &str) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, cmd, name, &mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let has_profile = cmd.get_arguments().any(|a| a.get_id() == "profile");
    match shell {
        Shell::Bash => {
            let text = fix_bash_hyphen(&text, name);
            if has_profile {
                bash_profiles(&text)
            } else {
                text
            }
        }
        Shell::Zsh if has_profile => zsh_profiles(&text, name),
        Shell::Fish if has_profile => fish_profiles(&text, name),
        _ => text,
    }
}

/// Works around clap_complete's bash bug with hyphenated binary names
/// (clap-rs/clap#6421, open as of clap_complete 4.6.11): the script sets
/// `cmd="central__auth__subcmd__token"` while it matches the case label
/// `central__subcmd__auth__subcmd__token)`, so no option of any subcommand
/// completes. The labels are rewritten to the names the script sets. Remove
/// once the upstream fix is in the locked clap_complete (the unit test
/// `bash_case_labels_match_what_the_script_sets` keeps this honest either way).
pub fn fix_bash_hyphen(text: &str, name: &str) -> String {
    if !name.contains('-') {
        return text.to_owned();
    }
    let wrong = name.replace('-', "__subcmd__");
    let right = name.replace('-', "__");
    text.replace(&wrong, &right)
}

/// bash: the value of `-p`/`--profile` from the profile names.
fn bash_profiles(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_profile = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if after_profile && trimmed == r#"COMPREPLY=($(compgen -f "${cur}"))"# {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push_str(&format!(
                "{indent}COMPREPLY=($(compgen -W \"$({PROFILE_NAMES_CMD})\" -- \"${{cur}}\"))"
            ));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        after_profile = trimmed == "--profile)" || trimmed == "-p)";
    }
    out
}

/// zsh: `-p`/`--profile` take their value from a function listing the names.
fn zsh_profiles(text: &str, name: &str) -> String {
    let func = format!("_{name}__profile_names");
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let is_profile = line.starts_with("'-p+[") || line.starts_with("'--profile=[");
        if is_profile && line.contains(":NAME:_default'") {
            out.push_str(&line.replace(":NAME:_default'", &format!(":NAME:{func}'")));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let definition = format!(
        "(( $+functions[{func}] )) ||\n{func}() {{\n    local -a names\n    names=(${{(f)\"$({PROFILE_NAMES_CMD})\"}})\n    compadd -a names\n}}\n\n"
    );
    // Defined before the script's last statement, which may call the
    // completion function at once (when the file is autoloaded).
    match out.rfind("\nif [ \"$funcstack[1]\"") {
        Some(at) => {
            out.insert_str(at + 1, &definition);
            out
        }
        None => definition + &out,
    }
}

/// fish: `-p`/`--profile` complete the names, not files. clap_complete's
/// conditions fail while a global option before the subcommand still lacks
/// its value (`central-auth --profile <TAB>`), so one more line offers the
/// names whenever the previous word is `-p` or `--profile`.
fn fish_profiles(text: &str, name: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        out.push_str(line);
        if line.starts_with("complete ") && line.contains(" -s p -l profile ") {
            out.push_str(&format!(" -f -a \"({PROFILE_NAMES_CMD})\""));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "complete -c {name} -n \"contains -- (commandline -opc)[-1] -p --profile\" -f -a \"({PROFILE_NAMES_CMD})\"\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(shell: Shell) -> String {
        script(shell, &mut crate::cli::Cli::command(), "central-auth")
    }

    #[test]
    fn bash_case_labels_match_what_the_script_sets() {
        let text = rendered(Shell::Bash);
        let mut set = 0;
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("cmd=\"") else {
                continue;
            };
            let value = rest.trim_end_matches('"');
            if value.is_empty() {
                continue;
            }
            set += 1;
            assert!(
                text.contains(&format!("\n        {value})\n")),
                "no case label for {value}"
            );
        }
        assert!(set > 10, "{set} subcommand names");
        assert!(!text.contains("__subcmd__auth"));
    }

    #[test]
    fn profile_values_come_from_the_names() {
        let bash = rendered(Shell::Bash);
        assert!(!bash.contains("--profile)\n                    COMPREPLY=($(compgen -f"));
        assert!(bash.contains(PROFILE_NAMES_CMD));
        let zsh = rendered(Shell::Zsh);
        assert!(!zsh.contains(":NAME:_default'"), "every -p/--profile fixed");
        assert!(zsh.contains("_central-auth__profile_names() {"));
        let fish = rendered(Shell::Fish);
        for line in fish.lines().filter(|l| l.contains(" -l profile ")) {
            assert!(
                line.ends_with(&format!("-f -a \"({PROFILE_NAMES_CMD})\"")),
                "{line}"
            );
        }
    }

    #[test]
    fn other_names_are_left_alone() {
        let text = "case x in\n  a__subcmd__b)\n";
        assert_eq!(fix_bash_hyphen(text, "plain"), text);
    }
}
