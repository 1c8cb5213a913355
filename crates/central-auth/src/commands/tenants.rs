//! `central-auth tenants --profile MSP`: the tenants the MSP profile manages
//! (every page of GreenLake's list), as text, `--json`, or appended to the
//! config as tenant profiles (`--write-profiles`, `crate::tenant_profiles`).

use std::fmt::Write as _;
use std::process::ExitCode;

use central_auth_core::adapter::terminal_safe;
use central_auth_core::Broker;

use super::Outcome;
use crate::output::{print_stdout, say};
use crate::{tenant_profiles, view};

/// Runs `tenants`.
pub(crate) fn run(broker: &Broker, explicit: Option<&str>, json: bool, write: bool) -> Outcome {
    let msp = broker.profile(explicit)?;
    let tenants = broker.tenants(msp)?;
    if write {
        let lines = tenant_profiles::write(&broker.home().config_file, &msp.name, &tenants)?;
        for line in lines {
            say(&line)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let text = if json {
        let items: Vec<serde_json::Value> = tenants
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.id,
                    "tenant_id": t.hex_id,
                    "name": t.name,
                    "inventory_ownership": t.inventory_ownership,
                })
            })
            .collect();
        view::json(&serde_json::json!({ "profile": msp.name.as_str(), "tenants": items }))
    } else {
        let mut out = String::new();
        for t in &tenants {
            let _ = writeln!(
                out,
                "{}\t{}\t{}",
                t.hex_id,
                terminal_safe(&t.name),
                terminal_safe(&t.inventory_ownership)
            );
        }
        out
    };
    print_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
