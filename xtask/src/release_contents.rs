//! What a release archive holds besides the binaries' bytes: the list of
//! shipped binaries and top-level files, and the man pages and shell
//! completions rendered from the clap definitions linked into xtask
//! (`central-sim`'s page from its `--help`).

use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::util::Res;

/// Every binary shipped in `bin/`.
pub const BINARIES: &[&str] = &[
    "central-auth",
    "git-credential-central",
    "central-auth-kube",
    "central-auth-terraform",
    "central-auth-ansible",
    "central-sim",
];

/// The shells completions are generated for, with the file name of each.
pub const SHELLS: &[Shell] = &[Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

/// Files at the archive's top level, from the repository root.
pub const TOP_FILES: &[&str] = &["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// The clap definitions of the binaries that have one in a library.
pub fn commands() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("central-auth", central_auth::cli::Cli::command()),
        (
            "git-credential-central",
            git_credential_central::cli::Cli::command(),
        ),
        ("central-auth-kube", central_auth_kube::Cli::command()),
        (
            "central-auth-terraform",
            central_auth_terraform::Cli::command(),
        ),
        ("central-auth-ansible", central_auth_ansible::Cli::command()),
    ]
}

/// A man page for `central-sim` from its `--help` (its command line lives in its
/// binary, not in a library).
pub fn sim_man_page(bin: &Path, version: &str) -> Res<Vec<u8>> {
    let out = Command::new(bin)
        .arg("--help")
        .output()
        .map_err(|e| format!("{} --help: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!("{} --help failed", bin.display()));
    }
    let help = String::from_utf8_lossy(&out.stdout);
    let mut page = format!(
        ".TH central-sim 1 \"\" \"central-sim {version}\"\n.SH NAME\ncentral-sim \\- local simulator of the HPE Aruba Networking Central API gateway\n.SH DESCRIPTION\n.nf\n"
    );
    for line in help.lines() {
        let line = line.replace('\\', "\\e");
        if line.starts_with('.') || line.starts_with('\'') {
            page.push_str("\\&");
        }
        page.push_str(&line);
        page.push('\n');
    }
    page.push_str(".fi\n.SH SEE ALSO\ndocs/simulator.md\n");
    Ok(page.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cli_renders_a_man_page_and_completions() {
        for (name, mut cmd) in commands() {
            let mut page = Vec::new();
            clap_mangen::Man::new(cmd.clone())
                .render(&mut page)
                .expect("man page");
            assert!(String::from_utf8_lossy(&page).contains(".TH"), "{name}");
            for shell in SHELLS {
                let mut buf = Vec::new();
                clap_complete::generate(*shell, &mut cmd, name, &mut buf);
                assert!(
                    String::from_utf8_lossy(&buf).contains("profile"),
                    "{name} {shell}"
                );
            }
        }
    }
}
