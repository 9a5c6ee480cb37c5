//! `scalelab merge DIR... --out DIR`: the results of a test's shards merged into one run's results.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use scalelab_metrics::merge::merge_shards;

use scalelab_runner::{Verdict, write_junit};

#[derive(Args)]
pub struct MergeArgs {
    /// The shards' results directories (each written by `run --shard I/N --out DIR`).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Write the merged summary.json, timeseries.csv, latency.hlog and report.html here.
    #[arg(long)]
    out: PathBuf,
    /// Merge even if some shards are missing; the summary lists them under `merged.missing`.
    #[arg(long)]
    allow_partial: bool,
    /// Write the thresholds and checks to this file as JUnit XML.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    merge_into(
        &args.dirs,
        &args.out,
        args.allow_partial,
        args.junit.as_deref(),
    )
}

/// Merges `dirs` into `out`, prints the summary, writes the report; the exit code is the verdict.
pub fn merge_into(
    dirs: &[PathBuf],
    out: &Path,
    allow_partial: bool,
    junit: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let merged = merge_shards(dirs, allow_partial)?;
    merged
        .write(out)
        .with_context(|| format!("writing results to {}", out.display()))?;
    let summary = &merged.summary;
    print!("{}", scalelab_report::summary_table(summary));
    if let Some(record) = &summary.merged
        && !record.missing.is_empty()
    {
        eprintln!(
            "warning: shards {:?} of {} are missing: their load is not in these results",
            record.missing, record.count
        );
    }
    if let Some(path) = junit {
        write_junit(path, summary)?;
    }
    println!("\n  results: {}", out.display());
    match scalelab_report::write_html_report(out) {
        Ok(report) => println!("  report:  {}", report.display()),
        Err(error) => eprintln!("warning: no HTML report: {error}"),
    }
    Ok(ExitCode::from(Verdict::of_summary(summary).exit_code()))
}
