//! A closed stdout (`scalelab sim ... | head -1`) ends a command quietly, without a panic, with the
//! status a shell reports for a command ended by SIGPIPE: 128 + 13 = 141.

use std::process::{Command, Stdio};

mod process;

/// Runs `scalelab` with `args`, its stdout a pipe whose reading end was closed before it started, so
/// that its first write fails with EPIPE; returns its exit status and stderr.
fn with_stdout_closed(args: &[&str]) -> (std::process::ExitStatus, String) {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("scalelab runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_sim_and_cost_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let timeline = dir.path().join("timeline.csv");
    let report = dir.path().join("report.html");
    let sim = [
        "sim",
        "--policy",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/beanstalk-policy.yaml"
        ),
        "--stages",
        "10m:30000,8m:150000,30m:150000",
        "--start",
        "30000",
        "--per",
        "minute",
        "--cpu-per-load",
        "0.0008967",
        "--instance-type",
        "t3.micro",
        "--out",
        timeline.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    let cost = [
        "cost",
        "--instance-type",
        "t2.micro",
        "--fixed",
        "5",
        "--weeks",
        "48",
    ];
    for args in [&sim[..], &cost[..]] {
        // With a reader, each command prints (so the closed pipe below is really written to).
        let printed = process::stdout(&process::scalelab(args));
        assert!(printed.lines().count() > 5, "{printed}");
        let (status, stderr) = with_stdout_closed(args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(status.code(), Some(141), "{args:?}: {stderr}");
    }
}
