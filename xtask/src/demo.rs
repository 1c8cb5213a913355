//! `cargo xtask demo`: a short story against the real `central-sim` and
//! `central-auth` binaries. It opens with the API Gateway life cycle
//! ([`crate::demo_gateway`]: app, tokens, download, import, revoke). Then login, status, token; the 8-second access token runs
//! out and the next `token` call refreshes it; then an expired token meets 16
//! processes started at once, and the simulator counts exactly one refresh.
//! Exits non-zero when any step of the story does not hold.

use std::time::{Duration, Instant};

use crate::demo_home::{demo_home, import_download, token};
use crate::sim_process::{one_refresh, SimProcess};
use crate::util::{build_bins, say, short, Res};

/// Access-token lifetime of the demo's simulator, seconds.
const ACCESS_TTL: u64 = 8;
/// How many processes ask for the token at once.
const CALLERS: usize = 16;

/// Runs the demo.
pub fn run(args: &[String]) -> Res<()> {
    if let Some(a) = args.first() {
        return Err(format!("demo takes no arguments (got `{a}`)"));
    }
    // Under `cargo xtask test` the binaries are built already.
    let bin_dir = match std::env::var_os("CENTRAL_AUTH_BIN_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => build_bins(false)?,
    };
    // The story's own time, as the README states it (the build is apart).
    let started = Instant::now();
    let sim = SimProcess::start(&bin_dir, ACCESS_TTL)?;
    say(format!(
        "central-sim is listening on {} (access tokens live {ACCESS_TTL} s)",
        sim.url
    ));
    let gateway_home = demo_home(&bin_dir, &sim, "2s")?;
    crate::demo_gateway::lifecycle(&sim, &gateway_home)?;
    drop(gateway_home);

    let home = demo_home(&bin_dir, &sim, "2s")?;
    println!();
    say(format!(
        "CENTRAL_AUTH_HOME={} with config.toml:",
        home.path().display()
    ));
    print_indented(&home.config()?);

    step(
        1,
        "central-auth login   (password from $DEMO_PASSWORD via password_env)",
    );
    let before = sim.counters()?;
    print_indented(&home.cli_stdout(&["login"])?);
    let after = sim.counters()?;
    let logins = delta(&before, &after, "login");
    check(
        logins == 1,
        format!("the simulator saw {logins} logins, expected 1"),
    )?;
    say("the simulator saw 1 login (3 steps: login, authorize, code exchange)");
    let logged_in = Instant::now();

    step(2, "central-auth status");
    print_indented(&home.cli_stdout(&["status"])?);

    step(3, "central-auth token");
    let first = token(&home)?;
    say(format!("token: {}", short(&first)));
    let again = token(&home)?;
    check(
        again == first,
        "a second call did not return the cached token",
    )?;
    say("asked again: same token, served from the store (no HTTP call)");

    let wait = Duration::from_secs(ACCESS_TTL - 1).saturating_sub(logged_in.elapsed());
    step(
        4,
        &format!(
            "waiting {:.1} s until the token is within min_valid (2 s) of its {ACCESS_TTL} s expiry",
            wait.as_secs_f64()
        ),
    );
    std::thread::sleep(wait);

    step(5, "central-auth token   (again)");
    let before = sim.counters()?;
    let second = token(&home)?;
    let after = sim.counters()?;
    say(format!(
        "token: {}  (was {})",
        short(&second),
        short(&first)
    ));
    check(second != first, "the token did not change after expiry")?;
    if let Err(why) = one_refresh(&before, &after) {
        check(false, format!("`token` after expiry: {why}"))?;
    }
    say("refreshed: new access token (and a new refresh token), 1 refresh at the simulator");

    step(6, "the simulator's counters (GET /_sim/counters)");
    print_counters(&sim.counters()?);

    step(
        7,
        &format!("stampede: an expired token, {CALLERS} `central-auth token` processes at once"),
    );
    let imported = import_download(&home, &sim, 2 * 3600)?;
    say(format!(
        "imported a Download Token created 2 h ago ({}): its access token counts as expired",
        short(&imported)
    ));
    let before = sim.counters()?;
    let (tokens, wall) = home.stampede(CALLERS)?;
    let after = sim.counters()?;
    let refreshes = delta(&before, &after, "refresh");
    let distinct = distinct(&tokens);
    say(format!(
        "{CALLERS} processes finished in {:.0} ms; distinct tokens printed: {distinct} ({})",
        wall.as_secs_f64() * 1000.0,
        short(&tokens[0])
    ));
    check(
        distinct == 1,
        format!("the callers printed {distinct} different tokens"),
    )?;
    check(tokens[0] != imported, "the expired token was handed out")?;
    if let Err(why) = one_refresh(&before, &after) {
        check(false, format!("{CALLERS} callers at once: {why}"))?;
    }
    say(format!("{CALLERS} callers, {refreshes} refresh"));

    say(format!(
        "demo OK in {:.1} s after the build: the story holds",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn step(n: u32, title: &str) {
    println!();
    say(format!("── {n}. {title}"));
}

fn print_indented(text: &str) {
    for line in text.lines() {
        println!("    {line}");
    }
}

fn print_counters(c: &serde_json::Value) {
    let Some(map) = c.as_object() else {
        println!("    {c}");
        return;
    };
    let parts: Vec<String> = map
        .iter()
        .filter(|(_, v)| v.as_u64().is_some_and(|n| n > 0))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!("    {}  (others 0)", parts.join(" "));
}

fn delta(before: &serde_json::Value, after: &serde_json::Value, key: &str) -> u64 {
    let get = |v: &serde_json::Value| v[key].as_u64().unwrap_or(0);
    get(after).saturating_sub(get(before))
}

fn distinct(tokens: &[String]) -> usize {
    let mut t: Vec<&String> = tokens.iter().collect();
    t.sort();
    t.dedup();
    t.len()
}

fn check(ok: bool, msg: impl Into<String>) -> Res<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("the demo story does not hold: {}", msg.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_counts_unique_tokens() {
        let t = vec!["a".to_owned(), "b".to_owned(), "a".to_owned()];
        assert_eq!(distinct(&t), 2);
        assert_eq!(distinct(&t[..1]), 1);
    }

    #[test]
    fn delta_of_counters() {
        let b = serde_json::json!({"refresh": 2});
        let a = serde_json::json!({"refresh": 3});
        assert_eq!(delta(&b, &a, "refresh"), 1);
        assert_eq!(delta(&b, &a, "missing"), 0);
    }

    #[test]
    fn check_reports_the_story() {
        assert!(check(true, "x").is_ok());
        assert_eq!(
            check(false, "x"),
            Err("the demo story does not hold: x".to_owned())
        );
    }
}
