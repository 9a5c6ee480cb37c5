//! What `run`, `quick` and `demo` share: aim the plan (at the embedded service when it names no
//! target), run it with a progress line, write the results, print the summary, pick the exit code.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use scalelab_load::engine::{
    self, CompiledPlan, Interruption, Observer, Progress, RunOptions, format_start_at,
};
use scalelab_load::plan::Plan;
use scalelab_metrics::output::{ResultsWriter, write_atomic};
use scalelab_metrics::{Interval, ShardRecord};
use scalelab_report::{Exposition, RunMetrics};
use scalelab_script::Script;
use scalelab_shape::Shard;
use tokio_util::sync::CancellationToken;

/// Exit codes, as k6 uses them.
pub mod exit {
    /// A threshold failed.
    pub const THRESHOLDS_FAILED: u8 = 99;
    /// The plan is invalid.
    pub const INVALID_CONFIG: u8 = 104;
    /// Ctrl-C or SIGTERM stopped the run.
    pub const EXTERNAL_ABORT: u8 = 105;
    /// A script's init code, `setup()` or `teardown()` threw (k6's `ScriptException`, 107).
    pub const SCRIPT_ERROR: u8 = 107;
    /// A script called `test.abort()` (k6's `ScriptAborted`, 108).
    pub const SCRIPT_ABORTED: u8 = 108;
}

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
    /// Write the thresholds and checks to this file as JUnit XML, for CI systems.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// The shard of a test this run is (`run --shard`).
    #[arg(skip)]
    pub part: Option<Part>,
    /// When the schedule begins (`run --start-at`); now when `None`.
    #[arg(skip)]
    pub start_at: Option<SystemTime>,
}

/// One shard of a test: which, and of which plan.
#[derive(Debug, Clone)]
pub struct Part {
    pub shard: Shard,
    /// SHA-256 of the plan file, in hex.
    pub plan_sha256: String,
}

/// Runs `plan` and reports it; returns the exit code.
pub async fn execute(plan: Plan, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    execute_with(plan, args, None).await
}

/// Runs a k6 script (its plan from its `options`, its code per VU) and reports it.
pub async fn execute_script(script: Script, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.part.is_none() && args.metrics_addr.is_none(),
        "--shard and --metrics-addr are not supported with k6 scripts yet: a script's endpoints \
         are only known as it runs"
    );
    let plan = script.plan.clone();
    run_plan(plan, args, None, Some(&script)).await
}

/// [`execute`], with the run's metrics joining `exposition` (a cluster's gauges) at `--metrics-addr`.
pub async fn execute_with(
    plan: Plan,
    args: &ExecArgs,
    exposition: Option<Arc<Exposition>>,
) -> anyhow::Result<ExitCode> {
    run_plan(plan, args, exposition, None).await
}

async fn run_plan(
    plan: Plan,
    args: &ExecArgs,
    exposition: Option<Arc<Exposition>>,
    script: Option<&Script>,
) -> anyhow::Result<ExitCode> {
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    // Outputs are checked before any load is sent, so a run never ends unable to write them.
    if let Some(dir) = &args.out {
        crate::files::check_writable_dir(dir)
            .with_context(|| format!("--out {}", dir.display()))?;
    }
    if let Some(path) = &args.junit {
        crate::files::check_writable_file(path)
            .with_context(|| format!("--junit {}", path.display()))?;
    }
    let embedded = match &plan.target {
        Some(_) => None,
        None => Some(
            scalelab_stress::start(scalelab_stress::TargetConfig::loopback())
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
    let compiled =
        match script.map_or_else(|| CompiledPlan::new(&plan, &base), |s| s.compile(&base)) {
            Ok(compiled) => Arc::new(compiled),
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(ExitCode::from(exit::INVALID_CONFIG));
            }
        };
    if let Some(script) = script
        && let Err(error) = script.setup(&compiled).await
    {
        eprintln!("error: {error}");
        let aborted = script.fatal().is_some_and(|fatal| fatal.aborted);
        return Ok(ExitCode::from(if aborted {
            exit::SCRIPT_ABORTED
        } else {
            exit::SCRIPT_ERROR
        }));
    }
    let mut options = RunOptions::default();
    if let Some(threads) = args.threads {
        options.threads = threads;
    }
    let started = args.start_at.unwrap_or_else(SystemTime::now);
    options.start_at = Some(started);
    if let Some(part) = &args.part {
        options.shard = part.shard;
        eprintln!(
            "shard {} of plan {}: starting at {}",
            part.shard,
            &part.plan_sha256[..12],
            format_start_at(started)
        );
    }
    let stop = options.stop.clone();
    let received = Arc::new(std::sync::OnceLock::new());
    let signals = tokio::spawn({
        let received = received.clone();
        let signal = crate::signals::interrupted();
        async move {
            let name = signal.await;
            let _ = received.set(name);
            eprintln!("{name}: stopping: letting requests in flight finish, then writing results");
            stop.cancel();
        }
    });
    let writer = match &args.out {
        Some(dir) => {
            let create = || {
                let mut writer = ResultsWriter::create(dir, compiled.endpoints(), started)?;
                if args.part.is_some() {
                    writer.keep_intervals(&compiled.check_names())?;
                }
                std::io::Result::Ok(writer)
            };
            Some(create().with_context(|| format!("creating results in {}", dir.display()))?)
        }
        None => None,
    };
    let exporter = match args.metrics_addr {
        Some(addr) => Some(serve_metrics(addr, &compiled, exposition.unwrap_or_default()).await?),
        None => None,
    };
    if !args.quiet {
        let mut banner = compiled.banner();
        if let Some(dir) = &args.out {
            banner += &format!(
                "     output: {} (summary.json, timeseries.csv, latency.hlog, report.html)\n",
                dir.display()
            );
        }
        if let Some(path) = &args.junit {
            banner += &format!("      junit: {}\n", path.display());
        }
        eprintln!("\n  target: {base}\n{banner}");
    }
    let mut observer = Console::new(writer, &compiled, args.quiet, exporter);
    let mut outcome = engine::run(compiled.clone(), options, &mut observer)
        .await
        .context("running the plan")?;
    outcome.summary.shard = args.part.as_ref().map(|part| ShardRecord {
        index: part.shard.index(),
        count: part.shard.count(),
        plan_sha256: part.plan_sha256.clone(),
        start_at: format_start_at(started),
    });
    if let Some(name) = received.get() {
        outcome.record_stop_reason(name);
    }
    observer.finish();
    signals.abort();
    // The script's own exit code, if it stopped the run or failed: 108 after `test.abort()`, else 107.
    let mut script_exit = None;
    if let Some(script) = script {
        if let Some(fatal) = script.fatal() {
            eprintln!("error: {}", fatal.message);
            script_exit = Some(if fatal.aborted {
                exit::SCRIPT_ABORTED
            } else {
                exit::SCRIPT_ERROR
            });
        }
        if let Err(error) = script.teardown(&compiled).await {
            eprintln!("error: {error}");
            script_exit.get_or_insert(exit::SCRIPT_ERROR);
        }
    }
    if let Some(service) = embedded {
        service.shutdown().await?;
    }
    print!("{}", scalelab_report::summary_table(&outcome.summary));
    if let Some(script) = script {
        let exceptions = script.exceptions();
        if let Some(first) = &exceptions.first {
            println!(
                "\n  script exceptions: {} uncaught in iterations (the iterations ended there; the run went on)\n    first: {first}",
                exceptions.count
            );
        }
    }
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
        _ if let Some(code) = script_exit => ExitCode::from(code),
        Some(Interruption::Threshold(_)) => ExitCode::from(exit::THRESHOLDS_FAILED),
        Some(Interruption::Stopped) => ExitCode::from(exit::EXTERNAL_ABORT),
        None if !outcome.summary.thresholds_passed() => ExitCode::from(exit::THRESHOLDS_FAILED),
        None => ExitCode::SUCCESS,
    })
}

/// Writes the JUnit XML of `summary` to `path` atomically, creating its directory.
pub fn write_junit(path: &Path, summary: &scalelab_metrics::Summary) -> anyhow::Result<()> {
    write_atomic(path, scalelab_report::junit_xml(summary).as_bytes())
        .with_context(|| format!("writing JUnit XML to {}", path.display()))
}

/// Starts serving `exposition` with the run's metrics on `addr`; the server lives as long as the
/// process.
async fn serve_metrics(
    addr: SocketAddr,
    plan: &CompiledPlan,
    exposition: Arc<Exposition>,
) -> anyhow::Result<RunMetrics> {
    let metrics = exposition.run_metrics(plan.endpoints(), plan.check_names());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot serve metrics on {addr}"))?;
    // The bound address, so `--metrics-addr 127.0.0.1:0` says which port it got.
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let served = scalelab_report::serve_metrics(exposition, listener, CancellationToken::new());
        if let Err(error) = served.await {
            tracing::warn!(%error, "the metrics server stopped");
        }
    });
    eprintln!("metrics: http://{addr}/metrics");
    Ok(metrics)
}

/// What a person sees while the run lasts: on a terminal a bar per scenario refreshed every second;
/// otherwise (CI, pipes) a plain status line every 10 s. Also streams each completed second to the
/// results files and the Prometheus exporter.
struct Console {
    writer: Option<ResultsWriter>,
    write_error: Option<std::io::Error>,
    exporter: Option<RunMetrics>,
    view: View,
}

enum View {
    Quiet,
    Bars(Vec<ProgressBar>),
    Lines {
        planned: Duration,
        last: Option<Instant>,
    },
}

impl Console {
    fn new(
        writer: Option<ResultsWriter>,
        plan: &CompiledPlan,
        quiet: bool,
        exporter: Option<RunMetrics>,
    ) -> Self {
        let view = if quiet {
            View::Quiet
        } else if std::io::stderr().is_terminal() {
            let bars = MultiProgress::new();
            let style =
                ProgressStyle::with_template("{prefix:>14} [{bar:24}] {pos:>4}/{len}s  {msg}")
                    .expect("a valid template")
                    .progress_chars("=> ");
            View::Bars(
                plan.scenarios
                    .iter()
                    .map(|scenario| {
                        let length = (scenario.start_time + scenario.duration()).as_secs();
                        let bar = bars.add(ProgressBar::new(length.max(1)));
                        bar.set_style(style.clone());
                        bar.set_prefix(scenario.name.clone());
                        bar
                    })
                    .collect(),
            )
        } else {
            View::Lines {
                planned: plan.duration(),
                last: None,
            }
        };
        Self {
            writer,
            write_error: None,
            exporter,
            view,
        }
    }

    /// Leaves the bars on screen as they are, before the summary is printed.
    fn finish(&mut self) {
        if let View::Bars(bars) = &self.view {
            bars.iter().for_each(ProgressBar::abandon);
        }
    }
}

impl Observer for Console {
    fn on_interval(&mut self, interval: &Interval, progress: &Progress<'_>) {
        let endpoints = progress.plan.endpoints();
        if let Some(writer) = &mut self.writer {
            writer.learn_endpoints(&endpoints);
        }
        if let Some(writer) = &mut self.writer
            && let Err(error) = writer.push(interval)
        {
            self.write_error.get_or_insert(error);
        }
        if let Some(exporter) = &self.exporter {
            exporter.update(interval);
        }
        match &mut self.view {
            View::Quiet => {}
            View::Bars(bars) => {
                for (scenario, bar) in progress.plan.scenarios.iter().zip(bars) {
                    bar.set_position(progress.elapsed.as_secs().min(bar.length().unwrap_or(0)));
                    bar.set_message(scalelab_report::scenario_line(
                        interval,
                        &endpoints,
                        (scenario.index, &scenario.name),
                        scenario.target_rate(progress.elapsed),
                    ));
                }
            }
            View::Lines { planned, last } => {
                if last.is_some_and(|last| last.elapsed() < Duration::from_secs(10)) {
                    return;
                }
                *last = Some(Instant::now());
                let rates: Vec<f64> = progress
                    .plan
                    .scenarios
                    .iter()
                    .filter_map(|s| s.target_rate(progress.elapsed))
                    .collect();
                eprintln!(
                    "{}",
                    scalelab_report::progress_line(
                        interval,
                        progress.elapsed,
                        *planned,
                        (!rates.is_empty()).then(|| rates.iter().sum()),
                        (progress.total.requests(), progress.total.failures())
                    )
                );
            }
        }
    }
}
