//! `scalelab capacity URL`: an open-model staircase that finds where the server stops keeping up,
//! fits its capacity model and tells what kind of server it is (see docs/capacity.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use scalelab_probe::analysis::Limits;
use scalelab_probe::{
    Ended, Findings, Growth, ProbeError, ProbeOptions, ServerSource, Staircase, mix, output,
};
use tokio_util::sync::CancellationToken;

use super::execute::exit;

#[derive(Args)]
pub struct CapacityArgs {
    /// The URL to load (with --plan: the base URL its relative paths are sent to).
    #[arg(required_unless_present = "plan")]
    url: Option<String>,
    /// Offer this plan's request mix (one scenario; native, k6 or Artillery) instead of one URL.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Requests per second of the first step.
    #[arg(long, default_value_t = 10.0)]
    start: f64,
    /// Multiply the rate by this from step to step.
    #[arg(long, default_value_t = 1.5, conflicts_with = "increment")]
    factor: f64,
    /// Add this many requests per second from step to step instead.
    #[arg(long)]
    increment: Option<f64>,
    /// Length of each step (whole seconds; its first second is not measured).
    #[arg(long, value_parser = scalelab_config::parse_duration, default_value = "10s")]
    step: Duration,
    /// No step offers more than this many requests per second.
    #[arg(long, default_value_t = 5000.0)]
    max_rate: f64,
    /// The staircase ends after this long at most.
    #[arg(long, value_parser = scalelab_config::parse_duration, default_value = "5m")]
    max_duration: Duration,
    /// Most requests the load generator keeps open at once.
    #[arg(long, default_value_t = 2000)]
    max_vus: u64,
    /// Highest percentage of failed requests a step may have and still count as kept up.
    #[arg(long, default_value_t = 1.0)]
    error_limit: f64,
    /// Read the server's CPU and memory from /proc/PID (a local process).
    #[arg(long, conflicts_with = "metrics_url")]
    pid: Option<i32>,
    /// Read them from the server's Prometheus endpoint (process_cpu_seconds_total,
    /// process_resident_memory_bytes).
    #[arg(long)]
    metrics_url: Option<String>,
    /// vCPUs of the server's machine [default: this machine's].
    #[arg(long)]
    vcpus: Option<u32>,
    /// Loader threads [default: one per core].
    #[arg(long)]
    threads: Option<usize>,
    /// Where to write steps.csv, capacity.json, capacity.yaml and report.html.
    #[arg(long, default_value = "results/capacity")]
    out: PathBuf,
}

pub async fn run(args: CapacityArgs) -> anyhow::Result<ExitCode> {
    let staircase = Staircase {
        start: args.start,
        growth: match args.increment {
            Some(increment) => Growth::Increment(increment),
            None => Growth::Factor(args.factor),
        },
        step: args.step,
        max_rate: args.max_rate,
        max_duration: args.max_duration,
        max_vus: args.max_vus,
        limits: Limits {
            error_rate: args.error_limit / 100.0,
            ..Limits::default()
        },
    };
    let (mix, base) = match (&args.plan, &args.url) {
        (Some(path), url) => {
            let plan = scalelab_load::plan::load_file(path, &Default::default())?;
            let base = url
                .clone()
                .or_else(|| plan.target.clone())
                .with_context(|| {
                    format!("{} names no target: give the server's URL", path.display())
                })?;
            (plan, base)
        }
        (None, Some(url)) => (mix::one_url(url), url.clone()),
        (None, None) => bail!("give a URL or --plan"),
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let interrupt = CancellationToken::new();
    let stop = interrupt.clone();
    let signal = crate::signals::interrupted();
    let signals = tokio::spawn(async move {
        let name = signal.await;
        eprintln!("{name}: stopping, keeping the completed steps");
        stop.cancel();
    });
    eprintln!(
        "capacity: {} steps of {} from {}/s, up to {}/s, against {base}",
        staircase.rates().len(),
        scalelab_config::format_duration(staircase.step),
        scalelab_report::number(staircase.start, 1),
        scalelab_report::number(
            staircase.rates().last().copied().unwrap_or(staircase.start),
            1
        )
    );
    let options = ProbeOptions {
        server: match (args.pid, &args.metrics_url) {
            (Some(pid), _) => Some(ServerSource::Pid(pid)),
            (None, Some(url)) => Some(ServerSource::MetricsUrl(url.clone())),
            (None, None) => None,
        },
        vcpus: args.vcpus.unwrap_or(cores as u32),
        threads: args.threads.unwrap_or(cores),
        interrupt: interrupt.clone(),
        on_step: Box::new(|s| {
            eprintln!(
                "step {:>2}  {:>8}/s offered  {:>8}/s ok  p50 {:>7.1} ms  p99 {:>7.1} ms  \
                 in flight {:>6.1}  errors {:>5.2} %{}{}  {}",
                s.index + 1,
                scalelab_report::number(s.offered, 1),
                scalelab_report::number(s.throughput, 1),
                s.p50_ms,
                s.p99_ms,
                s.mean_in_flight,
                s.error_rate * 100.0,
                s.cpu_percent
                    .map_or(String::new(), |c| format!("  CPU {c:>5.1} %")),
                s.machine_cpu_percent
                    .map_or(String::new(), |m| format!(" (machine {m:.0} %)")),
                if s.kept_up() {
                    "kept up"
                } else {
                    "did not keep up"
                }
            )
        }),
    };
    let measurement = match scalelab_probe::run(&staircase, &mix, &base, options).await {
        Ok(measurement) => measurement,
        Err(ProbeError::Interrupted) => {
            eprintln!("interrupted before the first step: nothing measured, nothing written");
            return Ok(ExitCode::from(exit::EXTERNAL_ABORT));
        }
        Err(error) => return Err(error.into()),
    };
    signals.abort();
    let findings = Findings::from(&measurement);
    let written = output::write(&args.out, &measurement, &findings)
        .with_context(|| format!("writing results to {}", args.out.display()))?;
    println!("\n{}", output::summary(&measurement, &findings));
    for path in written {
        println!("  wrote {}", path.display());
    }
    if measurement.steps.first().is_none_or(|s| !s.kept_up())
        && measurement.ended != Ended::Interrupted
    {
        bail!(
            "no capacity measured: {}",
            findings
                .notes
                .first()
                .map_or("no step completed", String::as_str)
        );
    }
    Ok(if measurement.ended == Ended::Interrupted {
        ExitCode::from(exit::EXTERNAL_ABORT)
    } else {
        ExitCode::SUCCESS
    })
}
