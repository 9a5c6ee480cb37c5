//! Executors decide when iterations run, one file each (as k6's `lib/executor`). Every loader thread
//! runs its share of each scenario: VU `j` and arrival `k` on the lane that owns them (see
//! `ThreadContext::lane`).

mod arrivals;
mod constant_vus;
mod iterations;
mod ramping_vus;
mod release;

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, Instant};

use scalelab_shape::Shape;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::engine::{ThreadContext, Vu};
use crate::plan::Executor;

/// Runs this thread's share of scenario `index`, from its start time to its end and graceful stop.
pub async fn run(ctx: Rc<ThreadContext>, index: usize) {
    let scenario = &ctx.plan.scenarios[index];
    tokio::select! {
        _ = tokio::time::sleep(scenario.start_time) => {}
        _ = ctx.stop.cancelled() => return,
    }
    let group = TaskGroup::new(&ctx.hard_stop);
    let end = match &scenario.executor {
        Executor::ConstantVus { vus, duration } => {
            constant_vus::run(&ctx, index, &group, *vus, *duration)
        }
        Executor::RampingVus {
            start_vus,
            stages,
            graceful_ramp_down,
        } => {
            let shape = Shape::from_stages(*start_vus as f64, stages)
                .unwrap_or_else(|_| Shape::constant(0.0, Duration::ZERO));
            ramping_vus::run(&ctx, index, &group, &shape, *graceful_ramp_down).await
        }
        Executor::ConstantArrivalRate {
            pre_allocated_vus,
            max_vus,
            ..
        }
        | Executor::RampingArrivalRate {
            pre_allocated_vus,
            max_vus,
            ..
        } => {
            let pool = arrivals::Pool {
                pre_allocated: *pre_allocated_vus,
                max: Some((*max_vus).max(*pre_allocated_vus)),
                fresh: false,
            };
            arrivals::run(&ctx, index, &group, &arrival_rate(&scenario.executor), pool).await
        }
        Executor::Phases { max_vus, .. } => {
            let pool = arrivals::Pool {
                pre_allocated: 0,
                max: *max_vus,
                fresh: true,
            };
            arrivals::run(&ctx, index, &group, &arrival_rate(&scenario.executor), pool).await
        }
        Executor::PerVuIterations {
            vus,
            iterations,
            max_duration,
        } => iterations::per_vu(&ctx, index, &group, *vus, *iterations, *max_duration),
        Executor::SharedIterations {
            vus,
            iterations,
            max_duration,
        } => {
            let iterations = ctx.shard.shared_iterations(*vus, *iterations);
            iterations::shared(&ctx, index, &group, *vus, iterations, *max_duration)
        }
    };
    group.finish(end + scenario.graceful_stop).await;
}

/// The schedule of an open-model executor (empty if its stages or phases do not form a shape,
/// which plan loading already rules out).
fn arrival_rate(executor: &Executor) -> Shape {
    executor
        .arrival_rate()
        .unwrap_or_else(|| Shape::constant(0.0, Duration::ZERO))
}

/// The tasks a scenario spawned on one thread: counted, so the scenario can wait for them, and
/// cancellable together once its graceful stop runs out.
pub struct TaskGroup {
    running: Rc<Cell<u64>>,
    idle: Rc<Notify>,
    hard_stop: CancellationToken,
}

impl TaskGroup {
    fn new(hard_stop: &CancellationToken) -> Self {
        Self {
            running: Rc::new(Cell::new(0)),
            idle: Rc::new(Notify::new()),
            hard_stop: hard_stop.child_token(),
        }
    }

    /// A token cancelled when the group's tasks must end; child tokens end single tasks.
    fn token(&self) -> &CancellationToken {
        &self.hard_stop
    }

    /// Runs `task` until it ends or `cancel` fires.
    fn spawn(&self, cancel: CancellationToken, task: impl Future<Output = ()> + 'static) {
        let running = self.running.clone();
        let idle = self.idle.clone();
        running.set(running.get() + 1);
        tokio::task::spawn_local(async move {
            tokio::select! {
                _ = task => {}
                _ = cancel.cancelled() => {}
            }
            running.set(running.get() - 1);
            if running.get() == 0 {
                idle.notify_waiters();
            }
        });
    }

    /// Waits for every task until `deadline`, then interrupts the rest.
    async fn finish(&self, deadline: Instant) {
        let idle = async {
            while self.running.get() > 0 {
                let notified = self.idle.notified();
                if self.running.get() == 0 {
                    break;
                }
                notified.await;
            }
        };
        if tokio::time::timeout_at(deadline.into(), idle)
            .await
            .is_err()
        {
            self.hard_stop.cancel();
            while self.running.get() > 0 {
                tokio::task::yield_now().await;
            }
        }
    }
}

/// Counts a running virtual user of a scenario in the thread's VU gauge for as long as it lives.
struct VuGauge(Rc<ThreadContext>, usize);

impl VuGauge {
    fn new(ctx: &Rc<ThreadContext>, scenario: usize) -> Self {
        ctx.recorder.count_vu(scenario, true);
        Self(ctx.clone(), scenario)
    }
}

impl Drop for VuGauge {
    fn drop(&mut self) {
        self.0.recorder.count_vu(self.1, false);
    }
}

/// A closed-loop virtual user: iterates back to back while `active()` and before `end`.
async fn vu_loop(
    ctx: Rc<ThreadContext>,
    index: usize,
    id: u64,
    end: Instant,
    active: impl Fn() -> bool,
) {
    let _gauge = VuGauge::new(&ctx, index);
    let mut vu = Vu::new(&ctx, id);
    while Instant::now() < end && !ctx.stop.is_cancelled() && active() {
        vu.iterate(&ctx, &ctx.plan.scenarios[index], None).await;
    }
}

/// The global id of this thread's `local`-th virtual user.
fn vu_id(ctx: &ThreadContext, local: u64) -> u64 {
    ctx.lane.global(local)
}
