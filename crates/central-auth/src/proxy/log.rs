//! The proxy's `-v` lines and refusals on stderr: `central-auth: line`.

/// One `-v` line on stderr.
#[allow(clippy::print_stderr)]
pub(crate) fn log(line: &str) {
    eprintln!("central-auth: {line}");
}
