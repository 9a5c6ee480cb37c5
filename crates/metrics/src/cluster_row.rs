//! `cluster.csv`: one row per second and group of a `scalelab cluster` run, written by the cluster's
//! recorder and read back by the report and by `cost`.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// One second of one group of a live cluster. Seconds count from the cluster's clock zero (when a
/// plan's load starts), so they line up with the `second` of `timeseries.csv`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterRow {
    pub second: u64,
    pub group: String,
    /// The capacity the autoscaler wants.
    pub desired: u32,
    /// Replicas passing health checks, starting, and finishing their requests before they stop.
    pub in_service: u32,
    pub pending: u32,
    pub draining: u32,
    /// Average CPU % of the replicas in service; empty before the first measurement.
    pub cpu_avg_pct: Option<f64>,
    /// Average resident memory of the replicas in service, in MiB and in % of the limit.
    pub memory_avg_mib: Option<f64>,
    pub memory_avg_pct: Option<f64>,
    /// Requests through the load balancer in this second, and those answered 5xx.
    pub requests: u64,
    pub errors: u64,
    /// The balancer's own 502, 503 and 504 answers.
    pub lb_502: u64,
    pub lb_503: u64,
    pub lb_504: u64,
    pub in_flight: u64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl ClusterRow {
    /// The file name inside a results directory.
    pub const FILE: &'static str = "cluster.csv";

    /// Replicas billed in this second: in service, pending and draining (as `u64`, so that the sum
    /// of an edited file's counts cannot overflow).
    pub fn replicas(&self) -> u64 {
        u64::from(self.in_service) + u64::from(self.pending) + u64::from(self.draining)
    }

    /// Requests answered without a 5xx in this second.
    pub fn served(&self) -> u64 {
        self.requests.saturating_sub(self.errors)
    }
}

/// Reads `cluster.csv` from `dir`: `Ok(None)` when the directory has none (the run had no cluster);
/// errors name the file and line.
pub fn read_cluster(dir: &Path) -> io::Result<Option<Vec<ClusterRow>>> {
    let path = dir.join(ClusterRow::FILE);
    if !path.exists() {
        return Ok(None);
    }
    let invalid = |what: String| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {what}", path.display()),
        )
    };
    let bytes = crate::output::read_file(&path, crate::output::MAX_FILE_BYTES)?;
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let mut rows = Vec::new();
    for (index, row) in reader.deserialize().enumerate() {
        let row: ClusterRow = row.map_err(|e: csv::Error| invalid(e.to_string()))?;
        if row.second > crate::output::MAX_SECOND {
            return Err(invalid(format!(
                "line {}, column 'second': {} is past the longest run a results directory holds \
                 ({} s, 31 days)",
                index + 2,
                row.second,
                crate::output::MAX_SECOND
            )));
        }
        rows.push(row);
    }
    Ok(Some(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_bad_cells_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_cluster(dir.path()).unwrap().is_none());
        let rows = vec![
            ClusterRow {
                second: 0,
                group: "api".into(),
                desired: 2,
                in_service: 1,
                pending: 1,
                ..ClusterRow::default()
            },
            ClusterRow {
                second: 1,
                group: "api".into(),
                in_service: 2,
                draining: 1,
                cpu_avg_pct: Some(42.5),
                requests: 10,
                errors: 3,
                ..ClusterRow::default()
            },
        ];
        let mut writer = csv::Writer::from_path(dir.path().join(ClusterRow::FILE)).unwrap();
        for row in &rows {
            writer.serialize(row).unwrap();
        }
        writer.flush().unwrap();
        let read = read_cluster(dir.path()).unwrap().unwrap();
        assert_eq!(read, rows);
        assert_eq!((read[1].replicas(), read[1].served()), (3, 7));
        let text = std::fs::read_to_string(dir.path().join(ClusterRow::FILE)).unwrap();
        std::fs::write(
            dir.path().join(ClusterRow::FILE),
            text.replace("1,api,0,2,0,1", "1,api,0,two,0,1"),
        )
        .unwrap();
        let error = read_cluster(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("cluster.csv") && error.contains("line: 3"),
            "{error}"
        );
    }
}
