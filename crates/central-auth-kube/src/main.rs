//! `central-auth-kube` binary (placeholder).
fn main() {}
