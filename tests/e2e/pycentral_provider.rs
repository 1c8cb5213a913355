//! The pycentral provider (`python/central_auth_pycentral`): the example of
//! docs/pycentral.md, run by 16 real pycentral 1.4.3 processes right after
//! Central killed the access token, costs exactly one refresh.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use central_auth_e2e::*;

/// The python block of docs/pycentral.md.
fn doc_example() -> String {
    let doc = std::fs::read_to_string(workspace().join("docs/pycentral.md")).unwrap();
    let start = doc.find("```python\n").expect("python example") + "```python\n".len();
    let len = doc[start..].find("```").unwrap();
    doc[start..start + len].to_owned()
}

#[test]
fn sixteen_pycentral_processes_after_expiry_cost_one_refresh() {
    let Some(python) = venv_bin("pycentral", "python") else {
        return;
    };
    let example = doc_example();
    assert!(example.lines().filter(|l| !l.trim().is_empty()).count() <= 5);
    let shipped = std::fs::read(workspace().join("python/central_auth_pycentral/__init__.py"));
    let in_collection = std::fs::read(
        workspace()
            .join("ansible/central_auth/central/plugins/module_utils/central_auth_pycentral.py"),
    );
    assert_eq!(
        shipped.unwrap(),
        in_collection.unwrap(),
        "the collection's module_utils copy matches python/"
    );

    let home = TestHome::with(
        sim_with(7200),
        &[ProfileOpts {
            name: "prod".into(),
            ..ProfileOpts::default()
        }],
    );
    let download = home.import_download("prod", 0);
    // The example, held after its imports until every process is ready, so all
    // 16 take the token Central killed at the same moment.
    let go = home.path().join("go");
    let (imports, rest) = example.split_once("\n\n").unwrap();
    let ready = home.path().join("ready");
    std::fs::create_dir(&ready).unwrap();
    let barrier = format!(
        "import os, time\nopen(os.path.join({:?}, str(os.getpid())), 'w').close()\nwhile not os.path.exists({:?}):\n    time.sleep(0.01)\n",
        ready.display().to_string(),
        go.display().to_string()
    );
    let script = home.path().join("example.py");
    std::fs::write(&script, format!("{imports}\n{barrier}\n{rest}")).unwrap();
    let cwd = tempfile::tempdir().unwrap();
    home.sim.expire_access_tokens();

    let started = Instant::now();
    let children: Vec<_> = (0..16)
        .map(|_| {
            let mut c = Command::new(&python);
            home.apply_env(&mut c);
            c.current_dir(cwd.path())
                .env("PYTHONPATH", workspace().join("python"))
                .env("CENTRAL_AUTH_ANSIBLE", bin("central-auth-ansible"))
                .arg(&script)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Release them together once all 16 have imported pycentral.
    let waiting = Instant::now();
    while std::fs::read_dir(&ready).unwrap().count() < 16 {
        assert!(
            waiting.elapsed().as_secs() < 120,
            "pycentral processes did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::fs::write(&go, "").unwrap();
    let outs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let took = started.elapsed();
    for out in &outs {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(text(&out.stdout).trim(), "200", "{}", text(&out.stderr));
    }
    let c = home.sim.counters();
    assert_eq!(
        (c.refresh, c.refresh_rejected, c.login, c.code_exchange),
        (1, 0, 0, 0),
        "exactly one refresh, no rejected refresh, no login"
    );
    let token = home.token("prod");
    assert!(home.sim.access_token_valid(&token));
    assert_ne!(token, download["access_token"].as_str().unwrap());
    // pycentral wrote no token file of its own.
    assert!(tree(cwd.path()).is_empty(), "{:?}", tree(cwd.path()));
    let _ = writeln!(
        std::io::stderr(),
        "figures: pycentral provider: 16 pycentral 1.4.3 processes after expiry: {} refresh, {} rejected, {} logins, {} API 401s, all 200 in {} ms",
        c.refresh,
        c.refresh_rejected,
        c.login,
        c.api_unauthorized,
        took.as_millis()
    );
}
