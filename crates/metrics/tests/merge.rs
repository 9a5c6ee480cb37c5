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
            interval.gauges.vus_peak = 2;
            interval
        })
        .collect()
}

const THRESHOLDS: [(&str, &str); 2] = [
    ("http_req_duration", "p(95)<10"),
    ("http_req_failed", "rate<0.05"),
];

fn write_shard(dir: &Path, index: u64, count: u64, plan: &str) -> PathBuf {
    let out = dir.join(format!("shard-{index}-{plan}"));
    write_intervals(
        &out,
        index,
        count,
        plan,
        &intervals_of(index, count),
        &THRESHOLDS,
    )
}

/// Writes `intervals` as shard `index` of `count` would, with a summary built from them as a run
/// builds its own.
fn write_intervals(
    out: &Path,
    index: u64,
    count: u64,
    plan: &str,
    intervals: &[Interval],
    thresholds: &[(&str, &str)],
) -> PathBuf {
    let checks = vec!["status is 200".to_owned()];
    let mut writer = ResultsWriter::create(out, endpoints(), SystemTime::now()).unwrap();
    writer.keep_intervals(&checks).unwrap();
    let mut total = Interval::new(0);
    for interval in intervals {
        writer.push(interval).unwrap();
        total.merge(interval);
    }
    let max_vus = intervals
        .iter()
        .map(|i| i.gauges.vus_peak)
        .max()
        .unwrap_or(0);
    let mut summary = summary_of(&total, &checks, 3.0, max_vus, thresholds);
    summary.shard = Some(ShardRecord {
        index,
        count,
        plan_sha256: plan.into(),
        start_at: START.into(),
    });
    writer.finish(&summary).unwrap();
    out.to_owned()
}

fn summary_of(
    total: &Interval,
    checks: &[String],
    duration: f64,
    max_vus: u64,
    thresholds: &[(&str, &str)],
) -> Summary {
    let endpoints = endpoints();
    let view = RunView {
        endpoints: &endpoints,
        check_names: checks,
        total,
        duration_seconds: duration,
    };
    let thresholds = thresholds
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
        max_vus,
        vus_allocated: max_vus,
        thresholds,
        stopped_early: None,
    })
}

/// Rewrites `dir`'s summary.json through `edit`.
fn edit_summary(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(ResultsWriter::SUMMARY);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
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

#[test]
fn a_cut_intervals_file_is_refused_naming_its_shard() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| write_shard(dir.path(), i, 3, PLAN))
        .collect();
    // Shard 1's intervals.jsonl cut after its header: its summary still counts its 300 requests.
    let path = shards[1].join(ResultsWriter::INTERVALS);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.lines().next().unwrap()).unwrap();
    let error = merge_shards(&shards, false).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: intervals.jsonl does not hold what summary.json counts: requests 0 in the \
             intervals, 300 in the summary (a file cut short, or edited)",
            shards[1].display()
        )
    );
    // Cut after its first second: 100 of 300.
    std::fs::write(&path, text.lines().take(2).collect::<Vec<_>>().join("\n")).unwrap();
    let error = merge_shards(&shards, false).unwrap_err();
    assert!(
        matches!(
            &error,
            MergeError::Inconsistent { dir, what: "requests", in_intervals: 100, in_summary: 300 }
                if dir == &shards[1]
        ),
        "{error}"
    );
    // A summary whose other counts were edited is refused as well.
    std::fs::write(&path, &text).unwrap();
    edit_summary(&shards[2], |json| {
        json["totals"]["checks_failed"] = 7.into()
    });
    let error = merge_shards(&shards, false).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("checks failed 30 in the intervals, 7 in"),
        "{error}"
    );
}

/// A histogram of `count` values of 1 ms, in the JSON an interval holds.
fn histogram_json(count: u64) -> serde_json::Value {
    use base64::Engine;
    use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
    let mut histogram = hdrhistogram::Histogram::<u64>::new(3).unwrap();
    // One bucket holds at most 2^63 - 1 (the encoding's signed counts): split it.
    histogram.record_n(1000, count / 2).unwrap();
    histogram.record_n(2000, count - count / 2).unwrap();
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(&histogram, &mut bytes)
        .unwrap();
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .into()
}

#[test]
fn counts_past_u64_are_an_error_not_a_wrap() {
    // Two shards with 2^63 failed requests each: wrapped, 2^64 is 0 failures, and a threshold
    // on the failure rate would pass.
    let dir = tempfile::tempdir().unwrap();
    let mut half = Interval::new(0);
    half.record(&sample(Outcome::Status(500), 1000));
    let mut json = serde_json::to_value(&half).unwrap();
    json["series"][0][1]["count"] = (1u64 << 63).into();
    json["series"][0][1]["latency"] = histogram_json(1 << 63);
    let half: Interval = serde_json::from_value(json).unwrap();
    assert_eq!(half.requests(), 1 << 63);
    let shards: Vec<PathBuf> = (0..2)
        .map(|i| {
            let out = dir.path().join(format!("shard-{i}"));
            write_intervals(&out, i, 2, PLAN, std::slice::from_ref(&half), &THRESHOLDS)
        })
        .collect();
    assert_eq!(read_summary(&shards[0]).unwrap().totals.failures, 1 << 63);
    let error = merge_shards(&shards, false).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: intervals.jsonl: requests add up past 2^64 - 1: no run counts so many, the \
             counts cannot be true",
            shards[1].display()
        )
    );
}

#[test]
fn shards_with_other_thresholds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_shard(dir.path(), 0, 2, PLAN);
    let b = dir.path().join("other-thresholds");
    write_intervals(
        &b,
        1,
        2,
        PLAN,
        &intervals_of(1, 2),
        &[("http_req_failed", "rate<0.99")],
    );
    let error = merge_shards(&[a.clone(), b.clone()], false).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: the thresholds differs from {}'s: not a shard of the same test",
            b.display(),
            a.display()
        )
    );
    // The same conditions with abortOnFail set are other thresholds too.
    let c = write_shard(dir.path(), 1, 2, PLAN);
    edit_summary(&c, |json| {
        json["thresholds"][0]["abort_on_fail"] = true.into()
    });
    let error = merge_shards(&[a, c], false).unwrap_err();
    assert!(
        error.to_string().contains("the thresholds differs"),
        "{error}"
    );
}

#[test]
fn bad_shard_indexes_are_errors_and_a_huge_count_allocates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let shard = write_shard(dir.path(), 0, 3, PLAN);
    for (index, count, why) in [
        (5u64, 3u64, "shards count from 0 to 2"),
        (3, 3, "shards count from 0 to 2"),
        (0, 0, "a test has 1 to 1048576 shards"),
        (0, 1_000_000_000_000_000, "a test has 1 to 1048576 shards"),
    ] {
        edit_summary(&shard, |json| {
            json["shard"]["index"] = index.into();
            json["shard"]["count"] = count.into();
        });
        let error = merge_shards(std::slice::from_ref(&shard), true).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: its summary.json says shard {index} of {count}: {why}",
                shard.display()
            )
        );
    }
}

#[test]
fn merged_max_vus_is_the_busiest_second_of_the_shards_summed() {
    // Shard 0 peaks at 5 VUs in second 0, shard 1 at 5 in second 1; each has 1 the other second.
    // Summed per second: 6 and 6. Not 5 (the largest peak), nor 10 (the peaks added), nor the
    // VUs running at the end of a second (1 each).
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<PathBuf> = (0..2u64)
        .map(|index| {
            let intervals: Vec<Interval> = intervals_of(index, 2)
                .into_iter()
                .take(2)
                .map(|mut interval| {
                    interval.gauges.vus = 1;
                    interval.gauges.vus_peak = if interval.second == index { 5 } else { 1 };
                    interval.gauges.vus_allocated = 7;
                    interval
                })
                .collect();
            let out = dir.path().join(format!("shard-{index}"));
            write_intervals(&out, index, 2, PLAN, &intervals, &THRESHOLDS)
        })
        .collect();
    edit_summary(&shards[0], |json| {
        json["totals"]["vus_allocated"] = 7.into()
    });
    edit_summary(&shards[1], |json| {
        json["totals"]["vus_allocated"] = 7.into()
    });
    let merged = merge_shards(&shards, false).unwrap();
    assert_eq!(merged.summary.totals.max_vus, 6);
    assert_eq!(merged.summary.totals.vus_allocated, 14);
}

#[test]
fn intervals_a_writer_could_not_have_made_are_errors_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let shard = write_shard(dir.path(), 0, 1, PLAN);
    let path = shard.join(ResultsWriter::INTERVALS);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    type Edit = dyn Fn(&mut Vec<serde_json::Value>);
    let rewrite = |edit: &Edit| {
        let mut lines = lines.clone();
        edit(&mut lines);
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        std::fs::write(&path, text.join("\n")).unwrap();
        read_intervals(&shard).unwrap_err().to_string()
    };
    let cases: [(&Edit, &str); 6] = [
        (
            &|l| l[2]["series"][1][0]["endpoint"] = 1.into(),
            "line 3: second 1: endpoint 1 is not in the header's 1 endpoints",
        ),
        (
            &|l| l[2]["series"][0][1]["count"] = 5.into(),
            "line 3: second 1: 5 requests of endpoint 0 (200) but 270 latencies",
        ),
        (
            &|l| l[3]["second"] = 1.into(),
            "line 4: second 1 follows second 1",
        ),
        (
            &|l| l[1]["second"] = 10_000_000_000u64.into(),
            "line 2: second 10000000000 is beyond the longest run",
        ),
        (
            &|l| {
                let series = l[1]["series"].as_array_mut().unwrap();
                series.swap(0, 1);
            },
            "line 2: second 0: its series are not in order",
        ),
        (
            &|l| l[1]["checks"] = serde_json::json!([[1, 0], [1, 0]]),
            "line 2: second 0: 2 checks, the header names 1",
        ),
    ];
    for (edit, expected) in cases {
        let error = rewrite(edit);
        assert!(
            error.starts_with(&path.display().to_string()) && error.contains(expected),
            "{error}\nexpected: {expected}"
        );
    }
}

#[test]
fn a_summary_whose_rows_do_not_add_up_to_its_totals_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let shard = write_shard(dir.path(), 0, 1, PLAN);
    let path = shard.join(ResultsWriter::SUMMARY);
    let text = std::fs::read_to_string(&path).unwrap();
    edit_summary(&shard, |json| json["totals"]["requests"] = 5.into());
    let error = read_summary(&shard).unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "{}: the endpoints count 900 requests, 90 failed; the totals 5, 90",
            path.display()
        )
    );
    std::fs::write(&path, &text).unwrap();
    // Another row's requests added to these would pass 2^64 - 1: a reader adding them would wrap.
    edit_summary(&shard, |json| {
        json["endpoints"][0]["latency"]["count"] = u64::MAX.into()
    });
    let error = read_summary(&shard).unwrap_err().to_string();
    assert!(
        error.ends_with("the endpoints' requests add up past 2^64 - 1"),
        "{error}"
    );
}
