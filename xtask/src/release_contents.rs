//! What a release archive and `cargo xtask install` hold besides the
//! binaries' bytes: the list of shipped binaries and top-level files, and the
//! man pages (one per binary and per subcommand) and shell completions
//! rendered from the clap definitions linked into xtask (`central-sim`'s page
//! from its `--help`).

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

/// The completion script of every binary with a clap definition for `shell`:
/// `(binary, script)`, through `central_auth::completion` (its fixes).
pub fn completion_scripts(shell: Shell) -> Vec<(&'static str, String)> {
    commands()
        .into_iter()
        .map(|(name, mut cmd)| {
            (
                name,
                central_auth::completion::script(shell, &mut cmd, name),
            )
        })
        .collect()
}

/// Every man page: one per binary and one per subcommand (`central-auth-token.1`,
/// as `clap_mangen::generate_to` names them), `(file name, page)`;
/// `central-sim`'s from its `--help` (`sim_bin`).
pub fn man_pages(sim_bin: &Path, version: &str) -> Res<Vec<(String, Vec<u8>)>> {
    fn pages(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> Res<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            pages(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd);
        let mut page = Vec::new();
        man.render(&mut page)
            .map_err(|e| format!("man page {}: {e}", man.get_filename()))?;
        out.push((man.get_filename(), page));
        Ok(())
    }
    let mut out = Vec::new();
    for (_, cmd) in commands() {
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        pages(cmd, &mut out)?;
    }
    out.push(("central-sim.1".to_owned(), sim_man_page(sim_bin, version)?));
    out.sort();
    Ok(out)
}

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
    page.push_str(
        ".fi\n.SH SEE ALSO\nsimulator.md of the central-auth docs (share/doc/central-auth/)\n",
    );
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
