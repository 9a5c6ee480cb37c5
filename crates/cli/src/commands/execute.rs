//! What `run`, `quick` and `demo` share: aim the plan (at the embedded service when it names no
//! target), run it with a progress line, write the results, print the summary, pick the exit code.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use scalelab_load::engine::{self, CompiledPlan, Interruption, Observer, Progress, RunOptions};
use scalelab_load::plan::Plan;
use scalelab_metrics::Interval;
use scalelab_metrics::output::{ResultsWriter, write_atomic};

/// Exit codes, as k6 uses them.
pub mod exit {
    /// A threshold failed.
    pub const THRESHOLDS_FAILED: u8 = 99;
    /// The plan is invalid.
    pub const INVALID_CONFIG: u8 = 104;
    /// Ctrl-C or SIGTERM stopped the run.
    pub const EXTERNAL_ABORT: u8 = 105;
}

/// Options every command that runs load accepts.
#[derive(Args, Debug, Clone, Default)]
pub struct ExecArgs {
    /// Write summary.json, timeseries.csv, latency.hlog and report.html to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Loader threads [default: one per core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Show only the final summary.
    #[arg(long)]
    pub quiet: bool,
    /// Write the thresholds and checks to this file as JUnit XML, for CI systems.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs `plan` and reports it; returns the exit code.
pub async fn execute(plan: Plan, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    let embedded = match &plan.target {
        Some(_) => None,
        None => Some(
            scalelab_target::start(scalelab_target::TargetConfig::loopback())
                .await
                .context("starting the embedded stress service")?,
        ),
    };
    let base = match (&plan.target, &embedded) {
        (Some(target), _) => target.clone(),
        (None, Some(service)) => {
            eprintln!(
                "no target in the plan: aiming at the embedded stress service on {}",
                service.url()
            );
            service.url()
        }
        (None, None) => unreachable!("started above"),
    };
    let compiled = match CompiledPlan::new(&plan, &base) {
        Ok(compiled) => Arc::new(compiled),
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(exit::INVALID_CONFIG));
        }
    };
    let mut options = RunOptions::default();
    if let Some(threads) = args.threads {
        options.threads = threads.max(1);
    }
    let stop = options.stop.clone();
    let signals = tokio::spawn(async move {
        crate::signals::interrupted().await;
        eprintln!("stopping: letting requests in flight finish, then writing results");
        stop.cancel();
    });
    let writer = match &args.out {
        Some(dir) => Some(
            ResultsWriter::create(dir, compiled.endpoints.clone(), SystemTime::now())
                .with_context(|| format!("creating results in {}", dir.display()))?,
        ),
        None => None,
    };
    let mut observer = Console::new(writer, compiled.duration(), args.quiet);
    let outcome = engine::run(compiled, options, &mut observer)
        .await
        .context("running the plan")?;
    signals.abort();
    if let Some(service) = embedded {
        service.shutdown().await?;
    }
    print!("{}", scalelab_report::summary_table(&outcome.summary));
    if let Some(path) = &args.junit {
        write_junit(path, &outcome.summary)?;
    }
    if let Some(writer) = observer.writer.take() {
        let dir = args.out.as_deref().unwrap_or(Path::new("."));
        if let Some(error) = observer.write_error.take() {
            eprintln!(
                "warning: some seconds were not written to {}: {error}",
                dir.display()
            );
        }
        writer
            .finish(&outcome.summary)
            .with_context(|| format!("writing results to {}", dir.display()))?;
        println!("\n  results: {}", dir.display());
        match scalelab_report::write_html_report(dir) {
            Ok(report) => println!("  report:  {}", report.display()),
            Err(error) => eprintln!("warning: no HTML report: {error}"),
        }
    }
    Ok(match outcome.interrupted {
        Some(Interruption::Threshold(_)) => ExitCode::from(exit::THRESHOLDS_FAILED),
        Some(Interruption::Stopped) => ExitCode::from(exit::EXTERNAL_ABORT),
        None if !outcome.summary.thresholds_passed() => ExitCode::from(exit::THRESHOLDS_FAILED),
        None => ExitCode::SUCCESS,
    })
}

/// Writes the JUnit XML of `summary` to `path` atomically, creating its directory.
fn write_junit(path: &Path, summary: &scalelab_metrics::Summary) -> anyhow::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    write_atomic(path, scalelab_report::junit_xml(summary).as_bytes())
        .with_context(|| format!("writing JUnit XML to {}", path.display()))
}

/// Prints a status line (each second on a terminal, every 10 s otherwise) and streams the
/// completed seconds to the results files.
struct Console {
    writer: Option<ResultsWriter>,
    write_error: Option<std::io::Error>,
    planned: Duration,
    quiet: bool,
    every: Duration,
    last: Option<Instant>,
}

impl Console {
    fn new(writer: Option<ResultsWriter>, planned: Duration, quiet: bool) -> Self {
        let every = if std::io::stderr().is_terminal() {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(10)
        };
        Self {
            writer,
            write_error: None,
            planned,
            quiet,
            every,
            last: None,
        }
    }
}

impl Observer for Console {
    fn on_interval(&mut self, interval: &Interval, progress: &Progress<'_>) {
        if let Some(writer) = &mut self.writer
            && let Err(error) = writer.push(interval)
        {
            self.write_error.get_or_insert(error);
        }
        if self.quiet || self.last.is_some_and(|last| last.elapsed() < self.every) {
            return;
        }
        self.last = Some(Instant::now());
        eprintln!(
            "{}",
            scalelab_report::progress_line(
                interval,
                progress.elapsed,
                self.planned,
                progress.total.requests(),
                progress.total.failures()
            )
        );
    }
}
