//! `cargo xtask bench`, keyring row: the cached `token` call of a profile in
//! the OS keyring store (a real GNOME Keyring on a private session bus),
//! measured interleaved with the file store's cached call. The cached path
//! reads the 0600 access-token cache only, so the two should match; the row
//! also shows a forced read of the keyring item (`status`, which reads it).

use std::path::Path;

use central_auth_e2e::keyring::Keyring;
use central_auth_e2e::Home;

use crate::demo_home::{demo_config, demo_home, import_download};
use crate::measure::{measure_interleaved, ms, percentile, Case};
use crate::sim_process::{SimProcess, SIM_CLIENT_SECRET, SIM_PASSWORD};
use crate::util::{is_ci, say, Res};

/// Runs the keyring rows and prints their table.
pub fn run(bin_dir: &Path, sim: &SimProcess, runs: usize) -> Res<()> {
    let tools = [
        "dbus-daemon",
        "gnome-keyring-daemon",
        "dbus-send",
        "secret-tool",
    ];
    if let Some(missing) = tools.iter().find(|t| crate::util::which(t).is_none()) {
        let msg = format!("{missing} is missing; `cargo xtask test` installs it");
        if is_ci() {
            return Err(msg);
        }
        say(format!("!!!!!! SKIPPED: keyring bench row: {msg} !!!!!!"));
        return Ok(());
    }
    let Some(kr) = Keyring::start() else {
        return Err("the private GNOME Keyring did not start".to_owned());
    };
    let file = demo_home(bin_dir, sim, "5m")?;
    import_download(&file, sim, 0)?;
    let secrets = [
        ("DEMO_CLIENT_SECRET", SIM_CLIENT_SECRET),
        ("DEMO_PASSWORD", SIM_PASSWORD),
        ("DBUS_SESSION_BUS_ADDRESS", kr.address.as_str()),
    ];
    let keyring = Home::new("central-auth-xtask-", bin_dir, &secrets)?;
    keyring.set_config(&format!(
        "{}store = \"keyring\"\n\n[stores.keyring]\nkind = \"keyring\"\n",
        demo_config(&sim.url, "5m")
    ))?;
    import_download(&keyring, sim, 0)?;
    let case = |label: &str, args: &[&str]| Case {
        label: label.to_owned(),
        bin: Some("central-auth"),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        env: vec![],
        stdin: vec![],
    };
    let cases = [
        case("`central-auth token`, file store, cached", &["token"]),
        case("`central-auth token`, keyring store, cached", &["token"]),
        case(
            "`central-auth status`, keyring store (reads the item)",
            &["status"],
        ),
    ];
    let rows: Vec<(&Home, &Case)> = [&file, &keyring, &keyring]
        .into_iter()
        .zip(&cases)
        .collect();
    let times = measure_interleaved(&rows, runs);
    let mut medians = Vec::new();
    let mut lines = Vec::new();
    for (case, result) in cases.iter().zip(times) {
        match result {
            Ok(mut t) => {
                t.sort();
                let med = percentile(&t, 50);
                medians.push(Some(med));
                lines.push((case.label.clone(), ms(med), ms(percentile(&t, 90)), med));
            }
            Err(why) => {
                medians.push(None);
                lines.push((case.label.clone(), why, String::new(), Default::default()));
            }
        }
    }
    let file_med = medians.first().copied().flatten();
    println!("OS keyring store (GNOME Keyring on a private D-Bus session), whole process spawn ({runs} runs, interleaved):");
    println!();
    println!("| call | median | p90 | × file store cached |");
    println!("|---|---:|---:|---:|");
    for (label, med, p90, d) in &lines {
        let ratio = file_med.map_or("n/a".to_owned(), |b| {
            format!("{:.2}×", d.as_secs_f64() / b.as_secs_f64().max(1e-9))
        });
        println!("| {label} | {med} | {p90} | {ratio} |");
    }
    println!();
    Ok(())
}
