//! Scale-out end to end: the pod command `scalelab k8s` renders, run as N local processes with
//! `JOB_COMPLETION_INDEX` set, against the stress service, merged by `scalelab merge`: the merged
//! request count is the plan's schedule, and the merged percentiles are those of one histogram
//! holding every sample.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use scalelab_metrics::LatencyHistogram;
use scalelab_metrics::output::{read_latency_log, read_summary};
use scalelab_shape::{Arrivals, Shape};

const SHARDS: u64 = 3;
const PLAN: &str = "scenarios:\n  steady:\n    executor: constant-arrival-rate\n    rate: 50\n    timeUnit: 1s\n    duration: 2s\n    preAllocatedVUs: 30\n    maxVUs: 60\n    requests:\n      - {name: ping, path: /ping, checks: {status: 200}}\nthresholds:\n  http_req_failed: [\"rate<0.01\"]\n";

fn scalelab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The shell script of the Job's pod, as `scalelab k8s` renders it for `plan` against `target`.
fn pod_script(plan: &Path, target: &str, dir: &Path) -> String {
    let manifests = dir.join("manifests");
    let output = scalelab()
        .args([
            "k8s",
            "--parallelism",
            "3",
            "--start-in",
            "10s",
            "--threads",
            "2",
        ])
        .arg(plan)
        .args(["--target", target, "--out"])
        .arg(&manifests)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let job: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(manifests.join("job.yaml")).unwrap())
            .unwrap();
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(
        (spec["completions"].as_u64(), spec["parallelism"].as_u64()),
        (Some(3), Some(3))
    );
    let command = &spec["template"]["spec"]["containers"][0]["command"];
    assert_eq!((&command[0], &command[1]), (&"sh".into(), &"-c".into()));
    command[2].as_str().unwrap().to_owned()
}

/// Shard `index`, running the pod's script with `JOB_COMPLETION_INDEX` set as the Job controller
/// sets it: the plan and results volumes become folders of `dir`, the binary the one under test,
/// and the metrics port (each pod's own in a cluster) a free loopback one.
fn shard(index: u64, script: &str, dir: &Path) -> std::process::Child {
    let results = dir.join("results");
    std::fs::create_dir_all(&results).unwrap();
    // Already collected: the pod's wait for `k8s collect` ends at once.
    std::fs::write(results.join("collected"), "").unwrap();
    let script = script
        .replace("scalelab run ", "\"$SCALELAB\" run ")
        .replace("'/plan/", &format!("'{}/", dir.display()))
        .replace("/results", &results.display().to_string())
        .replace("0.0.0.0:9464", "127.0.0.1:0");
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env("SCALELAB", env!("CARGO_BIN_EXE_scalelab"))
        .env("JOB_COMPLETION_INDEX", index.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_merge_into_the_whole_plan() {
    let service = scalelab_stress::start(scalelab_stress::TargetConfig::loopback())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let script = pod_script(&plan, &service.url(), dir.path());
    let children: Vec<_> = (0..SHARDS).map(|i| shard(i, &script, dir.path())).collect();
    let (url, out) = (service.url(), dir.path().join("results"));
    let statuses = tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|mut child| child.wait().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert!(
        statuses.iter().all(|s| s.success()),
        "{statuses:?} against {url}"
    );
    service.shutdown().await.unwrap();

    let shards: Vec<_> = (0..SHARDS)
        .map(|i| out.join(format!("shard-{i}")))
        .collect();
    let merged = out.join("merged");
    let junit = out.join("junit.xml");
    let output = scalelab()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    // The merged verdict as JUnit: the plan's threshold and its check, each passed.
    let xml = std::fs::read_to_string(&junit).unwrap();
    for case in [
        "classname=\"thresholds\" name=\"http_req_failed rate&lt;0.01\"",
        "classname=\"checks\"",
    ] {
        assert!(xml.contains(case), "{case}: {xml}");
    }
    assert!(!xml.contains("<failure"), "{xml}");

    // The schedule of the unsharded plan: 50/s for 2 s is 100 arrivals of one request each, and
    // one more at 2.0 s, as k6's constant-arrival-rate starts.
    let scheduled =
        Arrivals::through_end(&Shape::constant(50.0, Duration::from_secs(2))).count() as u64;
    assert_eq!(scheduled, 101);
    let summary = read_summary(&merged).unwrap();
    assert_eq!(summary.totals.dropped_iterations, 0, "{}", text(&output));
    assert_eq!(summary.totals.requests, scheduled);
    assert_eq!(summary.totals.iterations, scheduled);
    assert_eq!(summary.totals.checks_passed, scheduled);
    let mut per_shard = Vec::new();
    let mut all = LatencyHistogram::default();
    for dir in &shards {
        let shard = read_summary(dir).unwrap();
        per_shard.push(shard.totals.requests);
        // Every shard's own latency log, folded into one histogram.
        for (_, histogram) in read_latency_log(dir).unwrap().per_second {
            all.merge(&histogram);
        }
    }
    // Arrival k of 101 goes to shard k mod 3: 34, 34 and 33 arrivals.
    assert_eq!(per_shard, [34, 34, 33]);
    assert_eq!(summary.totals.latency, all.stats());
    let record = summary.merged.as_ref().unwrap();
    assert_eq!((record.count, record.missing.len()), (SHARDS, 0));
    assert!(summary.thresholds.iter().all(|t| t.passed));
    assert!(merged.join("report.html").is_file());
    assert!(merged.join("timeseries.csv").is_file());

    // Two shards only: refused, unless --allow-partial, which names the missing one.
    let output = scalelab()
        .arg("merge")
        .args(&shards[..2])
        .arg("--out")
        .arg(out.join("partial"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("shards [2] of 3 are missing"),
        "{}",
        text(&output)
    );
    let output = scalelab()
        .arg("merge")
        .args(&shards[..2])
        .args(["--allow-partial", "--out"])
        .arg(out.join("partial"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let partial = read_summary(&out.join("partial")).unwrap();
    assert_eq!(partial.merged.unwrap().missing, [2]);
    assert_eq!(partial.totals.requests, 68);

    // Shard 1's intervals.jsonl cut after its header line: its summary still counts 34 requests.
    // Refused, naming the shard, rather than merged into 67 of 101.
    let intervals = shards[1].join("intervals.jsonl");
    let whole = std::fs::read_to_string(&intervals).unwrap();
    std::fs::write(&intervals, whole.lines().next().unwrap()).unwrap();
    let output = scalelab()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(out.join("cut"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        text(&output).contains(&format!(
            "{}: intervals.jsonl does not hold what summary.json counts: requests 0 in the \
             intervals, 34 in the summary",
            shards[1].display()
        )),
        "{}",
        text(&output)
    );
    assert!(!out.join("cut").join("summary.json").exists());
}

#[test]
fn shards_need_a_start_time_that_is_not_past() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .args(["--shard", "1/3"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("--shard 1/3 needs --start-at"),
        "{}",
        text(&output)
    );
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .args(["--shard", "1/3", "--start-at", "2020-01-01T00:00:00Z"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("ago"), "{}", text(&output));
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .args(["--shard", "3/3", "--start-at", "0"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "clap refuses a shard that does not exist"
    );
    assert!(
        text(&output).contains("shards count from 0 to 2"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_shards_live_line_compares_its_own_share_of_the_rate() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    std::fs::write(&plan, PLAN).unwrap();
    let start = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        + 1.0;
    let output = scalelab()
        .arg("run")
        .arg(&plan)
        .args(["--shard", "1/2", "--start-at", &format!("{start:.3}")])
        .output()
        .unwrap();
    let text = text(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    // The plan's 50/s, of which shard 1 of 2 sends every second arrival: 25/s.
    let line = text
        .lines()
        .find(|line| line.contains(" rate "))
        .unwrap_or_else(|| panic!("no status line: {text}"));
    assert!(line.contains("rate 25.0/s"), "{line}");
}
