//! `scalelab report DIR`: rebuilds `report.html` from a results directory's files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Args)]
pub struct ReportArgs {
    /// A results directory (with summary.json, timeseries.csv and latency.hlog).
    dir: PathBuf,
}

pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let path = scalelab_report::write_html_report(&args.dir)?;
    println!("report: {}", path.display());
    Ok(ExitCode::SUCCESS)
}
