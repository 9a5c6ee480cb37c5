//! Measurement: what one request produced ([`Sample`]), one second of a run ([`Interval`]), the whole
//! run ([`Summary`]), pass/fail criteria ([`threshold`]) and the files a run writes ([`output`]).
//!
//! Latencies are recorded in microseconds in HDR histograms with 3 significant digits (a recorded
//! value is within 0.1 % of the true one). Intervals merge exactly: merging the histograms of
//! several seconds, threads or machines gives the same histogram as recording everything in one.

mod cluster_row;
mod custom;
mod histogram;
mod interval;
pub mod merge;
pub mod output;
mod sample;
mod summary;
pub mod threshold;

pub use cluster_row::{ClusterRow, read_cluster};
pub use custom::{CustomKind, CustomSummary, CustomValues};
pub use histogram::{LatencyHistogram, Stats};
pub use interval::{
    Endpoint, EndpointId, Gauges, Interval, ScenarioActivity, Series, SeriesKey, Unmergeable,
};
pub use sample::{ErrorKind, Outcome, Phases, Sample};
pub use summary::{
    CheckSummary, EarlyStop, EndpointSummary, LoaderUse, MergeRecord, SCHEMA_VERSION, ShardRecord,
    Summary, SummaryInput, Totals,
};
