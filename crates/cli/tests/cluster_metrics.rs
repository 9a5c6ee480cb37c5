//! `scalelab cluster --plan --metrics-addr`: one scrape of the one metrics server returns the run's
//! series and the cluster's gauges in one exposition (one `# EOF`), while the run is live.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const CLUSTER: &str = "listen: 127.0.0.1:0
groups:
  - {name: api, min: 1, max: 1, health_check: {interval: 200ms, healthy_threshold: 1}}
";

/// Long enough to be scraped on a loaded machine; the test stops it once it has seen what it needs.
const PLAN: &str = "scenarios:
  load:
    executor: constant-arrival-rate
    rate: 20
    duration: 5m
    preAllocatedVUs: 4
    requests: [{path: /ping}]
";

/// The body of `GET /metrics` at `addr` (host:port), or `None` if it cannot be fetched yet.
fn scrape(addr: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET /metrics HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let (head, body) = answer.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200").then(|| body.to_string())
}

/// The value of the series written exactly as `series`.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn one_scrape_serves_the_run_and_the_cluster_in_one_exposition() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, plan) = (
        dir.path().join("cluster.yaml"),
        dir.path().join("plan.yaml"),
    );
    std::fs::write(&cluster, CLUSTER).unwrap();
    std::fs::write(&plan, PLAN).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .arg("cluster")
        .arg(&cluster)
        .arg("--plan")
        .arg(&plan)
        .args(["--metrics-addr", "127.0.0.1:0", "--quiet", "--tail", "0s"])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let addr = loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| panic!("no metrics address in:\n{}", seen.join("\n")));
        if let Some(url) = line.strip_prefix("metrics: http://") {
            break url.trim_end_matches("/metrics").to_string();
        }
        seen.push(line);
    };

    // Both parts advance once per second: wait until each shows requests.
    let run = r#"scalelab_http_requests_total{scenario="load",name="GET /ping",status="200"}"#;
    let lb = r#"scalelab_cluster_lb_requests_total{group="api"}"#;
    let text = loop {
        let text = scrape(&addr).unwrap_or_default();
        if value(&text, run).is_some_and(|n| n > 0.0) && value(&text, lb).is_some_and(|n| n > 0.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "after 120 s:\n{text}");
        std::thread::sleep(Duration::from_millis(200));
    };
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    child.wait().unwrap();

    assert_eq!(
        value(
            &text,
            r#"scalelab_cluster_replicas{group="api",phase="in_service"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(&text, r#"scalelab_cluster_desired_replicas{group="api"}"#),
        Some(1.0)
    );
    assert!(value(&text, "scalelab_vus").is_some(), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}
