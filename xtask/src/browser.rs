//! The real browser of the simulator page's test: Debian's `chromium` at
//! `/usr/bin/chromium`, installed with apt when missing (it runs beside the
//! venv installs). Under `CI=true` a browser that cannot be installed is fatal.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::util::{is_ci, say, which, Res};

/// Where the tests look for the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Makes sure `/usr/bin/chromium` exists (apt-get install when allowed).
pub fn ensure_chromium(allow_apt: bool) -> Res<()> {
    if Path::new(CHROMIUM).is_file() {
        say(format!("tool chromium: {CHROMIUM}"));
        return Ok(());
    }
    if allow_apt && which("apt-get").is_some() {
        let t = Instant::now();
        say("chromium is missing: apt-get install -y chromium ...");
        let ok = Command::new("sh")
            .arg("-c")
            .arg("(apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)) >/dev/null 2>&1")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        if ok && Path::new(CHROMIUM).is_file() {
            say(format!(
                "chromium installed in {:.1} s",
                t.elapsed().as_secs_f64()
            ));
            return Ok(());
        }
    }
    if is_ci() {
        return Err(format!(
            "under CI=true the browser test needs {CHROMIUM}: apt-get install -y chromium"
        ));
    }
    say(format!(
        "!!!!!! SKIPPED: {CHROMIUM} not found (apt-get install -y chromium); the browser test will skip !!!!!!"
    ));
    Ok(())
}
