//! A results directory loaded back: the summary, the time series and the latency log.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use scalelab_metrics::Summary;
use scalelab_metrics::output::{
    LatencyLog, MAX_SECOND, TimeseriesRow, read_latency_log, read_summary, read_timeseries,
};

/// Everything a run wrote that reports are made from.
#[derive(Clone, Debug)]
pub struct RunResults {
    pub summary: Summary,
    pub timeseries: Vec<TimeseriesRow>,
    pub latency: LatencyLog,
    /// `cluster.csv` of a `scalelab cluster` run, when there is one.
    pub cluster: Vec<ClusterRow>,
}

/// One second of one group of a cluster run: its numeric columns by name.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterRow {
    pub second: u64,
    pub group: String,
    pub values: BTreeMap<String, f64>,
}

/// The file `scalelab cluster` writes a row per second and group to.
pub const CLUSTER_FILE: &str = "cluster.csv";

/// Reads `cluster.csv` from `dir` (empty when the run had no cluster). Columns other than
/// `second` and `group` are read as numbers; an empty cell (no measurement yet) is left out.
fn read_cluster(dir: &Path) -> io::Result<Vec<ClusterRow>> {
    let path = dir.join(CLUSTER_FILE);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let invalid = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {why}", path.display()),
        )
    };
    let mut reader = csv::Reader::from_path(&path).map_err(|e| invalid(e.to_string()))?;
    let headers = reader
        .headers()
        .map_err(|e| invalid(e.to_string()))?
        .clone();
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(e.to_string()))?;
        let mut row = ClusterRow {
            second: 0,
            group: String::new(),
            values: BTreeMap::new(),
        };
        for (name, cell) in headers.iter().zip(record.iter()) {
            match name {
                "second" => {
                    row.second = cell
                        .parse()
                        .ok()
                        .filter(|second| *second <= MAX_SECOND)
                        .ok_or_else(|| {
                            invalid(format!(
                                "line {}, column 'second': '{cell}' is not a second of a run \
                                 (0 to {MAX_SECOND}, 31 days)",
                                index + 2
                            ))
                        })?
                }
                "group" => row.group = cell.to_owned(),
                _ => {
                    if let Ok(value) = cell.parse() {
                        row.values.insert(name.to_owned(), value);
                    }
                }
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

impl RunResults {
    /// Reads `summary.json`, `timeseries.csv` and `latency.hlog` from `dir`; errors name the
    /// directory or the file that is missing or unreadable.
    pub fn load(dir: &Path) -> io::Result<Self> {
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{}: no such results directory", dir.display()),
            ));
        }
        Ok(Self {
            summary: read_summary(dir)?,
            timeseries: read_timeseries(dir)?,
            latency: read_latency_log(dir)?,
            cluster: read_cluster(dir)?,
        })
    }
}
