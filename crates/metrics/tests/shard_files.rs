//! The shard files `merge` reads, as a hostile or damaged copy may hold them: every mutation of a
//! valid `summary.json` or `intervals.jsonl` (hostile values at any field, cuts, arbitrary bytes)
//! merges to a result or an error, never a panic, and in bounded memory.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use base64::Engine;
use proptest::prelude::*;
use proptest::sample::Index;
use scalelab_metrics::merge::merge_shards;
use scalelab_metrics::output::ResultsWriter;
use scalelab_metrics::threshold::{RunView, Threshold};
use scalelab_metrics::{
    CustomKind, Endpoint, EndpointId, ErrorKind, Interval, Outcome, Phases, Sample, ShardRecord,
    Summary, SummaryInput,
};
use serde_json::{Value, json};

const SHARDS: u64 = 2;

/// The two files of each of two valid shards: (summary.json, intervals.jsonl).
static FILES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    (0..SHARDS)
        .map(|index| {
            let out = write_shard(dir.path(), index);
            let read = |name| std::fs::read_to_string(out.join(name)).unwrap();
            (read(ResultsWriter::SUMMARY), read(ResultsWriter::INTERVALS))
        })
        .collect()
});

fn write_shard(dir: &Path, index: u64) -> PathBuf {
    let out = dir.join(format!("shard-{index}"));
    let endpoints = vec![Endpoint {
        scenario: "default".into(),
        name: "ping".into(),
        method: "GET".into(),
        tags: vec![("kind".into(), "x".into())],
    }];
    let checks = vec!["status is 200".to_owned()];
    let mut writer = ResultsWriter::create(&out, endpoints.clone(), SystemTime::now()).unwrap();
    writer.keep_intervals(&checks).unwrap();
    let mut total = Interval::new(0);
    for second in 0..2 {
        let mut interval = Interval::new(second);
        for k in 0..20u64 {
            let outcome = if k % 7 == 0 {
                Outcome::Error(ErrorKind::Reset)
            } else {
                Outcome::Status(200)
            };
            interval.record(&Sample {
                endpoint: EndpointId(0),
                outcome,
                intended: Duration::ZERO,
                sent: Duration::from_micros(k),
                first_byte: None,
                done: Duration::from_micros(100 + 37 * k),
                bytes_sent: 10,
                bytes_received: 20,
                phases: Phases::default(),
            });
            interval.record_iteration(0, Duration::from_micros(200 + k));
            interval.record_check(0, k % 7 != 0);
            interval.record_send_delay(Duration::from_micros(k), k % 2 == 0);
        }
        let at = Duration::from_millis(second * 1000);
        interval.record_custom("waits", CustomKind::Trend, 3.0, at);
        interval.record_custom("sent", CustomKind::Counter, 2.0, at);
        interval.record_custom("ok", CustomKind::Rate, 1.0, at);
        interval.record_custom("depth", CustomKind::Gauge, 4.0, at);
        interval.gauges.vus = 2;
        interval.gauges.vus_peak = 3;
        writer.push(&interval).unwrap();
        total.merge(&interval);
    }
    let view = RunView {
        endpoints: &endpoints,
        check_names: &checks,
        total: &total,
        duration_seconds: 2.0,
    };
    let thresholds = [
        ("http_req_duration{kind:x}", "p(95)<10"),
        ("http_req_failed", "rate<0.05"),
        ("checks", "rate>0.9"),
        ("waits", "avg<5"),
    ]
    .iter()
    .map(|(m, c)| {
        let custom = [("waits".to_owned(), CustomKind::Trend)];
        Threshold::parse_with(m, c, false, &custom)
            .unwrap()
            .evaluate(&view)
    })
    .collect();
    let mut summary = Summary::build(SummaryInput {
        started_at: "2026-11-28T09:00:00Z".into(),
        duration_seconds: 2.0,
        open_model: true,
        endpoints: &endpoints,
        check_names: &checks,
        total: &total,
        requests_per_second: &[(0, 20), (1, 20)],
        max_vus: 3,
        vus_allocated: 3,
        thresholds,
        stopped_early: None,
    });
    summary.shard = Some(ShardRecord {
        index,
        count: SHARDS,
        plan_sha256: "0123abcd".into(),
        start_at: "2026-11-28T09:00:00.000Z".into(),
    });
    writer.finish(&summary).unwrap();
    out
}

/// A deflated V2 histogram of 60 bytes whose header announces 4 GiB of counts.
fn histogram_bomb() -> String {
    use std::io::Write;
    let mut plain = 0x1c84_9313u32.to_be_bytes().to_vec();
    plain.extend(u32::MAX.to_be_bytes());
    plain.extend(0u32.to_be_bytes());
    plain.extend(3u32.to_be_bytes());
    plain.extend(1u64.to_be_bytes());
    plain.extend(2048u64.to_be_bytes());
    plain.extend(1f64.to_be_bytes());
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&plain).unwrap();
    let compressed = encoder.finish().unwrap();
    let mut bytes = 0x1c84_9314u32.to_be_bytes().to_vec();
    bytes.extend((compressed.len() as u32).to_be_bytes());
    bytes.extend(compressed);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Values a hostile or damaged file may put anywhere.
static HOSTILE: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        json!(u64::MAX),
        json!(1u64 << 63),
        json!(u32::MAX),
        json!(1_000_000_000_000_000u64),
        json!(-1),
        json!(0),
        json!(1e300),
        json!(-1e300),
        json!(0.5),
        json!(""),
        json!("NaN"),
        json!("p(95)<NaN"),
        json!(null),
        json!(true),
        json!([]),
        json!([[0, 0]]),
        json!({}),
        json!(histogram_bomb()),
    ]
});

/// Every scalar or empty container of `value`, as JSON pointers.
fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                leaves(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(fields) if !fields.is_empty() => {
            for (key, item) in fields {
                leaves(
                    item,
                    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => out.push(at),
    }
}

/// `text` (one JSON document, or one per line) with the leaves `edits` pick replaced by hostile
/// values.
fn mutate(text: &str, per_line: bool, edits: &[(Index, Index, Index)]) -> String {
    let documents: Vec<&str> = if per_line {
        text.lines().filter(|l| !l.trim().is_empty()).collect()
    } else {
        vec![text]
    };
    let mut lines: Vec<Value> = documents
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (line, leaf, value) in edits {
        let document = line.get_mut(&mut lines);
        let mut paths = Vec::new();
        leaves(document, String::new(), &mut paths);
        let path = leaf.get(&paths);
        *document.pointer_mut(path).unwrap() = value.get(&HOSTILE).clone();
    }
    let lines: Vec<String> = lines.iter().map(Value::to_string).collect();
    lines.join("\n")
}

/// The process's peak resident memory, from /proc.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// Writes the shards' files (`files`) and merges them, writing the result when there is one.
fn merge_files(files: &[(Vec<u8>, Vec<u8>)]) {
    let dir = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = files
        .iter()
        .enumerate()
        .map(|(i, (summary, intervals))| {
            let shard = dir.path().join(format!("shard-{i}"));
            std::fs::create_dir_all(&shard).unwrap();
            std::fs::write(shard.join(ResultsWriter::SUMMARY), summary).unwrap();
            std::fs::write(shard.join(ResultsWriter::INTERVALS), intervals).unwrap();
            shard
        })
        .collect();
    if let Ok(merged) = merge_shards(&dirs, true) {
        merged.write(&dir.path().join("merged")).unwrap();
    }
    // Far above what merging these few seconds needs, far below a histogram's 4 GiB.
    assert!(peak_rss_bytes() < 1 << 30, "{} bytes", peak_rss_bytes());
}

fn valid() -> Vec<(Vec<u8>, Vec<u8>)> {
    FILES
        .iter()
        .map(|(s, i)| (s.clone().into_bytes(), i.clone().into_bytes()))
        .collect()
}

#[test]
fn the_valid_shards_merge() {
    let dir = tempfile::tempdir().unwrap();
    let dirs: Vec<PathBuf> = (0..SHARDS).map(|i| write_shard(dir.path(), i)).collect();
    let merged = merge_shards(&dirs, false).unwrap();
    assert_eq!(merged.summary.totals.requests, 80);
    assert_eq!(merged.summary.totals.max_vus, 6);
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_values_anywhere_merge_or_fail(
        shard in 0..SHARDS as usize,
        in_summary in any::<bool>(),
        edits in proptest::collection::vec(any::<(Index, Index, Index)>(), 1..4),
    ) {
        let mut files = valid();
        let (summary, intervals) = &FILES[shard];
        if in_summary {
            files[shard].0 = mutate(summary, false, &edits).into_bytes();
        } else {
            files[shard].1 = mutate(intervals, true, &edits).into_bytes();
        }
        merge_files(&files);
    }

    #[test]
    fn cut_or_damaged_bytes_merge_or_fail(
        shard in 0..SHARDS as usize,
        in_summary in any::<bool>(),
        cut in any::<Index>(),
        flips in proptest::collection::vec(any::<(Index, u8)>(), 0..4),
        noise in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut files = valid();
        let file = if in_summary { &mut files[shard].0 } else { &mut files[shard].1 };
        for (at, byte) in &flips {
            let i = at.index(file.len());
            file[i] = *byte;
        }
        file.truncate(cut.index(file.len() + 1));
        file.extend(&noise);
        merge_files(&files);
    }
}
