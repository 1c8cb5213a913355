//! Where a message sends its reader for more: a page of the central-auth
//! documentation as installed (`cargo xtask install` puts the docs in
//! `<prefix>/share/doc/central-auth/`, the release archive in `docs/`), or a
//! man page; never a path of the source repository, which means nothing to
//! someone with an installed binary.

/// Where the install puts the documentation pages, under its prefix.
pub const DOCS_DIR: &str = "share/doc/central-auth";

/// `fleet.md of the central-auth docs (share/doc/central-auth/)`: a page of
/// the documentation, named as a message shows it.
pub fn page(name: &str) -> String {
    format!("{name}.md of the central-auth docs ({DOCS_DIR}/)")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_installed_page() {
        assert_eq!(
            super::page("fleet"),
            "fleet.md of the central-auth docs (share/doc/central-auth/)"
        );
    }
}
