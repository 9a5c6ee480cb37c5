//! The run itself: target, load with a live view, results, verdict.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use anyhow::Context;
use scalelab_load::engine::{self, CompiledPlan, RunOptions, format_start_at};
use scalelab_load::plan::Plan;
use scalelab_metrics::output::ResultsWriter;
use scalelab_metrics::{ShardRecord, Summary};
use scalelab_report::{Exposition, RunMetrics};
use scalelab_script::Script;
use scalelab_shape::Shard;
use tokio_util::sync::CancellationToken;

use crate::console::Console;
use crate::outputs::{check_writable_dir, check_writable_file, write_junit};
use crate::verdict::Verdict;

/// How a run is carried out and where its results go.
#[derive(Clone, Default)]
pub struct Settings {
    /// Write summary.json, timeseries.csv, latency.hlog and report.html to this directory.
    pub out: Option<PathBuf>,
    /// Loader threads (default: one per core).
    pub threads: Option<usize>,
    /// Show only the final summary.
    pub quiet: bool,
    /// Serve the run's Prometheus metrics here while it lasts.
    pub metrics_addr: Option<SocketAddr>,
    /// Write the thresholds and checks here as JUnit XML.
    pub junit: Option<PathBuf>,
    /// The shard of a test this run is (`run --shard`).
    pub part: Option<Part>,
    /// When the schedule begins (`run --start-at`); now when `None`.
    pub start_at: Option<SystemTime>,
    /// Gauges the run's metrics join at `metrics_addr` (a cluster's).
    pub exposition: Option<Arc<Exposition>>,
}

/// One shard of a test: which, and of which plan.
#[derive(Debug, Clone)]
pub struct Part {
    pub shard: Shard,
    /// SHA-256 of the plan file, in hex.
    pub plan_sha256: String,
}

/// A run that ended, its results written.
#[derive(Debug)]
pub struct Finished {
    pub summary: Summary,
    pub verdict: Verdict,
    /// The results directory, and the HTML report written in it or why there is none.
    pub results: Option<(PathBuf, Result<PathBuf, String>)>,
    /// Uncaught exceptions in a script's iterations: how many, and the first.
    pub script_exceptions: Option<(u64, String)>,
}

/// Why a run could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The plan does not compile against its target.
    #[error("{0}")]
    InvalidPlan(String),
    /// A script's `setup()` threw, or called `test.abort()`.
    #[error("{message}")]
    Setup { message: String, aborted: bool },
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl RunError {
    /// The exit code that tells why: k6's for a bad plan or a failed setup, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::InvalidPlan(_) => crate::exit::INVALID_CONFIG,
            Self::Setup { aborted: true, .. } => crate::exit::SCRIPT_ABORTED,
            Self::Setup { aborted: false, .. } => crate::exit::SCRIPT_ERROR,
            Self::Other(_) => 1,
        }
    }
}

/// Runs `plan` (with `script`'s code per VU when it is a k6 script) until it ends or `interrupted`
/// resolves (with the name of what stopped it: `SIGTERM`); writes its results and decides its
/// verdict.
pub async fn run(
    plan: Plan,
    script: Option<&Script>,
    settings: &Settings,
    interrupted: impl Future<Output = &'static str> + Send + 'static,
) -> Result<Finished, RunError> {
    if script.is_some() && (settings.part.is_some() || settings.metrics_addr.is_some()) {
        return Err(anyhow::anyhow!(
            "--shard and --metrics-addr are not supported with k6 scripts yet: a script's \
             endpoints are only known as it runs"
        )
        .into());
    }
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    // Outputs are checked before any load is sent, so a run never ends unable to write them.
    if let Some(dir) = &settings.out {
        check_writable_dir(dir).with_context(|| format!("--out {}", dir.display()))?;
    }
    if let Some(path) = &settings.junit {
        check_writable_file(path).with_context(|| format!("--junit {}", path.display()))?;
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
    let compiled = script
        .map_or_else(|| CompiledPlan::new(&plan, &base), |s| s.compile(&base))
        .map(Arc::new)
        .map_err(|error| RunError::InvalidPlan(error.to_string()))?;
    if let Some(script) = script
        && let Err(error) = script.setup(&compiled).await
    {
        return Err(RunError::Setup {
            message: error.to_string(),
            aborted: script.fatal().is_some_and(|fatal| fatal.aborted),
        });
    }
    let mut options = RunOptions::default();
    if let Some(threads) = settings.threads {
        options.threads = threads;
    }
    let started = settings.start_at.unwrap_or_else(SystemTime::now);
    options.start_at = Some(started);
    if let Some(part) = &settings.part {
        options.shard = part.shard;
        eprintln!(
            "shard {} of plan {}: starting at {}",
            part.shard,
            &part.plan_sha256[..12.min(part.plan_sha256.len())],
            format_start_at(started)
        );
    }
    let stop = options.stop.clone();
    let received = Arc::new(OnceLock::new());
    let signals = tokio::spawn({
        let received = received.clone();
        async move {
            let name = interrupted.await;
            let _ = received.set(name);
            eprintln!("{name}: stopping: letting requests in flight finish, then writing results");
            stop.cancel();
        }
    });
    let writer = match &settings.out {
        Some(dir) => {
            let create = || {
                let mut writer = ResultsWriter::create(dir, compiled.endpoints(), started)?;
                if settings.part.is_some() {
                    writer.keep_intervals(&compiled.check_names())?;
                }
                std::io::Result::Ok(writer)
            };
            Some(create().with_context(|| format!("creating results in {}", dir.display()))?)
        }
        None => None,
    };
    let exporter = match settings.metrics_addr {
        Some(addr) => Some(
            serve_metrics(
                addr,
                &compiled,
                settings.exposition.clone().unwrap_or_default(),
            )
            .await?,
        ),
        None => None,
    };
    if !settings.quiet {
        let mut banner = compiled.banner();
        if let Some(dir) = &settings.out {
            banner += &format!(
                "     output: {} (summary.json, timeseries.csv, latency.hlog, report.html)\n",
                dir.display()
            );
        }
        if let Some(path) = &settings.junit {
            banner += &format!("      junit: {}\n", path.display());
        }
        eprintln!("\n  target: {base}\n{banner}");
    }
    let mut observer = Console::new(writer, &compiled, settings.quiet, exporter, options.shard);
    let mut outcome = engine::run(compiled.clone(), options, &mut observer)
        .await
        .context("running the plan")?;
    outcome.summary.shard = settings.part.as_ref().map(|part| ShardRecord {
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
    // The script's own verdict, if it stopped the run or failed: 108 after `test.abort()`, else 107.
    let mut script_verdict = None;
    let mut script_exceptions = None;
    if let Some(script) = script {
        if let Some(fatal) = script.fatal() {
            eprintln!("error: {}", fatal.message);
            script_verdict = Some(if fatal.aborted {
                Verdict::ScriptAborted
            } else {
                Verdict::ScriptError
            });
        }
        if let Err(error) = script.teardown(&compiled).await {
            eprintln!("error: {error}");
            script_verdict.get_or_insert(Verdict::ScriptError);
        }
        let exceptions = script.exceptions();
        script_exceptions = exceptions.first.map(|first| (exceptions.count, first));
    }
    if let Some(service) = embedded {
        service
            .shutdown()
            .await
            .context("stopping the embedded stress service")?;
    }
    if let Some(path) = &settings.junit {
        write_junit(path, &outcome.summary)?;
    }
    let mut results = None;
    if let Some(writer) = observer.writer.take() {
        let dir = settings.out.clone().unwrap_or_else(|| PathBuf::from("."));
        if let Some(error) = observer.write_error.take() {
            eprintln!(
                "warning: some seconds were not written to {}: {error}",
                dir.display()
            );
        }
        writer
            .finish(&outcome.summary)
            .with_context(|| format!("writing results to {}", dir.display()))?;
        let report = scalelab_report::write_html_report(&dir).map_err(|e| e.to_string());
        results = Some((dir, report));
    }
    let verdict = Verdict::of_run(
        &outcome.summary,
        outcome.interrupted.as_ref(),
        script_verdict,
    );
    Ok(Finished {
        summary: outcome.summary,
        verdict,
        results,
        script_exceptions,
    })
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
