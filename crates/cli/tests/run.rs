//! `scalelab run` as a real process: a plan without a target runs against the embedded service,
//! a failed threshold exits 99, a bad plan exits 104 naming file, line and field; the plans
//! `scalelab plan new` writes load.

use std::process::Command;

fn scalelab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_plan_without_target_runs_against_the_embedded_service() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "plan.yaml",
        "scenarios:\n  quick:\n    executor: constant-vus\n    vus: 2\n    duration: 1s\n    requests:\n      - {name: ping, path: /ping, checks: {status: 200}}\n      - {name: cpu, path: /heavy?ms=5}\nthresholds:\n  http_req_failed: [\"rate<0.01\"]\n",
    );
    let out = dir.path().join("out");
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("embedded stress service"));
    assert!(
        stdout.contains("GET ping") && stdout.contains("GET cpu"),
        "{stdout}"
    );
    assert!(stdout.contains("✓ http_req_failed rate<0.01"), "{stdout}");
    assert!(
        stdout.contains("percentiles as k6 computes them"),
        "the summary says which percentile it shows: {stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["failures"], 0);
    assert!(summary["totals"]["checks_passed"].as_u64().unwrap() > 0);
}

#[test]
fn a_failed_threshold_exits_99() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "plan.json",
        r#"{"vus": 1, "duration": "1s", "requests": [{"path": "/timeout?ms=20"}], "thresholds": {"http_req_duration": ["p(95)<1"]}}"#,
    );
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .arg("--quiet")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(99),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("✗ http_req_duration p(95)<1"));
}

#[test]
fn a_bad_plan_exits_104_with_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "bad.yaml",
        "scenarios:\n  ramp:\n    executor: ramping-vus\n    startVU: 1\n    stages: [{duration: 1s, target: 1}]\n    requests: [{path: /ping}]\n",
    );
    let output = scalelab().arg("run").arg(&plan).output().unwrap();
    assert_eq!(output.status.code(), Some(104));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.yaml:4:5")
            && stderr.contains("startVU")
            && stderr.contains("startVUs"),
        "{stderr}"
    );
}

/// A listener on loopback that accepts every connection and never answers; it lives as long as
/// the test process.
fn dead_server() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    addr
}

#[test]
fn a_dead_server_fails_the_run_and_reports_the_interrupted_requests() {
    let dir = tempfile::tempdir().unwrap();
    let addr = dead_server();
    let plan = write(
        dir.path(),
        "dead.yaml",
        &format!(
            "target: http://{addr}\nscenarios:\n  open:\n    executor: constant-arrival-rate\n    rate: 10\n    duration: 1s\n    preAllocatedVUs: 3\n    gracefulStop: 1s\n    requests: [{{name: users, path: /users/1}}]\nthresholds:\n  http_req_failed: [\"rate<0.01\"]\n  http_req_duration: [\"p(95)<100\"]\n  checks: [\"rate>0.9\"]\n"
        ),
    );
    let out = dir.path().join("out");
    // One loader thread, so the counts below do not depend on the cores: with T threads each
    // thread may start at least one VU (k6's maxVUs split by lane), 4 on 4 cores.
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .args(["--threads", "1", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // Nothing answered: the run fails with its own code, whatever the thresholds say.
    assert_eq!(output.status.code(), Some(111), "{stdout}");
    // 3 VUs take the first 3 of 11 arrivals (k6 starts one at 1.0 s too) and wait until the
    // graceful stop ends; 8 are dropped.
    // The 3 requests cut off in flight are counted apart and, as k6 drops them, in no other figure.
    assert!(
        stdout.contains(
            "nothing answered: none of 3 requests got a response (3 in flight when the run ended)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("0 requests, 0 failed"), "{stdout}");
    assert!(
        stdout.contains("3 requests in flight when the run ended"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 complete   3 interrupted   dropped 8"),
        "{stdout}"
    );
    assert!(
        stdout.contains("✗ http_req_failed rate<0.01 (no samples"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ checks rate>0.9 (no samples"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["interrupted_iterations"], 3);
    assert_eq!(summary["totals"]["interrupted_requests"], 3);
    assert_eq!(summary["errors_by_kind"], serde_json::json!({}));
    assert_eq!(
        summary["thresholds"][2]["observed"],
        serde_json::Value::Null
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("3 interrupted"), "the report says so too");
}

#[test]
fn quick_against_a_dead_server_reports_the_interrupted_requests() {
    let addr = dead_server();
    let output = scalelab()
        .args([
            "quick",
            &format!("http://{addr}/"),
            "-c",
            "2",
            "-z",
            "1s",
            "--quiet",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(111), "{stdout}");
    assert!(
        stdout.contains("2 requests in flight when the run ended"),
        "{stdout}"
    );
}

#[test]
fn off_a_terminal_the_banner_and_status_are_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "open.yaml",
        "scenarios:\n  open:\n    executor: constant-arrival-rate\n    rate: 10\n    duration: 3s\n    preAllocatedVUs: 2\n    gracefulStop: 1s\n    requests: [{path: /ping}]\nthresholds:\n  http_req_duration: [{threshold: \"max<0.001\", abortOnFail: true}]\n",
    );
    let out = dir.path().join("out");
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(99), "{stderr}");
    assert!(
        stderr.contains("scenarios: 1 scenario, 4s max duration (incl. graceful stop):")
            && stderr.contains(
                "* open: 10.00 iterations/s for 3s (maxVUs: 2-2) [constant-arrival-rate] (gracefulStop: 1s)"
            )
            && stderr.contains(&format!("output: {}", out.display())),
        "{stderr}"
    );
    // The status line shows the open model's target rate.
    assert!(stderr.contains("rate 10.0/s →"), "{stderr}");
    // No colour codes off a terminal, warnings included.
    assert!(
        stderr.contains("WARN") && !stderr.contains('\u{1b}'),
        "{stderr}"
    );
    // abortOnFail is recorded where it lasts, with the second it happened.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["stopped_early"]["reason"],
        "threshold http_req_duration max<0.001 failed (abortOnFail)"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("stopped early at "));
}

#[test]
fn plan_new_writes_a_plan_of_each_type_that_loads_with_its_shape() {
    use scalelab_load::plan::{Executor, LoadOptions, load_file};
    let dir = tempfile::tempdir().unwrap();
    // The peak of each type, in multiples of --rate (docs/plans.md).
    for (kind, peak) in [
        ("load", 1.0),
        ("stress", 2.0),
        ("spike", 5.0),
        ("soak", 1.0),
        ("breakpoint", 10.0),
        ("scalability", 5.0),
    ] {
        let file = dir.path().join(format!("{kind}.yaml"));
        let output = scalelab()
            .args([
                "plan",
                "new",
                "--type",
                kind,
                "--rate",
                "50",
                "--duration",
                "20s",
            ])
            .args(["--url", "http://127.0.0.1:9/api/items", "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let plan = load_file(&file, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.target.as_deref(), Some("http://127.0.0.1:9"), "{kind}");
        assert_eq!(plan.scenarios.len(), 1, "{kind}");
        let scenario = &plan.scenarios[0];
        let Executor::RampingArrivalRate {
            start_rate, stages, ..
        } = &scenario.executor
        else {
            panic!("{kind}: {:?}", scenario.executor)
        };
        let highest = stages.iter().map(|s| s.target).fold(*start_rate, f64::max);
        assert_eq!(highest, peak * 50.0, "{kind}: {stages:?}");
        let length: std::time::Duration = stages.iter().map(|s| s.duration).sum();
        assert_eq!(length.as_secs_f64(), 20.0, "{kind}: {stages:?}");
        let metrics: Vec<&str> = plan.thresholds.iter().map(|t| t.metric.as_str()).collect();
        assert_eq!(metrics, ["http_req_failed", "http_req_duration"], "{kind}");
        assert_eq!(
            plan.thresholds.iter().all(|t| t.abort_on_fail),
            kind == "breakpoint",
            "{kind}"
        );
    }
    // Without --out it writes TYPE.yaml where it runs, and never overwrites a file.
    let write = || {
        scalelab()
            .args([
                "plan",
                "new",
                "--type",
                "spike",
                "--rate",
                "5",
                "--duration",
                "1m",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    std::fs::remove_file(dir.path().join("spike.yaml")).unwrap();
    assert!(write().status.success());
    let written = std::fs::read_to_string(dir.path().join("spike.yaml")).unwrap();
    std::fs::write(dir.path().join("spike.yaml"), "edited").unwrap();
    let again = write();
    assert!(!again.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("spike.yaml")).unwrap(),
        "edited",
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(written.contains("ramping-arrival-rate"), "{written}");
}
