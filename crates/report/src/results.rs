//! A results directory loaded back: the summary, the time series and the latency log.

use std::io;
use std::path::Path;

use scalelab_metrics::output::{
    LatencyLog, TimeseriesRow, read_latency_log, read_summary, read_timeseries,
};
use scalelab_metrics::{ClusterRow, Summary, read_cluster};

/// Everything a run wrote that reports are made from.
#[derive(Clone, Debug)]
pub struct RunResults {
    pub summary: Summary,
    pub timeseries: Vec<TimeseriesRow>,
    pub latency: LatencyLog,
    /// `cluster.csv` of a `scalelab cluster` run, when there is one.
    pub cluster: Vec<ClusterRow>,
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
            cluster: read_cluster(dir)?.unwrap_or_default(),
        })
    }
}
