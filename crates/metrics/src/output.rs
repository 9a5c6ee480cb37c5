//! The files a run writes: `summary.json`, `timeseries.csv` and `latency.hlog`, and the readers
//! that load them back. Each is written under a temporary name in the results directory and renamed
//! into place, so a reader never sees a half-written file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use std::collections::BTreeMap;

use base64::Engine;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use crate::{Endpoint, Interval, LatencyHistogram, Summary};

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed. Creates the
/// directory when it does not exist yet.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let temporary = temporary_path(path);
    let mut file = File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temporary, path)
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    path.with_file_name(name)
}

/// One row of `timeseries.csv`: one second and one endpoint/outcome (or a gauges-only row with
/// empty endpoint fields when nothing completed that second).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeseriesRow {
    pub second: u64,
    pub scenario: String,
    pub name: String,
    pub method: String,
    /// Status code or error kind; empty in a gauges-only row.
    pub status: String,
    pub count: u64,
    /// Requests of this row that failed (an error, or a status outside 200–399).
    pub errors: u64,
    /// Latency percentiles and maximum; empty (`None`) in a gauges-only row, which has no request.
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub vus: u64,
    pub in_flight: u64,
    pub dropped_iterations: u64,
    pub iterations: u64,
    /// Numeric columns this version does not know (gauges a later writer adds, such as replicas or
    /// CPU), by column name; filled by [`read_timeseries`], never written.
    #[serde(skip)]
    pub extra: Vec<(String, f64)>,
}

impl TimeseriesRow {
    /// The columns of `timeseries.csv`, in order.
    pub const COLUMNS: [&'static str; 16] = [
        "second",
        "scenario",
        "name",
        "method",
        "status",
        "count",
        "errors",
        "p50_ms",
        "p90_ms",
        "p95_ms",
        "p99_ms",
        "max_ms",
        "vus",
        "in_flight",
        "dropped_iterations",
        "iterations",
    ];
}

/// Streams intervals to `timeseries.csv` and `latency.hlog` as the run goes, then writes
/// `summary.json` and moves every file into place.
pub struct ResultsWriter {
    dir: PathBuf,
    endpoints: Vec<Endpoint>,
    csv: csv::Writer<BufWriter<File>>,
    hlog: BufWriter<File>,
    serializer: V2DeflateSerializer,
    buffer: Vec<u8>,
    /// `intervals.jsonl`, when kept ([`ResultsWriter::keep_intervals`]).
    intervals: Option<BufWriter<File>>,
}

/// The first line of `intervals.jsonl`: the tables its intervals' indexes refer to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IntervalLog {
    pub endpoints: Vec<Endpoint>,
    pub check_names: Vec<String>,
    /// Every second of the run, in order (not in the header line: one line each after it).
    #[serde(skip)]
    pub intervals: Vec<Interval>,
}

impl ResultsWriter {
    pub const SUMMARY: &'static str = "summary.json";
    pub const TIMESERIES: &'static str = "timeseries.csv";
    pub const HLOG: &'static str = "latency.hlog";
    pub const INTERVALS: &'static str = "intervals.jsonl";

    /// Creates `dir` if needed and starts the streamed files.
    pub fn create(dir: &Path, endpoints: Vec<Endpoint>, started: SystemTime) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let csv = csv::Writer::from_writer(BufWriter::new(File::create(temporary_path(
            &dir.join(Self::TIMESERIES),
        ))?));
        let mut hlog = BufWriter::new(File::create(temporary_path(&dir.join(Self::HLOG)))?);
        let start = started
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs_f64();
        // The HdrHistogram interval log format (v1.3), as HistogramLogProcessor and HdrHistogram's
        // other readers expect. The hdrhistogram crate's writer borrows its output for the whole log,
        // which a writer that lives across a run cannot hold, so lines are written here with the
        // crate's own serializer.
        writeln!(hlog, "#[Histogram log format version 1.3]")?;
        writeln!(
            hlog,
            "#[Values are latencies in microseconds; Interval_Max is in milliseconds]"
        )?;
        writeln!(
            hlog,
            "#[StartTime: {start:.3} (seconds since epoch), {}]",
            humantime::format_rfc3339_millis(started)
        )?;
        writeln!(hlog, "#[BaseTime: {start:.3} (seconds since epoch)]")?;
        writeln!(
            hlog,
            "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\""
        )?;
        Ok(Self {
            dir: dir.to_owned(),
            endpoints,
            csv,
            hlog,
            serializer: V2DeflateSerializer::new(),
            buffer: Vec::new(),
            intervals: None,
        })
    }

    /// Also writes `intervals.jsonl`: a header line with the endpoint and check tables, then every
    /// second complete (all histograms and counters), so that shards can be merged exactly.
    pub fn keep_intervals(&mut self, check_names: &[String]) -> io::Result<()> {
        let path = temporary_path(&self.dir.join(Self::INTERVALS));
        let mut file = BufWriter::new(File::create(path)?);
        let header = IntervalLog {
            endpoints: self.endpoints.clone(),
            check_names: check_names.to_vec(),
            intervals: Vec::new(),
        };
        serde_json::to_writer(&mut file, &header)?;
        writeln!(file)?;
        self.intervals = Some(file);
        Ok(())
    }

    /// Learns the endpoints added to the run's table since (a script's, found as it runs): ids
    /// only grow, so `endpoints` extends the known ones.
    pub fn learn_endpoints(&mut self, endpoints: &[Endpoint]) {
        if let Some(new) = endpoints.get(self.endpoints.len()..) {
            self.endpoints.extend_from_slice(new);
        }
    }

    /// Appends one completed second.
    pub fn push(&mut self, interval: &Interval) -> io::Result<()> {
        if let Some(file) = &mut self.intervals {
            serde_json::to_writer(&mut *file, interval)?;
            writeln!(file)?;
        }
        let gauges = interval.gauges;
        if interval.series.is_empty() {
            self.csv.serialize(TimeseriesRow {
                second: interval.second,
                vus: gauges.vus,
                in_flight: gauges.in_flight,
                dropped_iterations: interval.dropped_iterations,
                iterations: interval.iterations,
                ..TimeseriesRow::default()
            })?;
        }
        let mut all = LatencyHistogram::default();
        for (key, series) in &interval.series {
            let endpoint = &self.endpoints[key.endpoint.0 as usize];
            let stats = series.latency.stats();
            self.csv.serialize(TimeseriesRow {
                second: interval.second,
                scenario: endpoint.scenario.clone(),
                name: endpoint.name.clone(),
                method: endpoint.method.clone(),
                status: key.outcome.to_string(),
                count: series.count,
                errors: if key.outcome.is_failure() {
                    series.count
                } else {
                    0
                },
                p50_ms: Some(stats.p50),
                p90_ms: Some(stats.p90),
                p95_ms: Some(stats.p95),
                p99_ms: Some(stats.p99),
                max_ms: Some(stats.max),
                vus: gauges.vus,
                in_flight: gauges.in_flight,
                dropped_iterations: interval.dropped_iterations,
                iterations: interval.iterations,
                extra: Vec::new(),
            })?;
            all.merge(&series.latency);
            let tag = hlog_tag(&endpoint.name, &key.outcome.to_string());
            self.write_histogram(Some(&tag), interval.second, &series.latency)?;
        }
        self.write_histogram(None, interval.second, &all)
    }

    fn write_histogram(
        &mut self,
        tag: Option<&str>,
        second: u64,
        histogram: &LatencyHistogram,
    ) -> io::Result<()> {
        self.buffer.clear();
        self.serializer
            .serialize(histogram.inner(), &mut self.buffer)
            .map_err(|e| io::Error::other(format!("{e:?}")))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.buffer);
        if let Some(tag) = tag {
            write!(self.hlog, "Tag={tag},")?;
        }
        let max_ms = if histogram.count() == 0 {
            0.0
        } else {
            histogram.inner().max() as f64 / 1e3
        };
        writeln!(self.hlog, "{second}.000,1.000,{max_ms:.3},{encoded}")
    }

    /// Writes `summary.json` and renames the streamed files into place.
    pub fn finish(mut self, summary: &Summary) -> io::Result<()> {
        self.csv.flush()?;
        self.hlog.flush()?;
        let csv = self.csv.into_inner().map_err(|e| e.into_error())?;
        csv.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        self.hlog
            .into_inner()
            .map_err(|e| e.into_error())?
            .sync_all()?;
        let mut names = vec![Self::TIMESERIES, Self::HLOG];
        if let Some(file) = self.intervals {
            file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            names.push(Self::INTERVALS);
        }
        for name in names {
            let path = self.dir.join(name);
            fs::rename(temporary_path(&path), &path)?;
        }
        let json = serde_json::to_vec_pretty(summary).map_err(io::Error::other)?;
        write_atomic(&self.dir.join(Self::SUMMARY), &json)
    }
}

/// The tag of an endpoint's histograms in `latency.hlog`: `name.outcome`, with commas, whitespace
/// and '=' (which HdrHistogram tags may not contain) replaced by '_'.
pub fn hlog_tag(name: &str, outcome: &str) -> String {
    format!("{name}.{outcome}")
        .chars()
        .map(|c| {
            if c == ',' || c == '=' || c.is_whitespace() {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// An error that names the file it is about.
fn file_error(path: &Path, kind: io::ErrorKind, what: impl std::fmt::Display) -> io::Error {
    io::Error::new(kind, format!("{}: {what}", path.display()))
}

/// The longest run a results directory may describe: 31 days, in seconds. A damaged file's
/// second of 10^12 is an error naming it, not a chart of 10^12 points.
pub const MAX_SECOND: u64 = 31 * 24 * 3600;

/// The largest streamed results file read (`timeseries.csv`, `latency.hlog`, `intervals.jsonl`,
/// `cluster.csv`): 4 GiB.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The largest `summary.json` read: 64 MiB (its size grows with endpoints and checks, not with
/// the run's length).
pub const MAX_SUMMARY_BYTES: u64 = 64 << 20;

/// The bytes of the results file `path` (a regular file of at most `limit` bytes); errors name it.
pub(crate) fn read_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    scalelab_config::read_bounded(path, limit).map_err(|e| file_error(path, e.kind(), e))
}

/// Reads a `summary.json`, whose endpoint rows must add up to its totals (so that what readers
/// add from them fits in a `u64`).
pub fn read_summary(dir: &Path) -> io::Result<Summary> {
    let path = dir.join(ResultsWriter::SUMMARY);
    let bytes = read_file(&path, MAX_SUMMARY_BYTES)?;
    let invalid = |what: String| file_error(&path, io::ErrorKind::InvalidData, what);
    let summary: Summary = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    let (mut requests, mut failures) = (0u64, 0u64);
    for endpoint in &summary.endpoints {
        let count = endpoint.latency.count;
        requests = requests
            .checked_add(count)
            .ok_or_else(|| invalid("the endpoints' requests add up past 2^64 - 1".to_owned()))?;
        failures += if endpoint.failed { count } else { 0 };
    }
    let totals = &summary.totals;
    if (requests, failures) != (totals.requests, totals.failures) {
        return Err(invalid(format!(
            "the endpoints count {requests} requests, {failures} failed; the totals {}, {}",
            totals.requests, totals.failures
        )));
    }
    Ok(summary)
}

/// Reads every row of a `timeseries.csv`. Columns beyond [`TimeseriesRow::COLUMNS`] are kept in
/// each row's `extra` when they hold numbers (an empty cell is left out).
pub fn read_timeseries(dir: &Path) -> io::Result<Vec<TimeseriesRow>> {
    let path = dir.join(ResultsWriter::TIMESERIES);
    let invalid = |what: String| file_error(&path, io::ErrorKind::InvalidData, what);
    let bytes = read_file(&path, MAX_FILE_BYTES)?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let headers = reader
        .headers()
        .map_err(|e| invalid(e.to_string()))?
        .clone();
    if let Some(missing) = TimeseriesRow::COLUMNS
        .iter()
        .find(|column| !headers.iter().any(|h| h == **column))
    {
        return Err(invalid(format!("no column '{missing}'")));
    }
    let extra_columns: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !TimeseriesRow::COLUMNS.contains(h))
        .map(|(i, h)| (i, h.to_owned()))
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| invalid(e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let mut row: TimeseriesRow = record
            .deserialize(Some(&headers))
            .map_err(|e| invalid(format!("line {line}: {e}")))?;
        if row.second > MAX_SECOND {
            return Err(invalid(format!(
                "line {line}, column 'second': {} is beyond the longest run a results directory \
                 holds ({MAX_SECOND} s, 31 days)",
                row.second
            )));
        }
        let latencies = [
            ("p50_ms", row.p50_ms),
            ("p90_ms", row.p90_ms),
            ("p95_ms", row.p95_ms),
            ("p99_ms", row.p99_ms),
            ("max_ms", row.max_ms),
        ];
        if let Some((column, value)) = latencies
            .into_iter()
            .filter_map(|(column, value)| Some((column, value?)))
            .find(|(_, value)| !(value.is_finite() && *value >= 0.0))
        {
            return Err(invalid(format!(
                "line {line}, column '{column}': {value} is not a latency (a finite number >= 0)"
            )));
        }
        for (index, column) in &extra_columns {
            let cell = record.get(*index).unwrap_or("").trim();
            if cell.is_empty() {
                continue;
            }
            let value = cell
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    invalid(format!(
                        "line {line}, column '{column}': '{cell}' is not a finite number"
                    ))
                })?;
            row.extra.push((column.clone(), value));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// What `latency.hlog` holds, merged back into histograms.
#[derive(Clone, Debug, Default)]
pub struct LatencyLog {
    /// Every request of each second (the log's untagged histograms), in order of second.
    pub per_second: Vec<(u64, LatencyHistogram)>,
    /// Each endpoint and outcome (tag [`hlog_tag`]) over the whole run.
    pub by_tag: BTreeMap<String, LatencyHistogram>,
}

/// Reads a `latency.hlog` written by [`ResultsWriter`].
pub fn read_latency_log(dir: &Path) -> io::Result<LatencyLog> {
    let path = dir.join(ResultsWriter::HLOG);
    let invalid = |what: String| file_error(&path, io::ErrorKind::InvalidData, what);
    let bytes = read_file(&path, MAX_FILE_BYTES)?;
    let mut log = LatencyLog::default();
    for entry in IntervalLogIterator::new(&bytes) {
        let LogEntry::Interval(interval) = entry.map_err(|e| invalid(format!("{e:?}")))? else {
            continue;
        };
        let encoded = base64::engine::general_purpose::STANDARD
            .decode(interval.encoded_histogram())
            .map_err(|e| invalid(e.to_string()))?;
        let histogram = crate::histogram::decode(&encoded).map_err(invalid)?;
        let target = match interval.tag() {
            Some(tag) => log.by_tag.entry(tag.as_str().to_owned()).or_default(),
            None => {
                let second = interval.start_timestamp().as_secs();
                if second > MAX_SECOND {
                    return Err(invalid(format!(
                        "an interval starts at second {second}, beyond the longest run a results \
                         directory holds ({MAX_SECOND} s, 31 days)"
                    )));
                }
                match log.per_second.last_mut() {
                    Some((last, histogram)) if *last == second => histogram,
                    _ => {
                        log.per_second.push((second, LatencyHistogram::default()));
                        &mut log.per_second.last_mut().expect("just pushed").1
                    }
                }
            }
        };
        target.merge_hdr(&histogram);
    }
    Ok(log)
}

/// Reads an `intervals.jsonl` written by [`ResultsWriter::keep_intervals`]. Each line is checked
/// as the writer makes them: seconds in increasing order within the longest run, series sorted by
/// endpoint and outcome with endpoints in the header's table and as many latencies as requests,
/// and no more checks than the header names; an error names the file and line.
pub fn read_intervals(dir: &Path) -> io::Result<IntervalLog> {
    let path = dir.join(ResultsWriter::INTERVALS);
    let text = scalelab_config::read_text_bounded(&path, MAX_FILE_BYTES)
        .map_err(|e| file_error(&path, e.kind(), e))?;
    let invalid = |line: usize, e: &dyn std::fmt::Display| {
        file_error(
            &path,
            io::ErrorKind::InvalidData,
            format!("line {line}: {e}"),
        )
    };
    let mut lines = text.lines().enumerate();
    let (_, header) = lines
        .next()
        .ok_or_else(|| file_error(&path, io::ErrorKind::InvalidData, "empty file"))?;
    let mut log: IntervalLog = serde_json::from_str(header).map_err(|e| invalid(1, &e))?;
    for (index, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
        let interval: Interval = serde_json::from_str(line).map_err(|e| invalid(index + 1, &e))?;
        let after = log.intervals.last().map(|last| last.second);
        check_interval(&interval, after, &log).map_err(|e| invalid(index + 1, &e))?;
        log.intervals.push(interval);
    }
    Ok(log)
}

/// Whether `interval`, read after second `after`, is one the writer could have made with `log`'s
/// tables.
fn check_interval(
    interval: &Interval,
    after: Option<u64>,
    log: &IntervalLog,
) -> Result<(), String> {
    let second = interval.second;
    if second > MAX_SECOND {
        return Err(format!(
            "second {second} is beyond the longest run a results directory holds ({MAX_SECOND} s, \
             31 days)"
        ));
    }
    if let Some(after) = after.filter(|after| second <= *after) {
        return Err(format!("second {second} follows second {after}"));
    }
    for pair in interval.series.windows(2) {
        if pair[0].0 >= pair[1].0 {
            return Err(format!("second {second}: its series are not in order"));
        }
    }
    for (key, series) in &interval.series {
        if key.endpoint.0 as usize >= log.endpoints.len() {
            return Err(format!(
                "second {second}: endpoint {} is not in the header's {} endpoints",
                key.endpoint.0,
                log.endpoints.len()
            ));
        }
        if series.count != series.latency.count() {
            return Err(format!(
                "second {second}: {} requests of endpoint {} ({}) but {} latencies",
                series.count,
                key.endpoint.0,
                key.outcome,
                series.latency.count()
            ));
        }
    }
    if interval.checks.len() > log.check_names.len() {
        return Err(format!(
            "second {second}: {} checks, the header names {}",
            interval.checks.len(),
            log.check_names.len()
        ));
    }
    interval
        .check_sums()
        .map_err(|e| format!("second {second}: {e}"))
}
