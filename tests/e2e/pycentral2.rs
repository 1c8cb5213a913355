//! pycentral 2.0a25 from PyPI on the chain (`central_auth_pycentral.new_central`):
//! 16 real `MSPBase` processes on one tenant after expiry cost 1 MSP mint and
//! 1 exchange; after Central killed every token, the tenant 401 makes each
//! provider report the rejection and take the fresh token (again 1 + 1 in
//! all); `NewCentralBase` on a tenant profile and on the MSP's unified
//! profile. pycentral itself never reaches a token endpoint.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use central_auth_e2e::*;

use crate::msp::msp_home;

const ACME: &str = "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0001";
const BOB: &str = "0c5e7d1a9b2f4c3d8e4f5a6b7c8d0002";

/// Runs `n` copies of `body` (after the provider's import and a barrier, so
/// they start together); returns their stdouts.
fn run_many(home: &TestHome, python: &std::path::Path, n: usize, body: &str) -> Vec<String> {
    let dir = home.path().join(format!("py-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ready = dir.join("ready");
    std::fs::create_dir_all(&ready).unwrap();
    let go = dir.join("go");
    let script = dir.join("script.py");
    std::fs::write(
        &script,
        format!(
            "import os, time\nfrom central_auth_pycentral.new_central import CentralAuthMSPBase, CentralAuthNewCentralBase\n\
             open(os.path.join({ready:?}, str(os.getpid())), 'w').close()\n\
             while not os.path.exists({go:?}):\n    time.sleep(0.01)\n{body}",
            ready = ready.display().to_string(),
            go = go.display().to_string(),
        ),
    )
    .unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let children: Vec<_> = (0..n)
        .map(|_| {
            let mut c = Command::new(python);
            home.apply_env(&mut c);
            c.current_dir(cwd.path())
                .env("PYTHONPATH", workspace().join("python"))
                .env("CENTRAL_AUTH_ANSIBLE", bin("central-auth-ansible"))
                .env("SIM", home.sim.url())
                .arg(&script)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let waiting = Instant::now();
    let mut children = children;
    while std::fs::read_dir(&ready).unwrap().count() < n {
        for c in children.iter_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                let mut err = String::new();
                let _ = std::io::Read::read_to_string(c.stderr.as_mut().unwrap(), &mut err);
                panic!("a python process exited before the start ({status}): {err}");
            }
        }
        assert!(
            waiting.elapsed().as_secs() < 120,
            "python processes did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::write(&go, "").unwrap();
    let outs: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
            text(&out.stdout).trim().to_owned()
        })
        .collect();
    assert!(
        tree(cwd.path()).is_empty(),
        "pycentral wrote files: {:?}",
        tree(cwd.path())
    );
    outs
}

#[test]
fn sixteen_pycentral2_msp_processes_cost_one_mint_and_one_exchange() {
    let Some(python) = venv_bin("pycentral2", "python") else {
        return;
    };
    let home = msp_home("");
    assert!(home.cli(&["token", "-p", "acme"]).status.success());
    home.expire_record("msp");
    home.expire_record("acme");
    home.sim.expire_access_tokens();
    let c0 = home.sim.counters();
    let body = format!(
        "msp = CentralAuthMSPBase(profile='msp', tenant_profiles={{'{ACME}': 'acme'}}, glp_base_url=os.environ['SIM'], log_level='ERROR')\n\
         t = msp.get_tenant_connection(tenant_workspace_id='{ACME}')\n\
         r = t.command('GET', 'network-monitoring/v1alpha1/devices')\n\
         print(r['code'], r['msg'].get('workspaceId'))\n"
    );
    let t = Instant::now();
    let outs = run_many(&home, &python, 16, &body);
    let first = t.elapsed();
    for o in &outs {
        assert_eq!(o, &format!("200 {ACME}"));
    }
    let c1 = home.sim.counters();
    let expired = (
        c1.msp_mints - c0.msp_mints,
        c1.token_exchanges - c0.token_exchanges,
    );
    assert_eq!(
        expired,
        (1, 1),
        "16 processes after expiry: 1 mint, 1 exchange"
    );
    // Central kills every token; the broker's clock still trusts them. Each
    // process's tenant call gets 401, reports it, and takes the fresh token.
    home.sim.expire_access_tokens();
    let t = Instant::now();
    let outs = run_many(&home, &python, 16, &body);
    let second = t.elapsed();
    for o in &outs {
        assert_eq!(o, &format!("200 {ACME}"));
    }
    let c2 = home.sim.counters();
    let rejected = (
        c2.msp_mints - c1.msp_mints,
        c2.token_exchanges - c1.token_exchanges,
    );
    assert_eq!(rejected, (1, 1), "16 tenant 401s: 1 fresh mint, 1 exchange");
    assert!(c2.glp_unauthorized - c1.glp_unauthorized >= 1);
    // NewCentralBase: a tenant profile, and the MSP's unified profile on GLP.
    let body = "b = CentralAuthNewCentralBase(profile='bob', log_level='ERROR')\n\
         r = b.command('GET', 'network-monitoring/v1alpha1/devices')\n\
         m = CentralAuthNewCentralBase(profile='msp', glp_base_url=os.environ['SIM'], log_level='ERROR')\n\
         l = m.command('GET', 'workspaces/v1/msp-tenants', app_name='glp', api_params={'limit': 5})\n\
         print(r['code'], r['msg'].get('workspaceId'), l['code'], l['msg']['total'])\n";
    let outs = run_many(&home, &python, 1, body);
    assert_eq!(outs[0], format!("200 {BOB} 200 5"));
    let _ = writeln!(
        std::io::stderr(),
        "figures: pycentral 2.0a25: 16 MSPBase processes after expiry: {} MSP mint, {} exchange ({} ms); after Central killed the tokens: {} mint, {} exchange, {} API 401s ({} ms)",
        expired.0,
        expired.1,
        first.as_millis(),
        rejected.0,
        rejected.1,
        c2.glp_unauthorized - c1.glp_unauthorized,
        second.as_millis()
    );
}
