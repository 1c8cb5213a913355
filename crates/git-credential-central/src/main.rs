//! `git-credential-central` binary (placeholder).
fn main() {}
