//! `scalelab capacity` as a real process against a stress service on loopback, then `scalelab sim
//! --capacity` on the model it wrote.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use scalelab_stress::TargetConfig;

fn scalelab() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scalelab"));
    command.stdin(Stdio::null());
    command
}

/// `scalelab serve` as its own process, so the CPU its /metrics reports is the service's alone (not
/// this test process's, where other tests run too); killed when dropped.
struct Service {
    child: std::process::Child,
    url: String,
}

impl Service {
    fn start() -> Self {
        let mut child = scalelab()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .find_map(|line| {
                line.ok()?
                    .strip_prefix("scalelab stress service listening on ")
                    .map(str::to_owned)
            })
            .expect("the service prints its address");
        Self { child, url }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_measured_model_drives_the_simulator() {
    let target = tokio::task::spawn_blocking(Service::start).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let url = format!("{}/heavy?ms=30", target.url);
    let metrics = format!("{}/metrics", target.url);
    let dir = out.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        scalelab()
            .args(["capacity", &url, "--metrics-url", &metrics, "--vcpus", "1"])
            .args(["--start", "2", "--factor", "1.5", "--max-rate", "5"])
            .args(["--step", "4s"])
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("max sustainable rate"), "{text}");
    let model = scalelab_capacity::CapacityFile::from_yaml(
        &std::fs::read_to_string(out.path().join("capacity.yaml")).unwrap(),
    )
    .unwrap();
    // 30 ms of CPU per request (thread CPU time, exact whatever the contention), measured in the
    // service's own process. Three short steps of a debug build: within 20 % here, as this test is
    // about the pipeline; crates/probe/tests/cpu.rs holds the fit itself to 10 %.
    assert!(
        (model.cpu.cpu_seconds_per_request - 0.030).abs() <= 0.006,
        "{model:?}"
    );
    let steps = std::fs::read_to_string(out.path().join("steps.csv")).unwrap();
    // A header and at least the two steps a fit needs.
    assert!(steps.lines().count() > 2, "{steps}");
    let report = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(report.contains("CPU against load") && report.contains("data-series=\"fit: "));

    // 10 req/s per instance at 30 ms each is 30 % of one vCPU (plus the idle CPU).
    let sim = scalelab()
        .args(["sim", "--policy", "../../examples/beanstalk-policy.yaml"])
        .args(["--stages", "10m:10", "--start", "10", "--capacity"])
        .arg(out.path().join("capacity.yaml"))
        .arg("--out")
        .arg(out.path().join("timeline.csv"))
        .arg("--report")
        .arg(out.path().join("sim-report.html"))
        .output()
        .unwrap();
    let sim_text = String::from_utf8_lossy(&sim.stdout);
    assert!(
        sim.status.success(),
        "{sim_text}{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let expected = model.cpu.coefficient * 10.0 + model.cpu.base;
    let max_cpu: f64 = sim_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("max CPU per instance"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no max CPU in {sim_text}"));
    assert!(
        (max_cpu - expected).abs() < 0.051,
        "{max_cpu} vs {expected}: {sim_text}"
    );
    drop(target);
}

/// `--pid`: the server's CPU and memory from `/proc/PID`, the machine's CPU from `/proc/stat`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pid_is_read_from_proc() {
    let target = tokio::task::spawn_blocking(Service::start).await.unwrap();
    let out = tempfile::tempdir().unwrap();
    let url = format!("{}/heavy?ms=30", target.url);
    let pid = target.child.id().to_string();
    let dir = out.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        scalelab()
            .args(["capacity", &url, "--pid", &pid, "--vcpus", "1"])
            .args(["--start", "2", "--factor", "1.5", "--max-rate", "5"])
            .args(["--step", "4s"])
            .arg("--out")
            .arg(&dir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Every step has the server's CPU and memory and the machine's CPU, whether it kept up or not
    // (a busy machine fails steps on latency, and without two kept up there is no model).
    let steps = std::fs::read_to_string(out.path().join("steps.csv")).unwrap();
    let mut lines = steps.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let value = |row: &[&str], name: &str| -> f64 {
        row[column(name)]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {steps}"))
    };
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(',').collect()).collect();
    assert!(rows.len() >= 2, "{steps}");
    for row in &rows {
        for name in ["machine_cpu_percent", "memory_mib"] {
            assert!(value(row, name) > 0.0, "{name}: {steps}");
        }
        // 30 ms of CPU per request, read from /proc/PID/stat (CPU time, exact whatever the
        // contention), plus the idle service's share (about 1 % of the vCPU, 5 ms a request at
        // 2/s): between 24 and 45 ms a request. The machine's CPU would give hundreds.
        let per_request = value(row, "cpu_percent") / 100.0 / value(row, "requests_rps");
        assert!(
            (0.024..=0.045).contains(&per_request),
            "{per_request}: {steps}"
        );
    }
    drop(target);
}

#[test]
fn an_unreachable_server_gets_a_clear_message_and_no_model() {
    let out = tempfile::tempdir().unwrap();
    let output = scalelab()
        .args(["capacity", "http://127.0.0.1:1/", "--step", "2s", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no capacity measured") && stderr.contains("connection_refused"),
        "{stderr}"
    );
    assert!(!out.path().join("capacity.yaml").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_the_staircase_and_writes_what_was_measured() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let url = format!("{}/ping", target.url());
    let mut child = scalelab()
        .args([
            "capacity",
            &url,
            "--step",
            "2s",
            "--max-rate",
            "40",
            "--start",
            "5",
        ])
        .arg("--out")
        .arg(out.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first step's line, then interrupt; stderr is read to its end meanwhile.
    let stderr = child.stderr.take().unwrap();
    let (first_step, seen) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with("step  1") {
                let _ = first_step.send(());
            }
        }
    });
    seen.recv_timeout(Duration::from_secs(30))
        .expect("the first step completes");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop after Ctrl-C");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(105));
    let steps = std::fs::read_to_string(out.path().join("steps.csv")).unwrap();
    assert!(steps.lines().count() >= 2, "{steps}");
    let json = std::fs::read_to_string(out.path().join("capacity.json")).unwrap();
    assert!(json.contains("\"ended\": \"interrupted\""), "{json}");
    target.shutdown().await.unwrap();
}

/// A loopback server that accepts connections and never answers; each accepted connection is handed
/// over the channel (and so kept open) as it comes.
fn silent_server() -> (String, std::sync::mpsc::Receiver<std::net::TcpStream>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    let (accepted, connections) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8).map_while(Result::ok) {
            if accepted.send(stream).is_err() {
                return;
            }
        }
    });
    (url, connections)
}

/// Waits up to 60 s for `child` to exit, then kills it and fails; returns its status and stderr.
fn exit_of(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn a_metrics_url_that_never_answers_times_out_and_ctrl_c_ends_the_wait() {
    let (metrics, connections) = silent_server();
    let out = tempfile::tempdir().unwrap();
    let capacity = || {
        scalelab()
            .args(["capacity", "http://127.0.0.1:1/", "--metrics-url", &metrics])
            .arg("--out")
            .arg(out.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (status, stderr) = exit_of(capacity());
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot fetch {metrics}: no answer within 5s")),
        "{stderr}"
    );

    // Interrupted while it waits for the answer (the connection is open): exit 105 at once, not the
    // timeout's error after it.
    let child = capacity();
    let _open = connections
        .recv_timeout(Duration::from_secs(30))
        .and_then(|_| connections.recv_timeout(Duration::from_secs(30)))
        .expect("the second run connects");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let (status, stderr) = exit_of(child);
    assert_eq!(status.code(), Some(105), "{stderr}");
    assert!(
        stderr.contains("interrupted before the first step"),
        "{stderr}"
    );
    assert!(!out.path().join("capacity.json").exists());
}

#[test]
fn fit_writes_the_model_of_a_run_and_its_cpu_series() {
    let out = tempfile::tempdir().unwrap();
    let model = out.path().join("capacity.yaml");
    let fixtures = "../probe/tests/fixtures";
    let output = scalelab()
        .args(["fit", &format!("{fixtures}/run"), "--cpu"])
        .arg(format!("{fixtures}/cpu-cloudwatch.json"))
        .args(["--vcpus", "2", "--out"])
        .arg(&model)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("4 CPU datapoints of CloudWatch"), "{text}");
    // The fixtures are CPU % = 0.5 × requests/s + 3 (see their README).
    let file =
        scalelab_capacity::CapacityFile::from_yaml(&std::fs::read_to_string(&model).unwrap())
            .unwrap();
    assert!((file.cpu.coefficient - 0.5).abs() < 1e-9 && (file.cpu.base - 3.0).abs() < 1e-9);

    let empty = out.path().join("empty.csv");
    std::fs::write(&empty, "timestamp,value\n").unwrap();
    let output = scalelab()
        .args(["fit", &format!("{fixtures}/run"), "--vcpus", "2", "--cpu"])
        .arg(&empty)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("empty.csv") && stderr.contains("no data points"),
        "{stderr}"
    );
}
