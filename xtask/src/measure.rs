//! Timing whole process spawns for `cargo xtask bench`: one measured call
//! ([`Case`]), rows measured interleaved so a shared machine's load hits every
//! row alike, and the figures the tables print (nearest-rank percentiles,
//! milliseconds).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use central_auth_e2e::Home;

use crate::util::say;

/// One measured call.
pub struct Case {
    /// The row's label.
    pub label: String,
    /// Workspace binary name, or `None` for `cat`.
    pub bin: Option<&'static str>,
    /// Arguments.
    pub args: Vec<String>,
    /// Extra environment.
    pub env: Vec<(&'static str, String)>,
    /// Bytes written to stdin.
    pub stdin: Vec<u8>,
}

/// Times `runs` spawns of every row, interleaved in 10 chunks so that the load
/// of a shared machine hits every row alike and the ratios stay fair. A row's
/// `Err` is its table cell explaining why not.
pub fn measure_interleaved(
    rows: &[(&Home, &Case)],
    runs: usize,
) -> Vec<Result<Vec<Duration>, String>> {
    let chunks = 10;
    let per_chunk = runs.div_ceil(chunks).max(1);
    say(format!(
        "measuring {} rows, {chunks} interleaved chunks of {per_chunk} runs",
        rows.len()
    ));
    let mut times: Vec<Result<Vec<Duration>, String>> = vec![Ok(Vec::new()); rows.len()];
    for _ in 0..chunks {
        for (i, (home, case)) in rows.iter().enumerate() {
            if let Ok(acc) = &mut times[i] {
                match measure(home, case, per_chunk) {
                    Ok(t) => acc.extend(t),
                    Err(why) => times[i] = Err(why),
                }
            }
        }
    }
    times
}

/// Times `runs` spawns of one case; `Err` is the table cell explaining why not.
pub fn measure(home: &Home, case: &Case, runs: usize) -> Result<Vec<Duration>, String> {
    let exe: PathBuf = match case.bin {
        Some(name) => {
            let p = home.exe(name);
            if !p.is_file() {
                return Err("missing (not built)".into());
            }
            p
        }
        None => PathBuf::from("cat"),
    };
    let mut times = Vec::with_capacity(runs);
    for i in 0..runs {
        let mut c = Command::new(&exe);
        home.apply_env(&mut c);
        c.args(&case.args)
            .envs(case.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let t = Instant::now();
        let mut child = c.spawn().map_err(|e| format!("cannot start: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that does not read stdin may close it early: ignore EPIPE.
            let _ = stdin.write_all(&case.stdin);
        }
        let out = child
            .wait_with_output()
            .map_err(|e| format!("wait failed: {e}"))?;
        times.push(t.elapsed());
        if i == 0 {
            if !out.status.success() {
                let err = String::from_utf8_lossy(&out.stderr);
                let first = err.lines().next().unwrap_or("").replace('|', "/");
                return Err(format!("failed ({}): {first}", out.status));
            }
            if out.stdout.is_empty() {
                return Err("no output (placeholder binary?)".into());
            }
        }
    }
    Ok(times)
}

/// The p-th percentile (nearest rank) of sorted durations.
pub fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// A duration in milliseconds with two decimals, for the tables.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let d: Vec<Duration> = (1..=10).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 50), Duration::from_millis(5));
        assert_eq!(percentile(&d, 90), Duration::from_millis(9));
        assert_eq!(percentile(&d[..1], 90), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50), Duration::ZERO);
    }

    #[test]
    fn ms_formats_two_decimals() {
        assert_eq!(ms(Duration::from_micros(1500)), "1.50 ms");
    }
}
