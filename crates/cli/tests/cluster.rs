//! The live cluster with real `scalelab serve` replicas on loopback: load balancing, path routing,
//! self-healing after `kill -9`, custom commands, CPU target tracking out and back in, and the
//! `cluster` command.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use scalelab_cluster::{Cluster, ClusterConfig, ClusterOptions, EventKind, GroupStatus};

async fn start(yaml: &str) -> Cluster {
    let config = ClusterConfig::from_yaml(yaml).unwrap();
    let options = ClusterOptions {
        serve_program: PathBuf::from(env!("CARGO_BIN_EXE_scalelab")),
        out: None,
        offered_load: None,
        metrics_addr: None,
        live: true,
        interrupt: Default::default(),
    };
    Cluster::start(config, options).await.unwrap()
}

/// Requests answered by each replica of `group`, by replica id.
fn answered(statuses: &[GroupStatus], group: &str) -> BTreeMap<u64, u64> {
    let status = statuses.iter().find(|s| s.name == group).unwrap();
    status.replicas.iter().map(|r| (r.id, r.requests)).collect()
}

async fn get(client: &reqwest::Client, url: &str) -> u16 {
    client
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

const FAST_CHECKS: &str =
    "{interval: 200ms, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 2}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_robin_spreads_evenly_and_path_rules_split_the_groups() {
    let mut cluster = start(&format!(
        "listen: 127.0.0.1:0
groups:
  - {{name: one, min: 3, max: 3, health_check: {FAST_CHECKS}}}
  - {{name: two, min: 2, max: 2, health_check: {FAST_CHECKS}}}
rules:
  - {{path: /cluster1, group: one, strip_prefix: true}}
  - {{path: /cluster2, group: two, strip_prefix: true}}
"
    ))
    .await;
    let client = reqwest::Client::new();
    for _ in 0..300 {
        assert_eq!(
            get(&client, &format!("{}/cluster1/ping", cluster.url())).await,
            200
        );
    }
    for _ in 0..100 {
        assert_eq!(
            get(&client, &format!("{}/cluster2/ping", cluster.url())).await,
            200
        );
    }
    // No rule matches: the default group (the first) answers, unstripped (404 from the replica).
    assert_eq!(
        get(&client, &format!("{}/ping/x", cluster.url())).await,
        404
    );
    let statuses = cluster.next_second().await;
    let one = answered(&statuses, "one");
    let two = answered(&statuses, "two");
    eprintln!("round robin: one {one:?}, two {two:?}");
    assert_eq!(one.values().sum::<u64>(), 301);
    assert!(one.values().all(|&n| (100..=101).contains(&n)), "{one:?}");
    assert_eq!(two.values().sum::<u64>(), 100);
    assert!(two.values().all(|&n| n == 50), "{two:?}");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_outstanding_requests_avoid_a_replica_stuck_on_a_slow_request() {
    let mut cluster = start(&format!(
        "listen: 127.0.0.1:0
groups:
  - name: sync
    serve: --mode sync --workers 1
    algorithm: least_outstanding_requests
    min: 2
    max: 2
    stop_grace: 1s
    health_check: {FAST_CHECKS}
"
    ))
    .await;
    let client = reqwest::Client::new();
    // A request that holds one replica's only worker for far longer than the test runs.
    let slow = tokio::spawn({
        let (client, url) = (
            client.clone(),
            format!("{}/timeout?ms=60000", cluster.url()),
        );
        async move { get(&client, &url).await }
    });
    let mut busy = None;
    for _ in 0..30 {
        let status = cluster.next_second().await;
        busy = status[0]
            .replicas
            .iter()
            .find(|r| r.in_flight == 1)
            .map(|r| r.id);
        if busy.is_some() {
            break;
        }
    }
    let busy = busy.expect("the slow request is in flight on a replica");
    for _ in 0..20 {
        assert_eq!(get(&client, &format!("{}/ping", cluster.url())).await, 200);
    }
    let counts = answered(&cluster.next_second().await, "sync");
    eprintln!("least outstanding: {counts:?}");
    // The replica busy with the slow request got nothing else; the other got all 20.
    assert_eq!(counts[&busy], 0, "{counts:?}");
    assert_eq!(counts.values().sum::<u64>(), 20, "{counts:?}");
    slow.abort();
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_with_sigkill_is_replaced_and_almost_no_request_fails() {
    let mut cluster = start(&format!(
        "listen: 127.0.0.1:0
groups:
  - {{name: web, min: 3, max: 3, startup_grace: 20s, health_check: {FAST_CHECKS}}}
"
    ))
    .await;
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let running = Arc::new(AtomicBool::new(true));
    let client = reqwest::Client::new();
    let mut loaders = Vec::new();
    for _ in 0..4 {
        let (client, url) = (client.clone(), format!("{}/ping", cluster.url()));
        let (sent, failed, running) = (sent.clone(), failed.clone(), running.clone());
        loaders.push(tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                if get(&client, &url).await != 200 {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                sent.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let before = cluster.next_second().await;
    let victim = before[0].replicas[0].clone();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(victim.pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Wait (boundedly) until three replicas are in service again, none of them the victim.
    let mut healed = false;
    for _ in 0..30 {
        let status = cluster.next_second().await;
        let web = &status[0];
        if web.in_service == 3 && web.replicas.iter().all(|r| r.id != victim.id) {
            healed = true;
            break;
        }
    }
    // Constant load a little longer on the healed group.
    for _ in 0..2 {
        cluster.next_second().await;
    }
    running.store(false, Ordering::Relaxed);
    for loader in loaders {
        loader.await.unwrap();
    }
    let (sent, failed) = (sent.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    let events = cluster.events();
    cluster.shutdown().await;
    let rate = failed as f64 / sent as f64 * 100.0;
    eprintln!("kill -9: {failed} of {sent} requests failed ({rate:.3} %)");
    assert!(healed, "{events:#?}");
    assert!(sent > 200, "{sent}");
    assert!(rate < 1.0, "{failed} of {sent} failed");
    let about = |kind| {
        events
            .iter()
            .any(|e| e.kind == kind && e.replica == Some(victim.id))
    };
    assert!(about(EventKind::Replace), "{events:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpu_target_tracking_scales_sync_replicas_out_under_heavy_load_and_back_in() {
    // A target of 10 %: the lone busy sync worker passes it even on a machine so loaded that it gets
    // a quarter of a core (seen at load 14 on 2 cores), and the idle replicas fall below 9 %.
    let mut cluster = start(&format!(
        "listen: 127.0.0.1:0
groups:
  - name: api
    serve: --mode sync --workers 1
    min: 1
    max: 3
    vcpus: 1
    health_check: {FAST_CHECKS}
    deregistration_delay: 1s
    stop_grace: 2s
    policy:
      target_tracking: {{metric: cpu, target: 10, period: 1s, warmup: 1s}}
"
    ))
    .await;
    let running = Arc::new(AtomicBool::new(true));
    let client = reqwest::Client::new();
    let mut loaders = Vec::new();
    for _ in 0..3 {
        let (client, url) = (client.clone(), format!("{}/heavy?ms=50", cluster.url()));
        let running = running.clone();
        loaders.push(tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                get(&client, &url).await;
            }
        }));
    }
    let mut timeline = Vec::new();
    let mut record = |status: &GroupStatus| {
        timeline.push((status.in_service, status.desired, status.cpu_avg));
    };
    // Under load: wait (boundedly) for a scale-out to reach service.
    let mut scaled_out = false;
    for _ in 0..30 {
        let status = cluster.next_second().await;
        record(&status[0]);
        if status[0].in_service >= 2 {
            scaled_out = true;
            break;
        }
    }
    for _ in 0..3 {
        record(&cluster.next_second().await[0]);
    }
    running.store(false, Ordering::Relaxed);
    for loader in loaders {
        loader.await.unwrap();
    }
    // Idle: 15 one-second datapoints below 90 % of the target, then back to min.
    let mut scaled_in = false;
    for _ in 0..40 {
        let status = cluster.next_second().await;
        record(&status[0]);
        if status[0].in_service == 1 && status[0].draining == 0 {
            scaled_in = true;
            break;
        }
    }
    let events = cluster.events();
    cluster.shutdown().await;
    let replicas: Vec<String> = timeline
        .iter()
        .map(|(in_service, desired, cpu)| {
            format!("{in_service}/{desired}@{:.0}%", cpu.unwrap_or(0.0))
        })
        .collect();
    eprintln!("in service/desired@cpu per second: {}", replicas.join(" "));
    assert!(scaled_out && scaled_in, "{replicas:?}\n{events:#?}");
    let reasons: Vec<&str> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ScaleOut | EventKind::ScaleIn))
        .map(|e| e.detail.as_str())
        .collect();
    eprintln!("decisions: {reasons:#?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("target_tracking[0]: cpu"))
    );
    assert!(events.iter().any(|e| e.kind == EventKind::Drain));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_balancer_answers_504_502_and_503_as_an_alb_does_and_counts_each() {
    let mut cluster = start(
        "listen: 127.0.0.1:0
groups:
  - name: lone
    min: 1
    max: 1
    backend_timeout: 300ms
    health_check: {interval: 200ms, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 2}
",
    )
    .await;
    let client = reqwest::Client::new();
    let base = cluster.url();
    let url = |path: &str| format!("{base}{path}");
    assert_eq!(get(&client, &url("/timeout?ms=2000")).await, 504);
    let first = cluster.next_second().await[0].clone();
    let lone = first.replicas[0].clone();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(lone.pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    for _ in 0..300 {
        if !alive(lone.pid) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!alive(lone.pid));
    // The dead backend's pooled connection is closed (502), a new one is refused with no other
    // backend to retry on (502), then it is out of rotation: nothing healthy (503). Health checks and
    // the controller may take it out first, so a 502 may not be seen here (the balancer's own tests
    // see it every time); whatever is answered must be counted.
    let mut seen = Vec::new();
    for _ in 0..10 {
        seen.push(get(&client, &url("/ping")).await);
        if seen.last() == Some(&503) {
            break;
        }
    }
    assert!(
        seen.last() == Some(&503) && seen.iter().all(|s| [502, 503].contains(s)),
        "{seen:?}: 502 while the dead backend is in rotation, then 503"
    );
    let mut replaced = false;
    for _ in 0..30 {
        let status = &cluster.next_second().await[0];
        if status.in_service == 1 && status.replicas[0].id != lone.id {
            replaced = true;
            break;
        }
    }
    assert!(replaced, "{:#?}", cluster.events());
    assert_eq!(get(&client, &url("/ping")).await, 200);
    // The counters since the start, as Prometheus reads them, once the last second is counted.
    let expected =
        |code: u16| seen.iter().filter(|&&s| s == code).count() + usize::from(code == 504);
    let mut counted = Vec::new();
    for _ in 0..5 {
        cluster.next_second().await;
        let text = cluster.exposition().render();
        counted = [504u16, 502, 503]
            .map(|code| {
                let series = format!(
                    "scalelab_cluster_lb_errors_total{{group=\"lone\",status=\"{code}\"}} "
                );
                text.lines()
                    .find_map(|line| line.strip_prefix(series.as_str())?.parse::<usize>().ok())
                    .unwrap_or(0)
            })
            .to_vec();
        if counted == [504, 502, 503].map(expected) {
            break;
        }
    }
    cluster.shutdown().await;
    assert_eq!(
        counted,
        [504, 502, 503].map(expected),
        "504, 502, 503 counted as answered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_request_is_a_bad_gateway_for_the_request_it_held() {
    let mut cluster = start(&format!(
        "listen: 127.0.0.1:0
groups:
  - {{name: lone, min: 1, max: 1, health_check: {FAST_CHECKS}}}
"
    ))
    .await;
    let client = reqwest::Client::new();
    let slow = tokio::spawn({
        let (client, url) = (
            client.clone(),
            format!("{}/timeout?ms=60000", cluster.url()),
        );
        async move {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    });
    let mut holder = None;
    for _ in 0..30 {
        let status = cluster.next_second().await;
        holder = status[0]
            .replicas
            .iter()
            .find(|r| r.in_flight == 1)
            .cloned();
        if holder.is_some() {
            break;
        }
    }
    let holder = holder.expect("the slow request is in flight on the replica");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder.pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let (status, body) = tokio::time::timeout(Duration::from_secs(30), slow)
        .await
        .expect("the held request is answered once its replica dies")
        .unwrap();
    cluster.shutdown().await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("the backend closed the connection"), "{body}");
}

fn scalelab() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_scalelab"))
}

/// Whether process `pid` still exists (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| !stat.contains(") Z "))
}

/// Process ids in `replicas.csv`.
fn replica_pids(dir: &std::path::Path) -> Vec<u32> {
    let text = std::fs::read_to_string(dir.join("replicas.csv")).unwrap_or_default();
    let mut pids: Vec<u32> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(3)?.parse().ok())
        .collect();
    pids.sort();
    pids.dedup();
    pids
}

const TWO_GROUPS_ON_ANY_PORT: &str = "listen: 127.0.0.1:0
groups:
  - {name: one, min: 2, max: 2, health_check: {interval: 200ms, healthy_threshold: 1}}
  - {name: two, min: 1, max: 1, health_check: {interval: 200ms, healthy_threshold: 1}}
rules:
  - {path: /cluster1, group: one, strip_prefix: true}
  - {path: /cluster2, group: two, strip_prefix: true}
";

#[test]
fn the_cluster_command_runs_a_plan_through_the_balancer_and_leaves_no_process_behind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(&file, TWO_GROUPS_ON_ANY_PORT).unwrap();
    let out = dir.path().join("out");
    let plan = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/cluster-two-groups-plan.yaml"
    );
    let output = scalelab()
        .args([
            "cluster",
            file.to_str().unwrap(),
            "--plan",
            plan,
            "--tail",
            "1s",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["requests"], 2500);
    assert_eq!(summary["totals"]["failures"], 0);
    let groups = std::fs::read_to_string(out.join("cluster.csv")).unwrap();
    assert!(
        groups.starts_with("second,group,desired,in_service"),
        "{groups}"
    );
    let requests: u64 = groups
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(9)?.parse::<u64>().ok())
        .sum();
    assert_eq!(requests, 2500, "{groups}");
    // `cost` prices the same directory: 3 replicas, each billed at least 60 s, served 2,500 requests.
    let priced = scalelab()
        .args(["cost", "--instance-type", "t3.micro", "--timeline"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&priced.stdout);
    assert!(priced.status.success(), "{text}");
    let row: Vec<&str> = text
        .lines()
        .find(|line| line.contains("timeline "))
        .unwrap_or_else(|| panic!("{text}"))
        .split_whitespace()
        .collect();
    let number = |cell: &str| cell.trim_start_matches('$').parse::<f64>().unwrap();
    let (hours, per_million) = (number(row[row.len() - 3]), number(row[row.len() - 1]));
    assert!(hours >= 3.0 * 60.0 / 3600.0, "{text}");
    let expected = hours * 0.0104 / 2500.0 * 1e6;
    assert!(
        (per_million - expected).abs() <= expected * 0.01 + 1e-4,
        "{text}"
    );
    let events = std::fs::read_to_string(out.join("events.csv")).unwrap();
    assert_eq!(events.matches(",in_service,").count(), 3, "{events}");
    // The report shows the cluster on the run's time axis.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for panel in [
        "Replicas",
        "CPU per replica",
        "Memory per replica",
        "Load balancer requests per second",
    ] {
        assert!(report.contains(panel), "report lacks the {panel} panel");
    }
    let pids = replica_pids(&out);
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(pids.iter().all(|&pid| !alive(pid)), "{pids:?}");
}

/// A shortened copy of `examples/cluster-autoscaled-plan.yaml`: its climb from 4 to 16 requests/s of
/// 50 ms of CPU, then 20 s at 16/s.
const AUTOSCALED_PLAN: &str = "scenarios:
  heavy:
    executor: ramping-arrival-rate
    startRate: 4
    timeUnit: 1s
    preAllocatedVUs: 40
    stages:
      - {duration: 5s, target: 16}
      - {duration: 20s, target: 16}
    requests:
      - {name: heavy, path: /heavy?ms=50, checks: {status: 200}}
";

/// README's `cluster` example scales out under load: 16 requests/s of 50 ms of CPU is 160 % of
/// the replica's half core, above the 60 % alarm for two 5 s periods, so simple[0] adds 2.
#[test]
fn the_autoscaled_example_scales_out_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/cluster-autoscaled.yaml"
    ))
    .unwrap();
    // On any free port rather than the example's.
    let cluster: Vec<&str> = example
        .lines()
        .map(|line| {
            if line.starts_with("listen:") {
                "listen: 127.0.0.1:0"
            } else {
                line
            }
        })
        .collect();
    let (file, plan, out) = (
        dir.path().join("cluster.yaml"),
        dir.path().join("plan.yaml"),
        dir.path().join("out"),
    );
    std::fs::write(&file, cluster.join("\n")).unwrap();
    std::fs::write(&plan, AUTOSCALED_PLAN).unwrap();
    let output = scalelab()
        .arg("cluster")
        .arg(&file)
        .arg("--plan")
        .arg(&plan)
        .args(["--tail", "1s", "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let events = scalelab_cluster::events::read_events(&out).unwrap();
    let scale_out = events
        .iter()
        .find(|e| e.kind == EventKind::ScaleOut)
        .unwrap_or_else(|| panic!("no scale-out: {events:#?}"));
    assert!(
        scale_out.detail.contains("desired 1 -> 3: simple[0]: cpu ")
            && scale_out.detail.ends_with(" > 60"),
        "{scale_out:?}"
    );
    let in_service = events
        .iter()
        .filter(|e| e.kind == EventKind::InService)
        .count();
    assert!(in_service >= 3, "{events:#?}");
}

/// Starts `scalelab cluster` on `yaml` (three replicas) without a plan, sends it `signal` once its
/// replicas run, and returns whether it exited successfully and the replicas still alive (waiting up
/// to 30 s for them to go).
fn stop_with(yaml: &str, signal: nix::sys::signal::Signal) -> (bool, Vec<u32>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = dir.path().join("out");
    let mut child = scalelab()
        .arg("cluster")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut pids = Vec::new();
    for _ in 0..300 {
        std::thread::sleep(Duration::from_millis(100));
        pids = replica_pids(&out);
        if pids.len() == 3 {
            break;
        }
    }
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(pids.iter().all(|&pid| alive(pid)));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    for _ in 0..300 {
        if pids.iter().all(|&pid| !alive(pid)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = pids.into_iter().filter(|&pid| alive(pid)).collect();
    (status.success(), left)
}

#[test]
fn sigterm_stops_the_cluster_and_every_replica() {
    let (success, left) = stop_with(TWO_GROUPS_ON_ANY_PORT, nix::sys::signal::Signal::SIGTERM);
    assert!(success && left.is_empty(), "{left:?}");
}

#[test]
fn sigkill_of_scalelab_still_stops_every_embedded_replica() {
    let (_, left) = stop_with(TWO_GROUPS_ON_ANY_PORT, nix::sys::signal::Signal::SIGKILL);
    assert!(left.is_empty(), "{left:?}");
}

/// One embedded replica and two of a custom command: a shell that says which port it was given
/// on stderr and becomes `scalelab serve` on it.
fn custom_command() -> String {
    format!(
        "listen: 127.0.0.1:0
groups:
  - {{name: one, min: 1, max: 1, health_check: {{interval: 200ms, healthy_threshold: 1}}}}
  - name: custom
    command: [sh, -c, 'echo replica on port {{port}} >&2; exec \"$0\" serve --listen 127.0.0.1:{{port}}', '{}']
    min: 2
    max: 2
    health_check: {{path: /health, interval: 200ms, healthy_threshold: 1, unhealthy_threshold: 2}}
rules:
  - {{path: /custom, group: custom, strip_prefix: true}}
",
        env!("CARGO_BIN_EXE_scalelab")
    )
}

#[test]
fn sigkill_of_scalelab_also_stops_custom_command_replicas() {
    let (_, left) = stop_with(&custom_command(), nix::sys::signal::Signal::SIGKILL);
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_command_replicas_serve_behind_the_balancer() {
    let mut cluster = start(&custom_command()).await;
    let client = reqwest::Client::new();
    // The prefix is stripped: /custom/ping reaches the replicas' /ping.
    for _ in 0..10 {
        assert_eq!(
            get(&client, &format!("{}/custom/ping", cluster.url())).await,
            200
        );
    }
    assert_eq!(get(&client, &format!("{}/ping", cluster.url())).await, 200);
    assert_eq!(
        get(&client, &format!("{}/custom/custom/ping", cluster.url())).await,
        404
    );
    let custom = answered(&cluster.next_second().await, "custom");
    let mut spread: Vec<u64> = custom.values().copied().collect();
    spread.sort();
    assert_eq!(spread, [5, 6], "{custom:?}");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_replicas_are_healed_with_the_exit_reason_logged_and_exposed_to_prometheus() {
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::from_yaml(&custom_command()).unwrap();
    let options = ClusterOptions {
        serve_program: PathBuf::from(env!("CARGO_BIN_EXE_scalelab")),
        out: Some(dir.path().join("out")),
        offered_load: None,
        metrics_addr: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        live: false,
        interrupt: Default::default(),
    };
    let mut cluster = Cluster::start(config, options).await.unwrap();
    let client = reqwest::Client::new();
    // The gauges of the first second sampled.
    let status = cluster.next_second().await;
    let metrics = format!("http://{}/metrics", cluster.metrics_addr().unwrap());
    let text = client
        .get(&metrics)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("scalelab_cluster_replicas{group=\"custom\",phase=\"in_service\"} 2"),
        "{text}"
    );

    // SIGKILL one replica: it is seen to exit, with the signal, and replaced.
    let group = status.iter().find(|s| s.name == "custom").unwrap();
    let victim = group.replicas[0].clone();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(victim.pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let mut healed = false;
    for _ in 0..30 {
        let status = cluster.next_second().await;
        let group = status.iter().find(|s| s.name == "custom").unwrap();
        if group.in_service == 2 && group.replicas.iter().all(|r| r.id != victim.id) {
            healed = true;
            break;
        }
    }
    let events = cluster.events();
    assert!(healed, "{events:#?}");
    let exited = events
        .iter()
        .find(|e| e.kind == EventKind::Exited && e.replica == Some(victim.id))
        .expect("an exited event");
    assert!(exited.detail.contains("signal: 9"), "{}", exited.detail);
    assert_eq!(
        get(&client, &format!("{}/custom/ping", cluster.url())).await,
        200
    );
    cluster.shutdown().await;
    // Each replica's stderr is kept.
    let log = std::fs::read_to_string(
        dir.path()
            .join(format!("out/replicas/custom-{}.stderr", victim.id)),
    )
    .unwrap();
    assert!(log.starts_with("replica on port "), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_exits_at_once_backs_off_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let config = ClusterConfig::from_yaml(
        "listen: 127.0.0.1:0
groups:
  - name: broken
    command: [sh, -c, 'echo cannot bind port {port} >&2; exit 3']
    max: 1
    startup_grace: 4s
",
    )
    .unwrap();
    let options = ClusterOptions {
        serve_program: PathBuf::from(env!("CARGO_BIN_EXE_scalelab")),
        out: Some(dir.path().to_owned()),
        offered_load: None,
        metrics_addr: None,
        live: false,
        interrupt: Default::default(),
    };
    let error = Cluster::start(config, options).await.err().expect("fails");
    let message = error.to_string();
    assert!(
        message.contains("exit status: 3") && message.contains("cannot bind port"),
        "{message}"
    );
    // Within the 5 s start-up (grace + 1 s), back-off of 1, 2, 4 s allows launches at 0, 1 and 3 s;
    // without it the command is relaunched every 50 ms, ~100 times.
    let events = std::fs::read_to_string(dir.path().join("events.csv")).unwrap();
    let launches = events.matches(",launch,").count();
    assert!(
        (2..=4).contains(&launches),
        "{launches} launches:\n{events}"
    );
    assert!(events.contains("next launch in 2s"), "{events}");
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("replicas"))
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(logs.len(), launches);
    assert!(
        logs.iter().all(|log| log.starts_with("cannot bind port")),
        "{logs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_replicas_share_the_hosts_cpu_stress_cap() {
    let cluster = start(&format!(
        "listen: 127.0.0.1:0
groups:
  - {{name: one, min: 2, max: 4, health_check: {FAST_CHECKS}}}
"
    ))
    .await;
    let client = reqwest::Client::new();
    // Four replicas at most: each may stress 100 / 4 = 25 % of the cores.
    let url = |percent: u32| format!("{}/stress/cpu?percent={percent}&seconds=1", cluster.url());
    assert_eq!(get(&client, &url(30)).await, 429);
    assert_eq!(get(&client, &url(20)).await, 200);
    cluster.shutdown().await;
}

#[test]
fn ctrl_c_in_a_crash_loop_still_writes_the_csvs_with_the_start_up_events_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(
        &file,
        "listen: 127.0.0.1:0
groups:
  - {name: broken, command: [sh, -c, 'exit 3', '{port}'], max: 1, startup_grace: 60s}
",
    )
    .unwrap();
    let out = dir.path().join("out");
    let mut child = scalelab()
        .arg("cluster")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, printed) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    // The crash loop: the second launch comes after the first replica exited and a 1 s back-off.
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("broken #2: launch"))
    {
        match printed.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no second launch within 30 s: {seen:#?}"),
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    // Bounded: the rest of stderr ends when scalelab exits.
    while let Ok(line) = printed.recv_timeout(Duration::from_secs(30)) {
        seen.push(line);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(105), "{seen:#?}");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    assert!(read("cluster.csv").starts_with("second,group,desired,in_service,"));
    assert!(read("replicas.csv").starts_with("second,group,replica,pid,phase,"));
    let events = read("events.csv");
    assert!(
        events.starts_with("seconds,group,replica,kind,detail\n"),
        "{events}"
    );
    let rows: Vec<(u64, String)> = events
        .lines()
        .skip(1)
        .filter_map(|row| {
            let cells: Vec<&str> = row.splitn(5, ',').collect();
            Some((cells.get(2)?.parse().ok()?, cells.get(3)?.to_string()))
        })
        .collect();
    // Every event printed live ("[start-up] broken #2: launch pid ...") is in the file.
    let printed_events: Vec<(u64, String)> = seen
        .iter()
        .filter_map(|line| {
            let (_, rest) = line.split_once("] broken #")?;
            let (replica, rest) = rest.split_once(": ")?;
            let kind = rest.split_whitespace().next()?;
            Some((replica.parse().ok()?, kind.to_owned()))
        })
        .collect();
    assert!(printed_events.len() >= 3, "{seen:#?}");
    for event in &printed_events {
        assert!(
            rows.contains(event),
            "{event:?} printed, not in events.csv:\n{events}"
        );
    }
}

#[test]
fn a_bad_cluster_file_exits_104_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "groups:\n  - name: web\n    max: 2\n    healthcheck: {path: /health}\n",
    )
    .unwrap();
    let output = scalelab().arg("cluster").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(104));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.yaml")
            && stderr.contains("line 4")
            && stderr.contains("did you mean `health_check`?"),
        "{stderr}"
    );
}

#[test]
fn the_cluster_command_serves_its_gauges_at_metrics_addr() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cluster.yaml");
    std::fs::write(&file, TWO_GROUPS_ON_ANY_PORT).unwrap();
    let mut child = scalelab()
        .arg("cluster")
        .arg(&file)
        .args(["--metrics-addr", "127.0.0.1:0", "--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The bound address is printed once every replica is in service.
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut lines = std::io::BufRead::lines(stderr).map_while(Result::ok);
    let address = lines
        .by_ref()
        .find_map(|line| {
            line.strip_prefix("cluster metrics on http://")
                .map(|rest| rest.trim_end_matches("/metrics").to_owned())
        })
        .expect("the metrics address is printed");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The gauges are set at the end of each second: wait (boundedly) for the first.
    let mut text = String::new();
    for _ in 0..100 {
        text = runtime.block_on(async {
            reqwest::get(format!("http://{address}/metrics"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        });
        if text.contains("scalelab_cluster_replicas{group=\"one\",phase=\"in_service\"} 2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    // Read stderr to its end, so that scalelab can write its last lines.
    let rest: Vec<String> = lines.collect();
    assert!(child.wait().unwrap().success(), "{rest:?}");
    for series in [
        "scalelab_cluster_replicas{group=\"one\",phase=\"in_service\"} 2",
        "scalelab_cluster_replicas{group=\"two\",phase=\"in_service\"} 1",
        "scalelab_cluster_desired_replicas{group=\"two\"} 1",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
}

#[test]
fn a_policy_file_for_an_unknown_group_or_a_bad_hpa_exits_104_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = dir.path().join("cluster.yaml");
    std::fs::write(&cluster, "groups:\n  - name: web\n    max: 2\n").unwrap();
    let hpa = dir.path().join("hpa.yaml");
    std::fs::write(
        &hpa,
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics:\n  - {type: External, external: {metric: {name: queue}}}\n",
    )
    .unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "max: 3\nhpa: {target: 60}\n").unwrap();
    for (group, policy, expected) in [
        ("api", &good, "no group is named 'api'"),
        ("web", &hpa, "spec.metrics[0]"),
    ] {
        let output = scalelab()
            .arg("cluster")
            .arg(&cluster)
            .arg("--policy")
            .arg(format!("{group}={}", policy.display()))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(104));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{stderr}");
    }
}
