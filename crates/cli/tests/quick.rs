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
    assert_eq!(summary["schema_version"], 3);
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

/// Requests the stress service has answered on `path`, from its own Prometheus metrics.
async fn answered(target: &str, path: &str) -> u64 {
    let text = reqwest::get(format!("{target}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with("http_requests_total{") && line.contains(path))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Starts a 60 s `quick` run, waits until the service has answered 20 of its requests, sends
/// `signal`, and checks that the run stopped with every file written, none left half-written, and
/// the stop recorded in summary.json.
async fn stopped_by(signal: Signal, name: &str) {
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
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered(&target.url(), "/timeout").await < 20 {
        assert!(Instant::now() < deadline, "the run sent nothing in 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop after {name}");
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
    assert_eq!(summary["stopped_early"]["reason"], name, "{summary}");
    let at = summary["stopped_early"]["at_seconds"].as_f64().unwrap();
    assert!(at > 0.0 && at <= summary["duration_seconds"].as_f64().unwrap());
    assert!(summary["duration_seconds"].as_f64().unwrap() < 60.0);
    let mut files: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "latency.hlog",
            "report.html",
            "summary.json",
            "timeseries.csv"
        ],
        "every file, and no *.tmp left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_run_and_still_writes_every_file() {
    stopped_by(Signal::SIGTERM, "SIGTERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_is_treated_like_sigterm() {
    stopped_by(Signal::SIGHUP, "SIGHUP").await;
}

#[test]
fn unwritable_outputs_are_refused_before_the_run_starts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    // Nothing listens on port 9: were the run to start, it would last 60 s.
    let quick = |extra: &[&std::ffi::OsStr]| {
        let started = Instant::now();
        let output = scalelab()
            .args(["quick", "http://127.0.0.1:9/", "-z", "60s", "--quiet"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(50),
            "the run started"
        );
        assert_eq!(output.status.code(), Some(1));
        assert!(output.stdout.is_empty(), "no summary: nothing ran");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let stderr = quick(&["--out".as_ref(), file.as_os_str()]);
    assert!(
        stderr.contains(&format!(
            "--out {}: {} is a file, not a directory",
            file.display(),
            file.display()
        )),
        "{stderr}"
    );
    let stderr = quick(&["--junit".as_ref(), dir.path().as_os_str()]);
    assert!(stderr.contains("is a directory, not a file"), "{stderr}");
    let under_a_file = file.join("junit.xml");
    let stderr = quick(&["--junit".as_ref(), under_a_file.as_os_str()]);
    assert!(
        stderr.contains(&format!("{} is a file, not a directory", file.display())),
        "{stderr}"
    );
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

#[test]
fn quick_refuses_values_no_run_could_honour() {
    for (args, expected) in [
        (
            vec!["ftp://127.0.0.1/x"],
            "'ftp://127.0.0.1/x' for '<URL>': must start with http:// or https://",
        ),
        (
            vec!["http://127.0.0.1:99999/"],
            "port '99999' is not from 1 to 65535",
        ),
        (
            vec!["http://127.0.0.1:9/", "-c", "0"],
            "'0' for '--connections <CONNECTIONS>'",
        ),
        (
            vec!["http://127.0.0.1:9/", "-q", "NaN"],
            "'NaN' for '--rate <RATE>'",
        ),
        (
            vec!["http://127.0.0.1:9/", "-q", "1e8"],
            "at most 1000000 per second",
        ),
        (
            vec!["http://127.0.0.1:9/", "-t", "0s"],
            "'0s' for '--timeout <TIMEOUT>': must be above 0",
        ),
        (
            vec!["http://127.0.0.1:9/", "-z", "0s"],
            "'0s' for '--duration <DURATION>'",
        ),
        (
            vec!["http://127.0.0.1:9/", "--threads", "0"],
            "'0' for '--threads <THREADS>'",
        ),
    ] {
        let output = scalelab().arg("quick").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        if args[0].starts_with("ftp") {
            assert_eq!(
                stderr.matches("ftp://").count(),
                1,
                "the URL once: {stderr}"
            );
        }
    }
}

/// A loopback HTTP/1.1 server that answers 200 to everything and keeps the first bytes of each
/// connection, for the test to read what was sent.
fn capturing_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let kept = kept.clone();
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                let mut first = true;
                while let Ok(read) = stream.read(&mut buffer) {
                    if read == 0 {
                        return;
                    }
                    if first {
                        kept.lock().unwrap().push(buffer[..read].to_vec());
                        first = false;
                    }
                    if stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn quick_summary(args: &[&str]) -> serde_json::Value {
    quick_summary_exiting(args, 0)
}

/// The summary of `quick ARGS`, which must exit with `code`.
fn quick_summary_exiting(args: &[&str], code: i32) -> serde_json::Value {
    let out = tempfile::tempdir().unwrap();
    let output = scalelab()
        .arg("quick")
        .args(args)
        .args(["--quiet", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    summary(out.path())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_flags_do_what_they_say() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    let ping = format!("{}/ping", target.url());
    // -n: exactly this many requests.
    let n = tokio::task::spawn_blocking({
        let ping = ping.clone();
        move || quick_summary(&[&ping, "-c", "3", "-n", "25"])
    })
    .await
    .unwrap();
    assert_eq!(n["totals"]["requests"], 25, "{n}");
    // -q: the open model, 20 arrivals per second for 1 s: every arrival sent or dropped.
    let q = tokio::task::spawn_blocking({
        let ping = ping.clone();
        move || quick_summary(&[&ping, "-c", "4", "-q", "20", "-z", "1s"])
    })
    .await
    .unwrap();
    assert_eq!(q["open_model"], true);
    let sent = q["totals"]["requests"].as_u64().unwrap();
    assert_eq!(
        sent + q["totals"]["dropped_iterations"].as_u64().unwrap(),
        20,
        "{q}"
    );

    // -m, -H, -d: the method, header and body are what the server receives.
    let (url, seen) = capturing_server();
    let body = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            quick_summary(&[
                &format!("{url}/orders"),
                "-c",
                "1",
                "-n",
                "2",
                "-m",
                "post",
                "-H",
                "X-Test: 42",
                "-d",
                "{\"sku\":7}",
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(body["endpoints"][0]["method"], "POST");
    let first = String::from_utf8_lossy(&seen.lock().unwrap()[0]).into_owned();
    assert!(first.starts_with("POST /orders HTTP/1.1\r\n"), "{first}");
    assert!(
        first.to_ascii_lowercase().contains("x-test: 42\r\n"),
        "{first}"
    );
    assert!(first.ends_with("\r\n\r\n{\"sku\":7}"), "{first}");

    // --http2 on plain HTTP: prior knowledge, the connection opens with the HTTP/2 preface.
    let (url, seen) = capturing_server();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_owned();
    tokio::task::spawn_blocking(move || {
        scalelab()
            .args([
                "quick", &url, "-c", "1", "-n", "1", "--http2", "-t", "2s", "--quiet", "--out",
            ])
            .arg(dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    // The server answers the preface in HTTP/1.1: the one request was sent and failed.
    let totals = &summary(out.path())["totals"];
    assert_eq!(
        (&totals["requests"], &totals["failures"]),
        (&1.into(), &1.into()),
        "{totals}"
    );
    assert!(
        seen.lock().unwrap()[0].starts_with(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        "the HTTP/2 connection preface"
    );

    // -t: a server that never answers times each request out after 300 ms; with no response at
    // all, the run fails (exit 111).
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}/", dead.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = dead.incoming().collect();
        drop(held);
    });
    let timed_out = tokio::task::spawn_blocking(move || {
        quick_summary_exiting(&[&dead_url, "-c", "1", "-n", "2", "-t", "300ms"], 111)
    })
    .await
    .unwrap();
    assert_eq!(
        timed_out["errors_by_kind"]["request_timeout"], 2,
        "{timed_out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_the_load_generator_limited_says_so() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    // 20 arrivals in 1 s over one connection to a 200 ms endpoint: the second arrival, due at
    // 50 ms, finds the connection still waiting for the first answer, and so do all after it.
    let url = format!("{}/timeout?ms=200", target.url());
    let output = tokio::task::spawn_blocking(move || {
        scalelab()
            .args([
                "quick",
                &url,
                "-c",
                "1",
                "-q",
                "20",
                "-z",
                "1s",
                "--quiet",
                "--threads",
                "1",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let caveat = stdout
        .lines()
        .find(|line| line.contains("the load generator was a limit: "))
        .unwrap_or_else(|| panic!("no caveat: {stdout}"));
    // Those still waiting when the 1 s ends are dropped, the others sent late.
    assert!(
        caveat.contains(" arrivals waited for a busy VU") && caveat.contains(" arrivals dropped"),
        "{caveat}"
    );
    assert!(
        stdout.contains("load generator...") && stdout.contains("could use (1 of "),
        "{stdout}"
    );
}
