//! `scalelab fit RESULTS_DIR --cpu FILE`: the capacity model from an earlier run and its server's
//! CPU series (CloudWatch, Prometheus or CSV); writes capacity.yaml.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;
use scalelab_metrics::output::write_atomic;
use scalelab_probe::fit::{RunLoad, align, fit};
use scalelab_probe::series::Series;

use crate::files::read_text;

#[derive(Args)]
pub struct FitArgs {
    /// A results directory of `scalelab run` or `scalelab cluster` (summary.json, timeseries.csv).
    results: PathBuf,
    /// The server's CPU % over the run: CloudWatch get-metric-data JSON, Prometheus query_range
    /// JSON, or CSV of timestamp,value.
    #[arg(long)]
    cpu: PathBuf,
    /// vCPUs of the machine the CPU % is of.
    #[arg(long)]
    vcpus: u32,
    /// Where to write the model [default: RESULTS/capacity.yaml].
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: FitArgs) -> anyhow::Result<ExitCode> {
    if !(1..=1024).contains(&args.vcpus) {
        bail!("--vcpus must be from 1 to 1024");
    }
    let load = RunLoad::read(&args.results)
        .with_context(|| format!("results {}", args.results.display()))?;
    let series = Series::parse(&read_text(&args.cpu, "CPU series")?)
        .with_context(|| format!("{}", args.cpu.display()))?;
    let pairs = align(&load, &series).with_context(|| format!("{}", args.cpu.display()))?;
    let (line, model) = fit(&pairs, args.vcpus)?;
    let out = args
        .out
        .unwrap_or_else(|| args.results.join(scalelab_probe::output::MODEL_FILE));
    write_atomic(&out, model.to_yaml().as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{} CPU datapoints of {} aligned to the run ({} s each)\n\
         CPU model        {:.6} % per request/s + {:.3} % idle (on {} vCPUs), R² {:.4}\n\
         CPU per request  {:.3} ms\n\
         wrote {}",
        pairs.len(),
        series.format,
        series.period().unwrap_or_default(),
        line.slope,
        line.intercept,
        args.vcpus,
        line.r2,
        model.cpu.cpu_seconds_per_request * 1000.0,
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
