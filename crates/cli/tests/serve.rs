//! `scalelab serve` as a real process: it prints its address, answers, and exits 0 on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    let (mut child, url) = start_serve(&["--mode", "sync", "--workers", "2"]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

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

/// Starts `scalelab serve ARGS` (PORT unset) and returns it with the URL its first line prints.
fn start_serve(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .arg("serve")
        .args(args)
        .env_remove("PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("scalelab starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    // Kept open: serve stops with 141 when its stdout is closed.
    child.stdout = Some(stdout.into_inner());
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_owned();
    (child, url)
}

#[test]
fn serve_without_a_port_picks_a_free_one_and_prints_it() {
    // Two at once: a fixed default port would be taken by the first.
    let (mut first, first_url) = start_serve(&[]);
    let (mut second, second_url) = start_serve(&[]);
    for child in [&mut first, &mut second] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    for url in [&first_url, &second_url] {
        let port: u16 = url
            .strip_prefix("http://127.0.0.1:")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no address printed: '{url}'"));
        assert_ne!(port, 0);
    }
    assert_ne!(first_url, second_url);
}

#[test]
fn a_port_in_use_says_how_to_choose_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(["serve", "--port", &port])
        .env_remove("PORT")
        .output()
        .expect("scalelab runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}"))
            && stderr.contains("choose another port with --port N (or PORT=N)"),
        "{stderr}"
    );
}
