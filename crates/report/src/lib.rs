//! What a person sees of a run: the end-of-run summary table, the progress line, and, from a
//! results directory, the HTML report, thresholds and checks as JUnit XML, and the comparison of two runs.

pub mod compare;
mod evidence;
mod format;
mod html;
mod junit;
mod progress;
mod prometheus;
mod results;
mod scenario_line;
mod summary_table;
mod table;

pub use evidence::{LOADER_SEND_DELAY_LIMIT_MS, loader_limit, nothing_answered, stopped_early};
pub use format::{bytes, count, millis, number, usd};
pub use html::{
    Line, Panel, REPORT_FILE, SimPage, SweepPage, SweepPoint, Table, against_report,
    against_tables, html_report, sim_report, sweep_report, write_html_report, xy_page,
};
pub use junit::junit_xml;
pub use progress::progress_line;
pub use prometheus::{ClusterMetrics, Exposition, GroupGauges, RunMetrics, serve_metrics};
pub use results::RunResults;
pub use scenario_line::scenario_line;
pub use summary_table::summary_table;
pub use table::table;

#[cfg(test)]
mod test_support;
