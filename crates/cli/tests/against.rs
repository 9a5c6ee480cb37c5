//! `scalelab sim --against`: a short real cluster run replayed in the simulator, which must want the
//! same most replicas and scale out within one evaluation period plus start-up of the real run.

mod process;

use process::{scalelab, stdout};
use scalelab_cluster::EventKind;
use scalelab_cluster::events::read_events;

/// One group of sync replicas (10 ms of CPU per /heavy request on a tenth of a core: 10 % per
/// request/s): +2 when CPU stays above 80 % for two 2 s periods, once (the cooldown outlasts the
/// run), max 4. Above 80 % is 0.08 of a core, which even a busy machine gives the replica (on half
/// a core at 50 ms a request, the 0.4 of a core it needed was more than a thread's share at a load
/// of 8 on 2 cores, and the real group never scaled out).
const CLUSTER: &str = "listen: 127.0.0.1:0
groups:
  - name: api
    serve: --mode sync --workers 1
    min: 1
    max: 4
    vcpus: 0.1
    health_check: {interval: 200ms, timeout: 1s, healthy_threshold: 2, unhealthy_threshold: 3}
    policy:
      simple:
        - alarm: {metric: cpu, threshold: 80, comparison: greater_than, period: 2s, evaluation_periods: 2}
          adjustment: 2
          cooldown: 60s
";

/// 2/s (about 20 % on one replica) for 6 s, then 15/s (150 % on one, 50 % on three) for 12 s.
const PLAN: &str = "scenarios:
  low:
    executor: constant-arrival-rate
    rate: 2
    timeUnit: 1s
    duration: 6s
    preAllocatedVUs: 10
    requests:
      - {name: heavy, path: /heavy?ms=10}
  high:
    executor: constant-arrival-rate
    startTime: 6s
    rate: 15
    timeUnit: 1s
    duration: 12s
    preAllocatedVUs: 40
    requests:
      - {name: heavy, path: /heavy?ms=10}
";

/// The cells of the row of `table` (printed by the command) whose first cell starts with `first`.
fn rows<'a>(text: &'a str, first: &str) -> Vec<Vec<&'a str>> {
    text.lines()
        .filter(|line| line.trim_start().starts_with(first))
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect()
}

#[test]
fn a_real_scale_out_is_simulated_with_the_same_replicas_and_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let (cluster, plan, out) = (
        dir.path().join("cluster.yaml"),
        dir.path().join("plan.yaml"),
        dir.path().join("out"),
    );
    std::fs::write(&cluster, CLUSTER).unwrap();
    std::fs::write(&plan, PLAN).unwrap();
    let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
    stdout(&scalelab(&[
        "cluster",
        &path(&cluster),
        "--plan",
        &path(&plan),
        "--tail",
        "2s",
        "--quiet",
        "--out",
        &path(&out),
    ]));
    let text = stdout(&scalelab(&["sim", "--against", &path(&out)]));

    let max = &rows(&text, "max replicas ")[0];
    assert_eq!(max[1..3], ["3", "3"], "{text}");
    // The real start-up of the replicas launched by the scale-out, from the run's own events.
    let events = read_events(&out).unwrap();
    let at = |kind, replica| {
        events
            .iter()
            .find(|e| e.kind == kind && e.replica == Some(replica))
            .map(|e| e.seconds)
    };
    let startup = (2..4)
        .filter_map(|r| Some(at(EventKind::InService, r)? - at(EventKind::Launch, r)?))
        .fold(0.0, f64::max);
    assert!(startup > 0.0, "{events:?}");
    let outs = rows(&text, "scale-out ");
    assert_eq!(outs.len(), 1, "{text}");
    // "10 s: 1 -> 3" on both sides.
    let second = |cell: &str| cell.split(" s:").next().unwrap().parse::<f64>().unwrap();
    let (simulated, measured) = (second(outs[0][1]), second(outs[0][2]));
    assert!(
        (simulated - measured).abs() <= 2.0 + startup,
        "simulated at {simulated} s, measured at {measured} s, start-up {startup} s\n{text}"
    );
    assert!(
        outs[0][1].ends_with("1 -> 3") && outs[0][2].ends_with("1 -> 3"),
        "{text}"
    );
    let report = std::fs::read_to_string(out.join("sim-against.html")).unwrap();
    for series in [
        "in service (simulated)",
        "in service (measured)",
        "Scaling events",
    ] {
        assert!(report.contains(series), "the report lacks {series}");
    }
    assert!(out.join("sim-timeline.csv").exists());
}

#[test]
fn a_directory_that_is_not_a_cluster_run_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = scalelab(&["sim", "--against", dir.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("cluster.csv: not found: not the results of `scalelab cluster --out`"),
        "{error}"
    );
    let both = scalelab(&[
        "sim",
        "--against",
        dir.path().to_str().unwrap(),
        "--stages",
        "1m:10",
    ]);
    assert!(!both.status.success());
    assert!(String::from_utf8_lossy(&both.stderr).contains("cannot be used with"));
}
