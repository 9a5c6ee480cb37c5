//! What a person sees of a run: the end-of-run summary table and the progress line.

mod format;
mod progress;
mod prometheus;
mod scenario_line;
mod summary_table;

pub use format::{bytes, count, millis};
pub use progress::progress_line;
pub use prometheus::PrometheusExporter;
pub use scenario_line::scenario_line;
pub use summary_table::summary_table;
