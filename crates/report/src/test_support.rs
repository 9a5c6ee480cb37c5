//! What the crate's unit tests share.

use scalelab_metrics::{EarlyStop, Interval, Summary, SummaryInput};

/// The summary of a one-second open-model run whose seconds merge into `total`.
pub fn summary_of(total: &Interval, stopped_early: Option<EarlyStop>) -> Summary {
    Summary::build(SummaryInput {
        started_at: String::new(),
        duration_seconds: 1.0,
        open_model: true,
        endpoints: &[],
        check_names: &[],
        total,
        requests_per_second: &[],
        max_vus: 1,
        vus_allocated: 1,
        thresholds: vec![],
        stopped_early,
    })
}
