//! `scalelab serve` as a real process: it prints its address, answers, and exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--mode",
            "sync",
            "--workers",
            "2",
        ])
        .env_remove("PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("scalelab starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        reqwest::get(format!("{url}/ping"))
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);

    kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn serve_rejects_a_bad_duration_with_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["serve", "--grace", "soon"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--grace") && stderr.contains("soon"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_caps_and_timeouts_out_of_range() {
    for (option, value, expected) in [
        (
            "--cpu-cap",
            "150",
            "CPU cap must be above 0 and at most 100",
        ),
        ("--cpu-cap", "0", "CPU cap must be above 0 and at most 100"),
        ("--header-timeout", "0s", "header timeout must be above 0"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
            .args(["serve", "--listen", "127.0.0.1:0", option, value])
            .env_remove("PORT")
            .output()
            .expect("scalelab runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{option} {value} was accepted");
        assert!(stderr.contains(expected), "{option} {value}: {stderr}");
    }
}
