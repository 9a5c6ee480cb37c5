//! `scalelab quick` as a real process against a stress service on loopback: results files,
//! summary figures, and a SIGTERM that still leaves complete results.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use scalelab_stress::TargetConfig;

fn scalelab() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scalelab"));
    command.stdin(Stdio::null());
    command
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_writes_results_and_prints_the_summary() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let url = format!("{}/ping", target.url());
    let output = tokio::task::spawn_blocking({
        let out = out.path().to_owned();
        move || {
            scalelab()
                .args(["quick", &url, "-c", "4", "-z", "1s", "--out"])
                .arg(&out)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = stdout(&output);
    assert!(
        text.contains("GET /ping") && text.contains("requests/s"),
        "{text}"
    );
    let summary = summary(out.path());
    assert_eq!(summary["schema_version"], 2);
    let requests = summary["totals"]["requests"].as_u64().unwrap();
    assert!(requests > 50, "{summary}");
    assert_eq!(summary["totals"]["failures"], 0);
    assert_eq!(summary["endpoints"][0]["outcome"], "200");
    let csv = std::fs::read_to_string(out.path().join("timeseries.csv")).unwrap();
    let counted: u64 = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(5).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, requests, "the time series adds up to the summary");
    assert!(
        std::fs::read_to_string(out.path().join("latency.hlog"))
            .unwrap()
            .contains("HISTFAA")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_run_and_still_writes_every_file() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let url = format!("{}/timeout?ms=50", target.url());
    let mut child = scalelab()
        .args(["quick", &url, "-c", "4", "-z", "60s", "--quiet", "--out"])
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        status.code(),
        Some(105),
        "k6's exit code for an external abort"
    );
    let summary = summary(out.path());
    assert!(
        summary["totals"]["requests"].as_u64().unwrap() >= 20,
        "{summary}"
    );
    assert!(summary["duration_seconds"].as_f64().unwrap() < 10.0);
    assert!(out.path().join("timeseries.csv").exists() && out.path().join("latency.hlog").exists());
}

#[test]
fn quick_refuses_a_bad_header() {
    let output = scalelab()
        .args(["quick", "http://127.0.0.1:9/", "-H", "no-colon", "-z", "1s"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("'no-colon' is not 'Name: value'"));
}
