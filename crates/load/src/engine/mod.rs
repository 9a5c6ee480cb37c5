//! Runs a compiled plan: loader threads produce per-second intervals, the collector merges them
//! in order, hands each completed second to an [`Observer`], evaluates `abortOnFail` thresholds,
//! and builds the [`Summary`].

mod compile;
mod names;
pub mod program;
mod recorder;
mod start;
mod thread;
mod vu;

pub use compile::{CompileError, CompiledPlan};
pub use names::{MAX_CHECKS, MAX_ENDPOINTS, Names, OTHER};
pub use start::{
    START_AHEAD_LIMIT, START_LATE_TOLERANCE, StartAtError, format_start_at, parse_start_at,
};
pub(crate) use thread::ThreadContext;
pub(crate) use vu::{Arrival, Vu};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use scalelab_metrics::threshold::RunView;
use scalelab_metrics::{EarlyStop, Interval, LoaderUse, Summary, SummaryInput};
use scalelab_shape::Shard;
use tokio_util::sync::CancellationToken;

use recorder::Report;

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Loader threads (default: one per core).
    pub threads: usize,
    /// Cancel to stop the run early (Ctrl-C); results are still complete up to that point.
    pub stop: CancellationToken,
    /// How long requests in flight may finish after a stop.
    pub stop_grace: Duration,
    /// The part of the plan this process runs (`--shard I/N`; the whole plan by default).
    pub shard: Shard,
    /// When the schedule starts (`--start-at`), so shards started apart begin together; now if `None`.
    pub start_at: Option<SystemTime>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            stop: CancellationToken::new(),
            stop_grace: Duration::from_secs(3),
            shard: Shard::WHOLE,
            start_at: None,
        }
    }
}

/// What a run is told each second.
pub trait Observer {
    /// Second `interval.second` is complete (every thread's share merged); `progress` is the run so far.
    fn on_interval(&mut self, interval: &Interval, progress: &Progress<'_>);
}

/// The run so far, as observers see it.
pub struct Progress<'a> {
    pub plan: &'a CompiledPlan,
    /// The merge of every completed second.
    pub total: &'a Interval,
    pub elapsed: Duration,
}

/// Why a run ended before its plan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interruption {
    /// The stop token was cancelled (Ctrl-C, SIGTERM); the caller knows why (see
    /// [`RunOutcome::record_stop_reason`]).
    Stopped,
    /// A threshold with `abortOnFail` failed.
    Threshold(String),
}

/// The end of a run.
#[derive(Debug)]
pub struct RunOutcome {
    pub summary: Summary,
    pub interrupted: Option<Interruption>,
}

impl RunOutcome {
    /// Names what cancelled the stop token (`SIGTERM`) in the summary's `stopped_early`.
    pub fn record_stop_reason(&mut self, reason: &str) {
        if self.interrupted == Some(Interruption::Stopped)
            && let Some(stop) = &mut self.summary.stopped_early
        {
            stop.reason = reason.to_owned();
        }
    }
}

/// Runs `plan` to its end (or until stopped), feeding every completed second to `observer`.
pub async fn run(
    plan: Arc<CompiledPlan>,
    options: RunOptions,
    observer: &mut dyn Observer,
) -> std::io::Result<RunOutcome> {
    if let Some(at) = options.start_at
        && let Ok(wait) = at.duration_since(SystemTime::now())
    {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = options.stop.cancelled() => {}
        }
    }
    let started_at = options.start_at.unwrap_or_else(SystemTime::now);
    let start = Instant::now();
    let threads = options.threads.max(1);
    let (reports, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let mut handles = Vec::new();
    for index in 0..threads {
        handles.push(thread::spawn(
            plan.clone(),
            index,
            &options,
            start,
            reports.clone(),
        )?);
    }
    drop(reports);

    let mut collector = Collector::new(threads);
    let mut total = Interval::new(0);
    let mut per_second = Vec::new();
    let mut loader_cpu = Vec::new();
    let (mut max_vus, mut vus_allocated) = (0, 0);
    let mut interrupted = None;
    let mut stopped_at = None;
    loop {
        let report = tokio::select! {
            report = inbox.recv() => report,
            _ = options.stop.cancelled(), if stopped_at.is_none() => {
                stopped_at = Some(start.elapsed());
                continue;
            }
        };
        let Some(report) = report else { break };
        for interval in collector.accept(report) {
            total.merge(&interval);
            per_second.push((interval.second, interval.requests()));
            loader_cpu.push((interval.second, interval.loader_cpu_micros));
            max_vus = max_vus.max(interval.gauges.vus_peak);
            vus_allocated = vus_allocated.max(interval.gauges.vus_allocated);
            let elapsed = start.elapsed();
            observer.on_interval(
                &interval,
                &Progress {
                    plan: &plan,
                    total: &total,
                    elapsed,
                },
            );
            if interrupted.is_none()
                && let Some(failed) = aborting_threshold(&plan, &total, elapsed)
            {
                tracing::warn!("threshold {failed} failed: aborting the run (abortOnFail)");
                interrupted = Some(Interruption::Threshold(failed));
                stopped_at.get_or_insert(elapsed);
                options.stop.cancel();
            }
        }
    }
    for handle in handles {
        let _ = handle.join();
    }
    if interrupted.is_none() && options.stop.is_cancelled() {
        interrupted = Some(Interruption::Stopped);
    }
    let stopped_early = interrupted.as_ref().map(|why| EarlyStop {
        reason: match why {
            Interruption::Stopped => "stopped".to_owned(),
            Interruption::Threshold(failed) => format!("threshold {failed} failed (abortOnFail)"),
        },
        at_seconds: stopped_at.unwrap_or_else(|| start.elapsed()).as_secs_f64(),
    });
    let duration = start.elapsed();
    let (endpoints, check_names) = (plan.endpoints(), plan.check_names());
    let view = RunView {
        endpoints: &endpoints,
        check_names: &check_names,
        total: &total,
        duration_seconds: duration.as_secs_f64(),
    };
    let thresholds = plan
        .thresholds
        .iter()
        .map(|(t, _)| t.evaluate(&view))
        .collect();
    let mut summary = Summary::build(SummaryInput {
        started_at: humantime::format_rfc3339_seconds(started_at).to_string(),
        duration_seconds: duration.as_secs_f64(),
        open_model: plan.open_model(),
        endpoints: &endpoints,
        check_names: &check_names,
        total: &total,
        requests_per_second: &per_second,
        max_vus,
        vus_allocated: vus_allocated.max(max_vus),
        thresholds,
        stopped_early,
    });
    summary.totals.vus_planned = plan.planned_vus(options.shard);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    summary.loader = Some(LoaderUse::from_seconds(
        threads as u64,
        cores as u64,
        &loader_cpu,
    ));
    Ok(RunOutcome {
        summary,
        interrupted,
    })
}

/// The first `abortOnFail` threshold past its delay that fails on the totals so far.
fn aborting_threshold(plan: &CompiledPlan, total: &Interval, elapsed: Duration) -> Option<String> {
    let (endpoints, check_names) = (plan.endpoints(), plan.check_names());
    let view = RunView {
        endpoints: &endpoints,
        check_names: &check_names,
        total,
        duration_seconds: elapsed.as_secs_f64(),
    };
    plan.thresholds
        .iter()
        .filter(|(t, delay)| t.abort_on_fail && elapsed >= *delay)
        .map(|(t, _)| t.evaluate(&view))
        // A metric with no samples yet cannot have failed yet; at the end of the run it fails.
        .find(|result| result.observed.is_some() && !result.passed)
        .map(|result| format!("{} {}", result.metric, result.condition))
}

/// Merges the threads' reports of each second and releases a second once every thread has
/// reported it (or finished).
struct Collector {
    pending: BTreeMap<u64, Interval>,
    /// The next second each thread will report; `u64::MAX` once it has finished.
    next: Vec<u64>,
}

impl Collector {
    fn new(threads: usize) -> Self {
        Self {
            pending: BTreeMap::new(),
            next: vec![0; threads],
        }
    }

    fn accept(&mut self, report: Report) -> Vec<Interval> {
        match report {
            Report::Interval { thread, interval } => {
                self.next[thread] = interval.second + 1;
                self.pending
                    .entry(interval.second)
                    .or_insert_with(|| Interval::new(interval.second))
                    .merge(&interval);
            }
            Report::Finished { thread } => self.next[thread] = u64::MAX,
        }
        let complete_below = self.next.iter().copied().min().unwrap_or(u64::MAX);
        let mut complete = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() >= complete_below {
                break;
            }
            complete.push(entry.remove());
        }
        complete
    }
}
