//! Hardening the process that holds secrets.
//!
//! [`harden`] is the first call of every binary's `main`: it marks the process
//! non-dumpable (`prctl(PR_SET_DUMPABLE, 0)`), so a crash or a `SIGQUIT`/`SIGABRT`
//! writes no core file holding a refresh token or client secret, and processes of
//! the same user can neither `ptrace` it nor read its `/proc/PID/mem` or
//! `environ` (those files then belong to root). The flag is reset by `execve`, so
//! the children of `central-auth exec` are ordinary processes.

/// Marks this process non-dumpable. Best effort: on a kernel or platform without
/// `prctl` nothing changes and nothing fails.
pub fn harden() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
}

/// Whether this process is marked non-dumpable (`None` where unknown).
pub fn is_hardened() -> Option<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        rustix::process::dumpable_behavior()
            .ok()
            .map(|b| b == rustix::process::DumpableBehavior::NotDumpable)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn harden_marks_the_process_non_dumpable() {
        super::harden();
        assert_ne!(super::is_hardened(), Some(false));
    }
}
