//! What `run`, `quick`, `demo` and `cluster --plan` share: their flags become the runner's
//! [`Settings`]; the run's summary is printed and its verdict is the exit code.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use clap::Args;
use scalelab_load::plan::Plan;
use scalelab_report::Exposition;
use scalelab_runner::{Finished, Settings};

pub use scalelab_runner::{Part, exit};
use scalelab_script::Script;

/// Options every command that runs load accepts.
#[derive(Args, Debug, Clone, Default)]
pub struct ExecArgs {
    /// Write summary.json, timeseries.csv, latency.hlog and report.html to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Loader threads [default: one per core].
    #[arg(long, value_parser = crate::args::threads)]
    pub threads: Option<usize>,
    /// Show only the final summary.
    #[arg(long)]
    pub quiet: bool,
    /// Serve Prometheus metrics of the run at http://ADDR/metrics while it lasts (e.g. 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Write the thresholds, checks and the run's own verdict to this file as JUnit XML, for CI.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The shard of a test this run is (`run --shard`).
    #[arg(skip)]
    pub part: Option<Part>,
    /// When the schedule begins (`run --start-at`); now when `None`.
    #[arg(skip)]
    pub start_at: Option<SystemTime>,
}

impl ExecArgs {
    fn settings(&self, exposition: Option<Arc<Exposition>>) -> Settings {
        Settings {
            out: self.out.clone(),
            threads: self.threads,
            quiet: self.quiet,
            metrics_addr: self.metrics_addr,
            junit: self.junit.clone(),
            part: self.part.clone(),
            start_at: self.start_at,
            exposition,
        }
    }
}

/// Runs `plan` and reports it; returns the exit code.
pub async fn execute(plan: Plan, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    execute_with(plan, args, None).await
}

/// Runs a k6 script (its plan from its `options`, its code per VU) and reports it.
pub async fn execute_script(script: Script, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    let plan = script.plan.clone();
    let ran = scalelab_runner::run(
        plan,
        Some(&script),
        &args.settings(None),
        crate::signals::interrupted(),
    )
    .await;
    report(ran)
}

/// [`execute`], with the run's metrics joining `exposition` (a cluster's gauges) at `--metrics-addr`.
pub async fn execute_with(
    plan: Plan,
    args: &ExecArgs,
    exposition: Option<Arc<Exposition>>,
) -> anyhow::Result<ExitCode> {
    let settings = args.settings(exposition);
    let ran = scalelab_runner::run(plan, None, &settings, crate::signals::interrupted()).await;
    report(ran)
}

/// Prints a finished run (summary, script exceptions, where its results are) and gives its exit
/// code; a run that could not be carried out gets its error and code.
fn report(ran: Result<Finished, scalelab_runner::RunError>) -> anyhow::Result<ExitCode> {
    let finished = match ran {
        Ok(finished) => finished,
        Err(scalelab_runner::RunError::Other(error)) => return Err(error),
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(error.exit_code()));
        }
    };
    print!("{}", scalelab_report::summary_table(&finished.summary));
    if let Some((count, first)) = &finished.script_exceptions {
        println!(
            "\n  script exceptions: {count} uncaught in iterations (the iterations ended there; the run went on)\n    first: {first}"
        );
    }
    if let Some((dir, report)) = &finished.results {
        println!("\n  results: {}", dir.display());
        match report {
            Ok(report) => println!("  report:  {}", report.display()),
            Err(error) => eprintln!("warning: no HTML report: {error}"),
        }
    }
    Ok(ExitCode::from(finished.verdict.exit_code()))
}
