//! A closed stdout (`scalelab sim ... | head -1`) ends a command quietly, without a panic, with the
//! status a shell reports for a command ended by SIGPIPE: 128 + 13 = 141. A closed stderr loses the
//! diagnostics only: the command goes on and exits as it would have.

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

/// Runs `scalelab` with `args` and `RUST_LOG=debug`, its stderr a pipe whose reading end was closed
/// before it started (every diagnostic, log line and live event fails with EPIPE), waiting at most
/// 60 s; returns its exit status.
fn with_stderr_closed(args: &[&str]) -> std::process::ExitStatus {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .env("RUST_LOG", "debug")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(writer))
        .spawn()
        .expect("scalelab runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} still running after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_closed_stderr_loses_the_diagnostics_not_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "groups:\n  - name: web\n    max: 2\n    healthcheck: {}\n",
    )
    .unwrap();
    // Replicas that exit at once: the start-up's live events, debug logs and its error all fail.
    let crashing = dir.path().join("crashing.yaml");
    std::fs::write(
        &crashing,
        "listen: 127.0.0.1:0\ngroups:\n  - {name: broken, command: [sh, -c, 'exit 3', '{port}'], max: 1, startup_grace: 1s}\n",
    )
    .unwrap();
    // A k6 script's console.log and its uncaught exception go to stderr from the loader threads.
    let script = dir.path().join("script.js");
    std::fs::write(
        &script,
        "export const options = { iterations: 2, vus: 1 };\n\
         export default function () { console.log('hello'); throw new Error('boom'); }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run_out = dir.path().join("run");
    let cases: [(&[&str], i32); 5] = [
        (
            &[
                "run",
                script.to_str().unwrap(),
                "--out",
                run_out.to_str().unwrap(),
            ],
            0,
        ),
        (&["cluster", bad.to_str().unwrap()], 104),
        (
            &[
                "cluster",
                crashing.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            1,
        ),
        (&["sim", "--stages", "1m:nonsense"], 1),
        (&["sim", "--no-such-option"], 2),
    ];
    for (args, code) in cases {
        // A panic exits 101, whatever it could not print.
        assert_eq!(with_stderr_closed(args).code(), Some(code), "{args:?}");
    }
    // The failed start-up still wrote its events, the debug logs and live lines lost.
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert!(events.contains(",exited,exit status: 3"), "{events}");
    assert!(run_out.join("summary.json").exists());
}
