//! Who holds a profile: the identity a process writes into a rotation mark, and
//! whether the process that wrote one is still running.
//!
//! A holder is the host name, the process id and (on Linux) the process start
//! time in clock ticks since boot, so a reused pid is not mistaken for the
//! original writer.

use serde::{Deserialize, Serialize};

/// One process on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Host name (empty when unknown).
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// Process start time in clock ticks since boot (Linux `/proc/PID/stat`
    /// field 22), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
}

impl Holder {
    /// This process.
    pub fn current() -> Holder {
        let pid = std::process::id();
        Holder {
            host: host_name(),
            pid,
            start: start_ticks(pid),
        }
    }

    /// Whether this holder is a process running on this host now. A holder on
    /// another host cannot be checked from here and is reported as not running
    /// here: there, only the store's lock or lease can tell whether it is gone.
    pub fn running_here(&self) -> bool {
        if self.host != host_name() {
            return false;
        }
        match (start_ticks(self.pid), self.start) {
            (Some(now), Some(then)) => now == then,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Whether this holder is the calling process.
    pub fn is_me(&self) -> bool {
        *self == Holder::current()
    }
}

/// The host name, from the kernel (empty when unknown).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Start time of `pid` in clock ticks since boot; `None` when no such process.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; the
    // fields after the last ')' start with field 3.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_pid_is_not() {
        let me = Holder::current();
        assert!(me.running_here() && me.is_me());
        if cfg!(target_os = "linux") {
            assert!(me.start.is_some());
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            let gone = Holder {
                host: me.host.clone(),
                pid,
                start: Some(1),
            };
            assert!(!gone.running_here());
            let reused = Holder {
                start: me.start.map(|s| s + 1),
                ..me.clone()
            };
            assert!(!reused.running_here(), "same pid, other start time");
        }
        let elsewhere = Holder {
            host: "another-host.invalid".into(),
            pid: 1,
            start: None,
        };
        assert!(!elsewhere.running_here());
    }
}
