//! All four real tools at once against one expired profile: git (credential fill),
//! kubectl (exec plugin, against the fake HTTPS API server), Terraform (under
//! `central-auth exec`) and ansible-playbook (the lookup). The simulator must see
//! exactly one refresh, and every tool must have used the one new token.

use std::process::Command;
use std::sync::Barrier;

use central_auth_e2e::*;

use crate::ansible::Ansible;
use crate::git::{attr, fill, gits, helper_cmd};
use crate::kube::{exec_entry, Kube};
use crate::terraform::{terraform, TfDir};

#[test]
fn git_kubectl_terraform_and_ansible_at_once_refresh_once() {
    let (Some(tf), Some(g)) = (terraform(), gits().into_iter().next()) else {
        return;
    };
    let home = TestHome::new();
    let Some(k) = Kube::new(home, &exec_entry("client.authentication.k8s.io/v1")) else {
        return;
    };
    let home = &k.home;
    let Some(ansible) = Ansible::new(home) else {
        return;
    };
    ansible.install_dir(home);
    let tf_dir = TfDir::new(home);
    let init = tf_dir.terraform(home, &tf, &["init", "-input=false", "-no-color"]);
    assert!(init.status.success(), "{}", text(&init.stderr));

    // The stored access token is expired; its refresh token is live.
    home.import_download("test", 7300);
    assert_eq!(home.sim.counters().token_requests, 0);

    let barrier = Barrier::new(4);
    let (git_out, kube_out, tf_out, ansible_out) = std::thread::scope(|s| {
        let git = s.spawn(|| {
            barrier.wait();
            fill(
                home,
                &g,
                &helper_cmd("--profile test"),
                "protocol=http\nhost=127.0.0.1\n\n",
            )
        });
        let kube = s.spawn(|| {
            barrier.wait();
            k.kubectl(&["get", "--raw", "/version"])
        });
        let terraform = s.spawn(|| {
            let mut cmd: Command = tf_dir.exec_terraform(
                home,
                &tf,
                &["apply", "-auto-approve", "-input=false", "-no-color"],
            );
            barrier.wait();
            cmd.output().unwrap()
        });
        let play = s.spawn(|| {
            barrier.wait();
            ansible.play(home, "groups.yml", &[])
        });
        (
            git.join().unwrap(),
            kube.join().unwrap(),
            terraform.join().unwrap(),
            play.join().unwrap(),
        )
    });
    for (name, out) in [
        ("git", &git_out),
        ("kubectl", &kube_out),
        ("terraform", &tf_out),
        ("ansible-playbook", &ansible_out),
    ] {
        assert!(
            out.status.success(),
            "{name} failed: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    let c = home.sim.counters();
    assert_one_refresh(&c, "git, kubectl, terraform and ansible at once");

    let token = home.token("test");
    assert!(home.sim.access_token_valid(&token));
    assert_eq!(
        attr(&text(&git_out.stdout), "password"),
        Some(token.as_str())
    );
    k.assert_all_seen_with(&token);
    assert_eq!(ansible.recorded_sha(), sha256_hex(&token));
    let outputs = tf_dir.terraform(home, &tf, &["output", "-json"]);
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(outputs["token_sha"]["value"], sha256_hex(&token));
    let status = text(&home.cli(&["status"]).stdout);
    // Terraform ran under `central-auth exec`.
    for client in ["git", "kubectl", "exec", "ansible"] {
        assert!(status.contains(client), "status lists {client}: {status}");
    }
}
