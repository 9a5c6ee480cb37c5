//! The files a run writes: `summary.json`, `timeseries.csv` and `latency.hlog`. Each is written
//! under a temporary name in the results directory and renamed into place, so a reader never sees
//! a half-written file.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use serde::Serialize;

use crate::{Endpoint, Interval, LatencyHistogram, Summary};

/// Writes `bytes` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
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
#[derive(Serialize)]
struct TimeseriesRow<'a> {
    second: u64,
    scenario: &'a str,
    name: &'a str,
    method: &'a str,
    /// Status code or error kind.
    status: String,
    count: u64,
    /// Requests of this row that failed (an error, or a status outside 200–399).
    errors: u64,
    p50_ms: f64,
    p90_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    vus: u64,
    in_flight: u64,
    dropped_iterations: u64,
    iterations: u64,
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
}

impl ResultsWriter {
    pub const SUMMARY: &'static str = "summary.json";
    pub const TIMESERIES: &'static str = "timeseries.csv";
    pub const HLOG: &'static str = "latency.hlog";

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
        })
    }

    /// Appends one completed second.
    pub fn push(&mut self, interval: &Interval) -> io::Result<()> {
        let gauges = interval.gauges;
        if interval.series.is_empty() {
            self.csv.serialize(TimeseriesRow {
                second: interval.second,
                scenario: "",
                name: "",
                method: "",
                status: String::new(),
                count: 0,
                errors: 0,
                p50_ms: 0.0,
                p90_ms: 0.0,
                p95_ms: 0.0,
                p99_ms: 0.0,
                max_ms: 0.0,
                vus: gauges.vus,
                in_flight: gauges.in_flight,
                dropped_iterations: interval.dropped_iterations,
                iterations: interval.iterations,
            })?;
        }
        let mut all = LatencyHistogram::default();
        for (key, series) in &interval.series {
            let endpoint = &self.endpoints[key.endpoint.0 as usize];
            let stats = series.latency.stats();
            self.csv.serialize(TimeseriesRow {
                second: interval.second,
                scenario: &endpoint.scenario,
                name: &endpoint.name,
                method: &endpoint.method,
                status: key.outcome.to_string(),
                count: series.count,
                errors: if key.outcome.is_failure() {
                    series.count
                } else {
                    0
                },
                p50_ms: stats.p50,
                p90_ms: stats.p90,
                p95_ms: stats.p95,
                p99_ms: stats.p99,
                max_ms: stats.max,
                vus: gauges.vus,
                in_flight: gauges.in_flight,
                dropped_iterations: interval.dropped_iterations,
                iterations: interval.iterations,
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
        for name in [Self::TIMESERIES, Self::HLOG] {
            let path = self.dir.join(name);
            fs::rename(temporary_path(&path), &path)?;
        }
        let json = serde_json::to_vec_pretty(summary).map_err(io::Error::other)?;
        write_atomic(&self.dir.join(Self::SUMMARY), &json)
    }
}

/// HdrHistogram tags may not contain commas, whitespace or '='.
fn hlog_tag(name: &str, outcome: &str) -> String {
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

/// Reads a `summary.json`.
pub fn read_summary(dir: &Path) -> io::Result<Summary> {
    let path = dir.join(ResultsWriter::SUMMARY);
    let text = fs::read_to_string(&path)?;
    serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}
