//! `scalelab k8s` and `k8s collect` as a newcomer meets them: a plan without a target is warned
//! about, and collect shows what it waits for and what kubectl (here a shell script first on PATH)
//! says when it fails.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn scalelab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `scalelab k8s collect` with `script` as the `kubectl` found first on PATH.
fn collect_with(dir: &Path, script: &str, timeout: &str) -> Output {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let kubectl = bin.join("kubectl");
    std::fs::write(&kubectl, script).unwrap();
    std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    scalelab()
        .args(["k8s", "collect", "--parallelism", "2", "--timeout", timeout])
        .arg("--out")
        .arg(dir.join("results"))
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn collect_shows_kubectls_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = collect_with(
        dir.path(),
        "#!/bin/sh\necho 'The connection to the server 10.0.0.1:6443 was refused' >&2\nexit 1\n",
        "1h",
    );
    let stderr = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("kubectl get pods -n default -l job-name=scalelab")
            && stderr.contains("The connection to the server 10.0.0.1:6443 was refused"),
        "{stderr}"
    );
}

#[test]
fn collect_says_what_it_waits_for() {
    let dir = tempfile::tempdir().unwrap();
    // A running pod whose run has not finished: `test -e /results/done` fails.
    let output = collect_with(
        dir.path(),
        "#!/bin/sh\ncase \"$1\" in\n  get) echo scalelab-0-abcde ;;\n  *) exit 1 ;;\nesac\n",
        "0s",
    );
    let stderr = stderr(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("shard 0 of 2: pod scalelab-0-abcde running, waiting for /results/done")
            && stderr.contains("shard 0 has not finished")
            && stderr.contains("within 0s (--timeout)"),
        "{stderr}"
    );
}

#[test]
fn collect_states_its_default_wait() {
    let output = scalelab()
        .args(["k8s", "collect", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("[default: 5m]"), "{help}");
}

#[test]
fn rendering_a_plan_without_a_target_warns_that_each_pod_would_load_itself() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    let render = |plan_text: &str, target: Option<&str>| {
        std::fs::write(&plan, plan_text).unwrap();
        let mut command = scalelab();
        command.args(["k8s", "--parallelism", "2"]).arg(&plan);
        if let Some(target) = target {
            command.args(["--target", target]);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        stderr(&output)
    };
    let untargeted = "vus: 2\nduration: 10s\nrequests: [{path: /ping}]\n";
    let warning = "names no target and --target is not given: each pod would load the embedded \
                   stress service inside itself";
    assert!(render(untargeted, None).contains(warning));
    assert!(!render(untargeted, Some("http://shop.load.svc")).contains(warning));
    let targeted = format!("target: http://shop.load.svc\n{untargeted}");
    assert!(!render(&targeted, None).contains(warning));
}
