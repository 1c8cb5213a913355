//! `central-auth-terraform` binary (placeholder).
fn main() {}
