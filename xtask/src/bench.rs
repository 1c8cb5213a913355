//! `cargo xtask bench`: not a test, a measurement. Release build; against the
//! `central-sim` binary with a fresh (cached) token it times whole process spawns
//! of `cat <token file>` (the floor), `central-auth token` and each helper, then
//! the wall time of 1, 16 and 64 concurrent `central-auth token` calls on an
//! expired token. Prints Markdown tables; fails unless every stampede round made
//! exactly one token request, the one successful refresh (no rejected refresh, no
//! login). Then the proxy's added latency and saturation rate (`bench_proxy`).

use crate::measure::{measure_interleaved, ms, percentile, Case};
use central_auth_e2e::Home;

use crate::demo_home::{demo_home, import_download};
use crate::sim_process::{one_refresh, SimProcess, SIM_CLIENT_ID};
use crate::util::{build_bins, say, Res};

/// Stampede sizes.
const STAMPEDES: [usize; 3] = [1, 16, 64];
/// Rounds per stampede size.
const ROUNDS: usize = 5;

/// Parses `--runs N` (default 200).
pub fn parse_runs(args: &[String]) -> Res<usize> {
    let mut runs = 200;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = match a.as_str() {
            "--runs" => it.next().cloned().ok_or("--runs needs a number")?,
            s if s.starts_with("--runs=") => s["--runs=".len()..].to_owned(),
            other => {
                return Err(format!(
                    "bench: unknown argument `{other}` (usage: bench [--runs N] [--keyring-only])"
                ))
            }
        };
        runs = value
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("--runs must be a positive number, got `{value}`"))?;
    }
    Ok(runs)
}

/// Runs the benchmark (`--keyring-only`: only the keyring rows).
pub fn run(args: &[String]) -> Res<()> {
    let keyring_only = args.iter().any(|a| a == "--keyring-only");
    let rest: Vec<String> = args
        .iter()
        .filter(|a| *a != "--keyring-only")
        .cloned()
        .collect();
    let runs = parse_runs(&rest)?;
    let bin_dir = build_bins(true)?;
    let sim = SimProcess::start(&bin_dir, 7200)?;
    if keyring_only {
        return crate::bench_keyring::run(&bin_dir, &sim, runs);
    }
    let home = demo_home(&bin_dir, &sim, "5m")?;
    import_download(&home, &sim, 0)?;
    say(format!(
        "central-sim at {}, fresh token imported; {runs} runs per row",
        sim.url
    ));

    let exec_info = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:6443","config":null},"interactive":false}}"#.to_owned();
    let cases = [
        Case {
            label: "`cat` token file (baseline)".into(),
            bin: None,
            args: vec![home.record_path("demo").to_string_lossy().into_owned()],
            env: vec![],
            stdin: vec![],
        },
        Case {
            label: "`central-auth token`".into(),
            bin: Some("central-auth"),
            args: vec!["token".into()],
            env: vec![],
            stdin: vec![],
        },
        Case {
            label: "`git-credential-central get`".into(),
            bin: Some("git-credential-central"),
            args: vec!["get".into()],
            env: vec![],
            stdin: format!("protocol=http\nhost={}\n\n", sim.addr).into_bytes(),
        },
        Case {
            label: "`central-auth-kube`".into(),
            bin: Some("central-auth-kube"),
            args: vec![],
            env: vec![("KUBERNETES_EXEC_INFO", exec_info)],
            stdin: vec![],
        },
        Case {
            label: "`central-auth-terraform`".into(),
            bin: Some("central-auth-terraform"),
            args: vec![],
            env: vec![],
            stdin: br#"{"profile":"demo"}"#.to_vec(),
        },
        Case {
            label: "`central-auth-ansible --profile demo`".into(),
            bin: Some("central-auth-ansible"),
            args: vec!["--profile".into(), "demo".into()],
            env: vec![],
            stdin: vec![],
        },
    ];

    // The same call with a config of 1000 profiles: only the profile asked for
    // is parsed (docs/ARCHITECTURE.md, "The cached path").
    let big = demo_home(&bin_dir, &sim, "5m")?;
    big.append_config(&many_profiles(999))?;
    import_download(&big, &sim, 0)?;
    // Steady state: a call indexes the config's sections once the file is
    // `config_index::SETTLED` (3 s) old, and later calls read through the
    // index (docs/ARCHITECTURE.md, "The cached path").
    std::thread::sleep(std::time::Duration::from_secs(4));
    crate::demo_home::token(&big)?;
    if !big.path().join("state").join("config.index").is_file() {
        say("the 1000-profile config was not indexed; its row reads the whole file");
    }
    let big_case = Case {
        label: "`central-auth token`, config of 1000 profiles".into(),
        bin: Some("central-auth"),
        args: vec!["token".into()],
        env: vec![],
        stdin: vec![],
    };
    // A config of 1000 MSP tenant profiles: the call reads the tenant's and
    // its MSP profile's sections only, and the cached tenant token.
    let tenants = demo_home(&bin_dir, &sim, "5m")?;
    tenants.append_config(&tenant_profiles(&sim.url, 1000))?;
    std::thread::sleep(std::time::Duration::from_secs(4));
    tenants.cli_stdout(&["token", "--profile", "tenant-0500"])?;
    let tenant_case = Case {
        label: "`central-auth token`, config of 1000 tenant profiles".into(),
        bin: Some("central-auth"),
        args: vec!["token".into(), "--profile".into(), "tenant-0500".into()],
        env: vec![],
        stdin: vec![],
    };
    let mut measured: Vec<(&Home, &Case)> = cases.iter().map(|c| (&home, c)).collect();
    measured.insert(2, (&big, &big_case));
    measured.insert(3, (&tenants, &tenant_case));
    let times = measure_interleaved(&measured, runs);

    let mut rows = Vec::new();
    let mut baseline = None;
    let mut file_cached = None;
    for ((_, case), result) in measured.iter().zip(times) {
        let cell = match result {
            Ok(mut times) => {
                times.sort();
                let med = percentile(&times, 50);
                let p90 = percentile(&times, 90);
                let base = *baseline.get_or_insert(med);
                if case.label == "`central-auth token`" {
                    file_cached = Some(med);
                }
                format!(
                    "| {} | {} | {} | {:.2}× |",
                    case.label,
                    ms(med),
                    ms(p90),
                    med.as_secs_f64() / base.as_secs_f64().max(1e-9)
                )
            }
            Err(why) => format!("| {} | {why} | | |", case.label),
        };
        rows.push(cell);
    }

    let mut stampede_rows = Vec::new();
    let mut bad_rounds = Vec::new();
    for n in STAMPEDES {
        say(format!(
            "stampede of {n}: {ROUNDS} rounds, each on a freshly imported expired token"
        ));
        let mut walls = Vec::new();
        let mut refreshes = Vec::new();
        for _ in 0..ROUNDS {
            import_download(&home, &sim, 2 * 3600)?;
            let before = sim.counters()?;
            let (tokens, wall) = home.stampede(n)?;
            let after = sim.counters()?;
            let count =
                after["refresh"].as_u64().unwrap_or(0) - before["refresh"].as_u64().unwrap_or(0);
            if tokens.iter().any(|t| *t != tokens[0]) {
                bad_rounds.push(format!("{n} callers printed different tokens"));
            }
            if let Err(why) = one_refresh(&before, &after) {
                bad_rounds.push(format!("{n} callers: {why}"));
            }
            walls.push(wall);
            refreshes.push(count.to_string());
        }
        walls.sort();
        stampede_rows.push(format!(
            "| {n} | {} | {} |",
            ms(percentile(&walls, 50)),
            refreshes.join(", ")
        ));
    }

    println!();
    println!("Per call, whole process spawn, cached token ({runs} runs, rows interleaved in chunks; goals: `central-auth token` within 1.2× `cat`, 1000 profiles within 1.3×):");
    println!();
    println!("| call | median | p90 | × cat |");
    println!("|---|---:|---:|---:|");
    for r in &rows {
        println!("{r}");
    }
    println!();
    println!("Stampede on an expired token, concurrent `central-auth token` processes (median of {ROUNDS} rounds):");
    println!();
    println!("| callers | median wall | refreshes per round |");
    println!("|---:|---:|---|");
    for r in &stampede_rows {
        println!("{r}");
    }
    crate::bench_proxy::run(&home, &sim)?;
    println!();
    let fleet = crate::bench_fleet::run(&bin_dir, &sim, runs, baseline, file_cached);
    if let Err(e) = &fleet {
        bad_rounds.push(e.clone());
    }
    if let Err(e) = crate::bench_keyring::run(&bin_dir, &sim, runs) {
        bad_rounds.push(format!("keyring rows: {e}"));
    }
    if bad_rounds.is_empty() {
        say("every stampede round refreshed exactly once");
        Ok(())
    } else {
        Err(format!(
            "stampede rounds went wrong: {}",
            bad_rounds.join("; ")
        ))
    }
}

/// `count` more classic profiles for a config, as a team with many customers
/// would have them.
/// The simulator's MSP profile and `count` tenant profiles; `tenant-0500` is
/// the seeded tenant Acme Corp, the others never called.
fn tenant_profiles(url: &str, count: usize) -> String {
    let mut text = format!(
        "\n[profiles.msp]\ngrant = \"client_credentials\"\nbase_url = \"{url}\"\nglp_base_url = \"{url}\"\nworkspace_id = \"6a1f0c2e4b7d4e8f9a0b1c2d3e4f5a6b\"\nclient_id = \"{SIM_CLIENT_ID}\"\nclient_secret_env = \"DEMO_CLIENT_SECRET\"\n"
    );
    for i in 0..count {
        let id = match i {
            500 => "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0001".to_owned(),
            _ => format!("{i:032x}"),
        };
        text.push_str(&format!(
            "\n[profiles.tenant-{i:04}]\ngrant = \"token_exchange\"\nfrom = \"msp\"\ntenant_id = \"{id}\"\n"
        ));
    }
    text
}

fn many_profiles(count: usize) -> String {
    (0..count)
        .map(|i| {
            format!(
                "\n[profiles.customer-{i:04}]\ncluster = \"US-2\"\nclient_id = \"client-{i}\"\nclient_secret_env = \"SECRET_{i}\"\ncustomer_id = \"cust-{i}\"\nusername = \"automation-{i}@example.com\"\npassword_env = \"PASSWORD_{i}\"\nmin_valid = \"5m\"\n"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn runs_default_and_flag() {
        assert_eq!(parse_runs(&[]), Ok(200));
        assert_eq!(parse_runs(&strings(&["--runs", "7"])), Ok(7));
        assert_eq!(parse_runs(&strings(&["--runs=9"])), Ok(9));
        assert!(parse_runs(&strings(&["--runs", "0"])).is_err());
        assert!(parse_runs(&strings(&["--runs"])).is_err());
        assert!(parse_runs(&strings(&["--fast"])).is_err());
    }
}
