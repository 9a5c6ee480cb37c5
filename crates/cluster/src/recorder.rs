//! Per-second gauges into the results directory: `cluster.csv` (a [`ClusterRow`] per second and group) and
//! `replicas.csv` (a row per second and replica). Seconds count from the cluster's clock zero, which is
//! when a plan's load starts, so they line up with the `second` of `timeseries.csv`.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;

use scalelab_metrics::ClusterRow;
use serde::Serialize;

use crate::group::GroupStatus;

const MIB: f64 = 1024.0 * 1024.0;

#[derive(Default, Serialize)]
struct ReplicaRow<'a> {
    second: u64,
    group: &'a str,
    replica: u64,
    pid: u32,
    phase: &'a str,
    cpu_pct: Option<f64>,
    rss_mib: f64,
    requests_total: u64,
    in_flight: u64,
}

/// Streams `cluster.csv` and `replicas.csv`, flushed every second.
pub struct Recorder {
    groups: csv::Writer<BufWriter<File>>,
    replicas: csv::Writer<BufWriter<File>>,
}

impl Recorder {
    pub const GROUPS: &'static str = ClusterRow::FILE;
    pub const REPLICAS: &'static str = "replicas.csv";

    /// Creates both files with their headers.
    pub fn create(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            groups: with_header(&dir.join(Self::GROUPS), &ClusterRow::default())?,
            replicas: with_header(&dir.join(Self::REPLICAS), &ReplicaRow::default())?,
        })
    }

    /// Appends second `second` of every group.
    pub fn push(&mut self, second: u64, statuses: &[GroupStatus]) -> io::Result<()> {
        let round = |x: f64| (x * 10.0).round() / 10.0;
        for status in statuses {
            self.groups.serialize(ClusterRow {
                second,
                group: status.name.clone(),
                desired: status.desired,
                in_service: status.in_service,
                pending: status.pending,
                draining: status.draining,
                cpu_avg_pct: status.cpu_avg.map(round),
                memory_avg_mib: status.memory_avg_bytes.map(|b| round(b / MIB)),
                memory_avg_pct: status.memory_avg.map(|m| (m * 100.0).round() / 100.0),
                requests: status.requests,
                errors: status.errors,
                lb_502: status.bad_gateway,
                lb_503: status.unavailable,
                lb_504: status.gateway_timeout,
                in_flight: status.in_flight,
                p50_ms: status.latency_p50_ms,
                p95_ms: status.latency_p95_ms,
                p99_ms: status.latency_p99_ms,
            })?;
            for replica in &status.replicas {
                self.replicas.serialize(ReplicaRow {
                    second,
                    group: &status.name,
                    replica: replica.id,
                    pid: replica.pid,
                    phase: replica.phase,
                    cpu_pct: replica.cpu.map(round),
                    rss_mib: round(replica.resident_bytes as f64 / MIB),
                    requests_total: replica.requests,
                    in_flight: replica.in_flight,
                })?;
            }
        }
        self.groups.flush()?;
        self.replicas.flush()
    }
}

/// A CSV file at `path` whose header, the field names of `sample`'s type, is written and flushed at
/// once, so that a run stopped before its first row still leaves a file that says what it holds. Rows
/// then go without a header of their own.
pub(crate) fn with_header<T: Serialize>(
    path: &Path,
    sample: &T,
) -> io::Result<csv::Writer<BufWriter<File>>> {
    let mut named = csv::Writer::from_writer(Vec::new());
    named.serialize(sample)?;
    let text = named.into_inner().map_err(|e| e.into_error())?;
    let header = csv::Reader::from_reader(text.as_slice()).headers()?.clone();
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(BufWriter::new(File::create(path)?));
    writer.write_record(&header)?;
    writer.flush()?;
    Ok(writer)
}
