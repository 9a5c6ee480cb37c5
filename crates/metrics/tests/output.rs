//! Result files: the hlog is readable by HdrHistogram's own log parser, the CSV has a row per second
//! and series, summary.json round-trips, and no temporary file is left behind.

use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::Deserializer;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use scalelab_metrics::output::{
    ResultsWriter, TimeseriesRow, hlog_tag, read_latency_log, read_summary, read_timeseries,
};
use scalelab_metrics::{
    Endpoint, EndpointId, ErrorKind, Interval, Outcome, Phases, Sample, Summary, SummaryInput,
};

fn sample(endpoint: u32, outcome: Outcome, ms: u64) -> Sample {
    Sample {
        endpoint: EndpointId(endpoint),
        outcome,
        intended: Duration::ZERO,
        sent: Duration::ZERO,
        first_byte: Some(Duration::from_millis(ms / 2)),
        done: Duration::from_millis(ms),
        bytes_sent: 50,
        bytes_received: 150,
        phases: Phases::default(),
    }
}

#[test]
fn files_are_complete_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let endpoints = vec![
        Endpoint {
            scenario: "default".into(),
            name: "ping, fast".into(),
            method: "GET".into(),
            tags: vec![],
        },
        Endpoint {
            scenario: "default".into(),
            name: "heavy".into(),
            method: "GET".into(),
            tags: vec![],
        },
    ];
    let mut writer =
        ResultsWriter::create(dir.path(), endpoints.clone(), SystemTime::now()).unwrap();
    let mut total = Interval::new(0);
    let mut per_second = Vec::new();
    for second in 0..3u64 {
        let mut interval = Interval::new(second);
        if second != 1 {
            for ms in 1..=10 {
                interval.record(&sample(0, Outcome::Status(200), ms));
            }
            interval.record(&sample(1, Outcome::Error(ErrorKind::Reset), 30));
        }
        interval.gauges.vus = 4;
        writer.push(&interval).unwrap();
        per_second.push((second, interval.requests()));
        total.merge(&interval);
    }
    let summary = Summary::build(SummaryInput {
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_seconds: 3.0,
        open_model: false,
        endpoints: &endpoints,
        check_names: &[],
        total: &total,
        requests_per_second: &per_second,
        max_vus: 4,
        vus_allocated: 4,
        thresholds: Vec::new(),
        stopped_early: None,
    });
    writer.finish(&summary).unwrap();

    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["latency.hlog", "summary.json", "timeseries.csv"]);

    // HdrHistogram's parser reads every interval; the untagged histograms hold every request.
    let log = std::fs::read(dir.path().join("latency.hlog")).unwrap();
    let mut deserializer = Deserializer::new();
    let mut untagged_counts = Vec::new();
    let mut tags = Vec::new();
    for entry in IntervalLogIterator::new(&log) {
        if let LogEntry::Interval(interval) = entry.expect("valid hlog entry") {
            let bytes = base64_decode(interval.encoded_histogram());
            let histogram: hdrhistogram::Histogram<u64> =
                deserializer.deserialize(&mut &bytes[..]).unwrap();
            match interval.tag() {
                Some(tag) => tags.push(tag.as_str().to_owned()),
                None => untagged_counts.push(histogram.len()),
            }
        }
    }
    assert_eq!(untagged_counts, [11, 0, 11]);
    assert!(
        tags.contains(&"ping__fast.200".to_owned()) && tags.contains(&"heavy.reset".to_owned()),
        "{tags:?}"
    );

    let csv = std::fs::read_to_string(dir.path().join("timeseries.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("second,scenario,name,method,status,count,errors,p50_ms"));
    assert_eq!(lines.len(), 1 + 2 + 1 + 2, "{csv}");
    assert!(
        lines[1].contains("\"ping, fast\""),
        "names with commas are quoted: {}",
        lines[1]
    );

    assert_eq!(lines[0], TimeseriesRow::COLUMNS.join(","));
    let rows = read_timeseries(dir.path()).unwrap();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0].name, "ping, fast");
    assert_eq!((rows[0].count, rows[0].errors, rows[0].vus), (10, 0, 4));
    assert_eq!((rows[1].status.as_str(), rows[1].errors), ("reset", 1));
    assert_eq!(
        (rows[2].second, rows[2].count, rows[2].status.as_str()),
        (1, 0, "")
    );
    // A second without requests has no latency: its cells are empty, not 0.0 ms.
    let quiet: Vec<&str> = lines[3].split(',').collect();
    assert_eq!(
        quiet[..12],
        ["1", "", "", "", "", "0", "0", "", "", "", "", ""],
        "{csv}"
    );
    assert_eq!((rows[2].p50_ms, rows[2].max_ms), (None, None));
    assert_eq!(rows[0].p50_ms.map(|ms| ms > 0.0), Some(true));

    let latency = read_latency_log(dir.path()).unwrap();
    let per_second: Vec<(u64, u64)> = latency
        .per_second
        .iter()
        .map(|(second, h)| (*second, h.count()))
        .collect();
    assert_eq!(per_second, [(0, 11), (1, 0), (2, 11)]);
    assert_eq!(latency.by_tag[&hlog_tag("ping, fast", "200")].count(), 20);
    assert_eq!(latency.by_tag[&hlog_tag("heavy", "reset")].count(), 2);
    assert!((latency.per_second[0].1.stats().max - 30.0).abs() < 0.1);

    let read = read_summary(dir.path()).unwrap();
    assert_eq!(read, summary);
    assert_eq!(read.totals.requests, 22);
    assert_eq!(read.totals.failures, 2);
    assert_eq!(read.totals.rps_peak, 11.0);
    assert_eq!(read.errors_by_kind.get("reset"), Some(&2));
    assert!((read.totals.rps_avg - 22.0 / 3.0).abs() < 1e-9);
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

#[test]
fn unknown_numeric_columns_are_kept_and_bad_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let header = TimeseriesRow::COLUMNS.join(",");
    std::fs::write(
        dir.path().join("timeseries.csv"),
        format!("{header},replicas,cpu\n0,s,ping,GET,200,5,0,1,2,3,4,5,2,1,0,5,3,0.5\n1,,,,,0,0,0,0,0,0,0,2,0,0,0,4,\n"),
    )
    .unwrap();
    let rows = read_timeseries(dir.path()).unwrap();
    assert_eq!(
        rows[0].extra,
        [("replicas".to_owned(), 3.0), ("cpu".to_owned(), 0.5)]
    );
    assert_eq!(rows[1].extra, [("replicas".to_owned(), 4.0)]);

    std::fs::write(dir.path().join("timeseries.csv"), "second,count\n0,1\n").unwrap();
    let error = read_timeseries(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("timeseries.csv: no column 'scenario'"),
        "{error}"
    );

    // A damaged file: a second of 10^12, or a latency that is not a number, is named by line and
    // column instead of being charted (a vector of 10^12 seconds is terabytes).
    let damaged = [
        (
            "0,s,ping,GET,200,5,0,1,2,3,4,5,2,1,0,5\n1000000000000,s,ping,GET,200,5,0,1,2,3,4,5,2,1,0,5\n",
            "line 3, column 'second': 1000000000000 is beyond",
        ),
        (
            "0,s,ping,GET,200,5,0,NaN,2,3,4,5,2,1,0,5\n",
            "line 2, column 'p50_ms': NaN is not a latency",
        ),
        (
            "0,s,ping,GET,200,5,0,1,2,3,4,inf,2,1,0,5\n",
            "line 2, column 'max_ms': inf is not a latency",
        ),
    ];
    for (rows, expected) in damaged {
        std::fs::write(
            dir.path().join("timeseries.csv"),
            format!("{header}\n{rows}"),
        )
        .unwrap();
        let error = read_timeseries(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("timeseries.csv: ") && error.contains(expected),
            "{error}"
        );
    }
    std::fs::write(
        dir.path().join("timeseries.csv"),
        format!("{header},cpu\n0,s,ping,GET,200,5,0,1,2,3,4,5,2,1,0,5,inf\n"),
    )
    .unwrap();
    let error = read_timeseries(dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("line 2, column 'cpu': 'inf' is not a finite number"),
        "{error}"
    );

    let missing = read_summary(&dir.path().join("nowhere"))
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nowhere/summary.json"), "{missing}");
}

#[test]
fn write_atomic_creates_the_directory_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/out.csv");
    scalelab_metrics::output::write_atomic(&path, b"a,b\n").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "a,b\n");
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

#[test]
fn results_files_that_are_not_regular_files_are_refused_naming_them() {
    // /dev/zero never ends: read whole, it would grow memory without bound.
    let dir = tempfile::tempdir().unwrap();
    for name in [
        ResultsWriter::SUMMARY,
        ResultsWriter::TIMESERIES,
        ResultsWriter::HLOG,
        ResultsWriter::INTERVALS,
    ] {
        std::os::unix::fs::symlink("/dev/zero", dir.path().join(name)).unwrap();
    }
    let errors = [
        read_summary(dir.path()).unwrap_err(),
        read_timeseries(dir.path()).unwrap_err(),
        read_latency_log(dir.path()).map(|_| ()).unwrap_err(),
        scalelab_metrics::output::read_intervals(dir.path())
            .map(|_| ())
            .unwrap_err(),
    ];
    for error in errors {
        assert!(
            error
                .to_string()
                .starts_with(&dir.path().display().to_string())
                && error.to_string().contains("not a regular file"),
            "{error}"
        );
    }
}
