//! The failing tests' panic messages, repeated at the end of `cargo xtask
//! test`: the harness prints them in its `failures:` section, in the middle of
//! a long log that CI may show only the start and end of.
//!
//! `cargo test`'s standard output is passed through line by line as it comes
//! and read on the way for `---- NAME stdout ----` blocks; each block's panic
//! line and the message after it are kept.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use crate::util::{say, Res};

/// The most lines of one panic message repeated at the end.
const MESSAGE_LINES: usize = 6;
/// The most characters of one repeated line.
const LINE_CHARS: usize = 400;

/// One failing test: its name and the start of its panic message.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub test: String,
    pub message: Vec<String>,
}

/// Reads a harness's output line by line and keeps each failing test's panic.
#[derive(Default)]
pub struct Collector {
    failures: Vec<Failure>,
    /// The block being read: its test and whether its panic line was seen.
    current: Option<(Failure, bool)>,
}

impl Collector {
    /// Takes one line of harness output (without its newline).
    pub fn line(&mut self, line: &str) {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            self.finish();
            let failure = Failure {
                test: name.to_owned(),
                message: Vec::new(),
            };
            self.current = Some((failure, false));
            return;
        }
        if line == "failures:" || line.starts_with("test result:") {
            self.finish();
            return;
        }
        if let Some((failure, panicked)) = &mut self.current {
            if !*panicked && line.contains("panicked at") {
                *panicked = true;
            }
            // The message ends where a backtrace begins (RUST_BACKTRACE set).
            if *panicked && line.starts_with("stack backtrace:") {
                self.finish();
                return;
            }
            let kept = !line.trim().is_empty() && !line.starts_with("note: ");
            if *panicked && kept && failure.message.len() < MESSAGE_LINES {
                failure.message.push(shorten(line));
            }
        }
    }

    fn finish(&mut self) {
        if let Some((failure, _)) = self.current.take() {
            self.failures.push(failure);
        }
    }

    /// The failures seen, in order.
    pub fn failures(mut self) -> Vec<Failure> {
        self.finish();
        self.failures
    }
}

fn shorten(line: &str) -> String {
    if line.chars().count() <= LINE_CHARS {
        return line.to_owned();
    }
    let mut short: String = line.chars().take(LINE_CHARS).collect();
    short.push_str(" [...]");
    short
}

/// Runs `cmd` with its standard output passed through, and returns whether it
/// succeeded with the failures its harness output named.
pub fn run_collecting(cmd: &mut Command, what: &str) -> (Res<()>, Vec<Failure>) {
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => return (Err(format!("{what}: cannot start: {e}")), Vec::new()),
    };
    let mut collector = Collector::default();
    if let Some(out) = child.stdout.take() {
        let stdout = std::io::stdout();
        for line in BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            let mut lock = stdout.lock();
            let _ = lock.write_all(&line);
            let _ = lock.write_all(b"\n");
            let _ = lock.flush();
            collector.line(String::from_utf8_lossy(&line).trim_end_matches('\r'));
        }
    }
    let result = match child.wait() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{what} failed ({s})")),
        Err(e) => Err(format!("{what}: cannot wait for it: {e}")),
    };
    (result, collector.failures())
}

/// Prints the failures again, a few lines each, where a shortened log still
/// shows them.
pub fn report(failures: &[Failure]) {
    if failures.is_empty() {
        return;
    }
    say(format!(
        "{} failing test(s), their panic messages again:",
        failures.len()
    ));
    for f in failures {
        say(format!("  FAILED {}", f.test));
        if f.message.is_empty() {
            say("    (no panic message in its output)");
        }
        for line in &f.message {
            say(format!("    {line}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Vec<Failure> {
        let mut c = Collector::default();
        for line in text.lines() {
            c.line(line);
        }
        c.failures()
    }

    #[test]
    fn keeps_each_failing_tests_panic_and_message() {
        let out = "\
running 3 tests
test a::one ... ok
test a::two ... FAILED
test b::three ... FAILED

failures:

---- a::two stdout ----
figures: something printed first
thread 'a::two' panicked at tests/e2e/a.rs:10:5:
assertion `left == right` failed: no fault
  left: 1
 right: 0
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- b::three stdout ----
thread 'b::three' panicked at tests/e2e/b.rs:3:1:
slow
stack backtrace:
   0: __rustc::rust_begin_unwind
failures:
    a::two
    b::three

test result: FAILED. 1 passed; 2 failed
";
        let f = collect(out);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].test, "a::two");
        assert_eq!(
            f[0].message,
            [
                "thread 'a::two' panicked at tests/e2e/a.rs:10:5:",
                "assertion `left == right` failed: no fault",
                "  left: 1",
                " right: 0",
            ]
        );
        assert_eq!(f[1].test, "b::three");
        assert_eq!(
            f[1].message,
            ["thread 'b::three' panicked at tests/e2e/b.rs:3:1:", "slow"]
        );
    }

    #[test]
    fn long_lines_are_cut_and_passing_output_gives_nothing() {
        let long = "x".repeat(2000);
        let f = collect(&format!(
            "---- t stdout ----\nthread 't' panicked at f.rs:1:1:\n{long}\n"
        ));
        assert_eq!(f[0].message[1].len(), LINE_CHARS + " [...]".len());
        assert!(collect("running 1 test\ntest t ... ok\n\ntest result: ok.\n").is_empty());
    }
}
