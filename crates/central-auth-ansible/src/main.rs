//! `central-auth-ansible` binary (placeholder).
fn main() {}
