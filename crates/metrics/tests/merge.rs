//! Shards merge exactly: the merged files hold what one run recording every sample would, the
//! thresholds are judged on the sum, and missing, duplicated or foreign shards are refused.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use scalelab_metrics::merge::{MergeError, merge_shards};
use scalelab_metrics::output::{ResultsWriter, read_intervals, read_summary, read_timeseries};
use scalelab_metrics::threshold::{RunView, Threshold};
use scalelab_metrics::{
    Endpoint, EndpointId, ErrorKind, Interval, LatencyHistogram, Outcome, Phases, Sample,
    ShardRecord, Summary, SummaryInput,
};

const PLAN: &str = "0123abcd";
const START: &str = "2026-11-28T09:00:00.000Z";

fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint {
        scenario: "default".into(),
        name: "ping".into(),
        method: "GET".into(),
        tags: vec![],
    }]
}

fn sample(outcome: Outcome, micros: u64) -> Sample {
    Sample {
        endpoint: EndpointId(0),
        outcome,
        intended: Duration::ZERO,
        sent: Duration::from_micros(micros / 4),
        first_byte: None,
        done: Duration::from_micros(micros),
        bytes_sent: 10,
        bytes_received: 20,
        phases: Phases::default(),
    }
}

/// Shard `index` of `count`: for 3 seconds, sample `k` (0..300 per second) is this shard's when
/// `k % count == index`; its latency is 100 + 37·k µs, and every 10th is a reset.
fn intervals_of(index: u64, count: u64) -> Vec<Interval> {
    (0..3)
        .map(|second| {
            let mut interval = Interval::new(second);
            for k in (0..300u64).filter(|k| k % count == index) {
                let outcome = if k % 10 == 0 {
                    Outcome::Error(ErrorKind::Reset)
                } else {
                    Outcome::Status(200)
                };
                interval.record(&sample(outcome, 100 + 37 * k + second));
                interval.record_iteration(0, Duration::from_micros(200 + k));
                interval.record_check(0, k % 10 != 0);
            }
            interval.gauges.vus = 2;
            interval
        })
        .collect()
}

fn write_shard(dir: &Path, index: u64, count: u64, plan: &str) -> PathBuf {
    let out = dir.join(format!("shard-{index}-{plan}"));
    let checks = vec!["status is 200".to_owned()];
    let mut writer = ResultsWriter::create(&out, endpoints(), SystemTime::now()).unwrap();
    writer.keep_intervals(&checks).unwrap();
    let mut total = Interval::new(0);
    for interval in intervals_of(index, count) {
        writer.push(&interval).unwrap();
        total.merge(&interval);
    }
    let mut summary = summary_of(&total, &checks, 3.0);
    summary.shard = Some(ShardRecord {
        index,
        count,
        plan_sha256: plan.into(),
        start_at: START.into(),
    });
    writer.finish(&summary).unwrap();
    out
}

fn summary_of(total: &Interval, checks: &[String], duration: f64) -> Summary {
    let endpoints = endpoints();
    let view = RunView {
        endpoints: &endpoints,
        check_names: checks,
        total,
        duration_seconds: duration,
    };
    let thresholds = [
        ("http_req_duration", "p(95)<10"),
        ("http_req_failed", "rate<0.05"),
    ]
    .iter()
    .map(|(m, c)| Threshold::parse(m, c, false).unwrap().evaluate(&view))
    .collect();
    Summary::build(SummaryInput {
        started_at: "2026-11-28T09:00:00Z".into(),
        duration_seconds: duration,
        open_model: true,
        endpoints: &endpoints,
        check_names: checks,
        total,
        requests_per_second: &[],
        max_vus: 2,
        thresholds,
    })
}

#[test]
fn merged_shards_equal_one_run_with_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| write_shard(dir.path(), i, 3, PLAN))
        .collect();
    let merged = merge_shards(&shards, false).unwrap();
    let out = dir.path().join("merged");
    merged.write(&out).unwrap();

    // One run that recorded everything itself.
    let whole = intervals_of(0, 1);
    let mut all = LatencyHistogram::default();
    for (mine, theirs) in merged.intervals.iter().zip(&whole) {
        assert_eq!(mine.series, theirs.series);
        assert_eq!(mine.iteration_duration, theirs.iteration_duration);
        assert_eq!(mine.checks, theirs.checks);
        for (_, series) in &theirs.series {
            all.merge(&series.latency);
        }
    }
    let summary = read_summary(&out).unwrap();
    assert_eq!(summary.totals.requests, 900);
    assert_eq!(summary.errors_by_kind["reset"], 90);
    assert_eq!(
        (summary.totals.checks_passed, summary.totals.checks_failed),
        (810, 90)
    );
    assert_eq!(summary.totals.latency, all.stats());
    // Max VUs: 2 per shard at every second, so 6.
    assert_eq!(summary.totals.max_vus, 6);
    // Thresholds on the sum: failure rate 90/900 = 0.1 fails rate<0.05; p95 of 100+37k µs (k < 300)
    // is about 10.6 ms, which fails p(95)<10.
    assert_eq!(summary.thresholds.len(), 2);
    assert!(!summary.thresholds[0].passed);
    assert!((summary.thresholds[0].observed.unwrap() - all.percentile(95.0)).abs() < 1e-9);
    assert!(!summary.thresholds[1].passed);
    assert!((summary.thresholds[1].observed.unwrap() - 0.1).abs() < 1e-12);
    let record = summary.merged.unwrap();
    assert_eq!(
        (record.count, record.shards, record.missing),
        (3, vec![0, 1, 2], vec![])
    );
    // The time series: 300 requests per second, 270 OK and 30 resets.
    let rows = read_timeseries(&out).unwrap();
    let second_one: u64 = rows.iter().filter(|r| r.second == 1).map(|r| r.count).sum();
    assert_eq!(second_one, 300);
    // The merged directory holds no intervals.jsonl: it is a single run's set of files.
    assert!(read_intervals(&out).is_err());
}

#[test]
fn missing_duplicated_and_foreign_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_shard(dir.path(), 0, 3, PLAN);
    let b = write_shard(dir.path(), 1, 3, PLAN);
    let error = merge_shards(&[a.clone(), b.clone()], false).unwrap_err();
    assert!(
        matches!(&error, MergeError::Missing { missing, count: 3 } if missing == &[2]),
        "{error}"
    );
    let partial = merge_shards(&[a.clone(), b.clone()], true).unwrap();
    assert_eq!(partial.summary.merged.as_ref().unwrap().missing, [2]);
    assert_eq!(partial.summary.totals.requests, 600);

    let error = merge_shards(&[a.clone(), a.clone()], true).unwrap_err();
    assert!(
        matches!(error, MergeError::Duplicate { index: 0, .. }),
        "{error}"
    );

    let other = write_shard(dir.path(), 2, 3, "ffff");
    let error = merge_shards(&[a.clone(), b, other], false).unwrap_err();
    assert!(error.to_string().contains("plan's SHA-256"), "{error}");

    let error = merge_shards(&[], false).unwrap_err();
    assert!(matches!(error, MergeError::NoShards));
}
