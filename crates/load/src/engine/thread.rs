//! One loader thread: a single-threaded runtime that runs its share of every scenario.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scalelab_shape::Shard;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::LocalSet;
use tokio_util::sync::CancellationToken;

use super::RunOptions;
use super::compile::CompiledPlan;
use super::recorder::{Recorder, Report};
use crate::executor;

/// What every task of one loader thread shares.
pub struct ThreadContext {
    pub plan: Arc<CompiledPlan>,
    pub recorder: Recorder,
    /// The process's shard of the test (the whole test unless `--shard`).
    pub shard: Shard,
    /// This thread's lane of the whole test: thread `t` of `T` in shard `i` of `n` is lane
    /// `i + n·t` of `n·T`, and runs VU `j` and arrival `k` when the lane owns them ([`Shard`]).
    pub lane: Shard,
    /// Cancelled when the whole run must stop (Ctrl-C, a threshold's abortOnFail): nothing new
    /// starts, and what runs gets the stop's grace.
    pub stop: CancellationToken,
    /// Cancelled when the stop's grace has run out: every task of the thread ends at once.
    pub hard_stop: CancellationToken,
    pub seed: u64,
}

impl ThreadContext {
    /// This thread's share of `total` items dealt round-robin over the lanes.
    pub fn share(&self, total: u64) -> u64 {
        self.lane.share(total)
    }

    pub fn start(&self) -> Instant {
        self.recorder.start()
    }
}

/// Starts loader thread `thread` of `options.threads`; it reports intervals on `reports` until its
/// scenarios end.
pub fn spawn(
    plan: Arc<CompiledPlan>,
    thread: usize,
    options: &RunOptions,
    start: Instant,
    reports: UnboundedSender<Report>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (shard, stop, stop_grace) = (options.shard, options.stop.clone(), options.stop_grace);
    let lane = shard.split(thread as u64, options.threads.max(1) as u64);
    std::thread::Builder::new()
        .name(format!("loader-{thread}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!(%error, "cannot start a loader thread's runtime");
                    let _ = reports.send(Report::Finished { thread });
                    return;
                }
            };
            let scenarios = plan.scenarios.len();
            let ctx = Rc::new(ThreadContext {
                plan,
                recorder: Recorder::new(thread, scenarios, start, reports),
                shard,
                lane,
                stop,
                hard_stop: CancellationToken::new(),
                seed: 0x5CA1_AB1E ^ lane.index(),
            });
            let local = LocalSet::new();
            local.block_on(&runtime, run(ctx.clone(), stop_grace));
            ctx.recorder.finish();
        })
}

async fn run(ctx: Rc<ThreadContext>, stop_grace: Duration) {
    let ticker = tokio::task::spawn_local(tick(ctx.clone()));
    let scenarios: Vec<_> = (0..ctx.plan.scenarios.len())
        .map(|index| tokio::task::spawn_local(executor::run(ctx.clone(), index)))
        .collect();
    let all = async {
        for scenario in scenarios {
            let _ = scenario.await;
        }
    };
    tokio::pin!(all);
    tokio::select! {
        _ = &mut all => {}
        _ = ctx.stop.cancelled() => {
            // Executors start nothing new once stopped; running requests get a short grace, then
            // end at once, each recorded as interrupted.
            if tokio::time::timeout(stop_grace, &mut all).await.is_err() {
                ctx.hard_stop.cancel();
                all.await;
            }
        }
    }
    ticker.abort();
}

/// Hands the recorder's completed second to the collector at every second boundary.
async fn tick(ctx: Rc<ThreadContext>) {
    let mut second = 1;
    loop {
        tokio::time::sleep_until((ctx.start() + Duration::from_secs(second)).into()).await;
        ctx.recorder.roll_now();
        second += 1;
    }
}
