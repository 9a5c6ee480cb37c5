//! `scalelab demo`, the README's first command, as a real process: it runs its ~20 s ramp against
//! the embedded service, passes its thresholds, and writes every results file.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_demo_runs_passes_and_writes_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["demo", "--quiet", "--out"])
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // 20 s of plan and its graceful stop; generous for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(180);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the demo did not finish in 3 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("✓ http_req_failed rate<0.01"), "{stdout}");
    assert!(
        stdout.contains("✓ http_req_duration{name:ping} p(95)<250"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(
        summary["totals"]["requests"].as_u64().unwrap() > 0,
        "{summary}"
    );
    assert_eq!(summary["stopped_early"], serde_json::Value::Null);
    // The plan is 20 s long; the run lasts at least that.
    assert!(summary["duration_seconds"].as_f64().unwrap() >= 20.0);
    for file in ["timeseries.csv", "latency.hlog", "report.html"] {
        assert!(out.join(file).exists(), "{file}");
    }
}
