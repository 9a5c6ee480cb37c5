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

use scalelab_shape::{Arrivals, Shape, ShapeError};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::engine::{ThreadContext, Vu};
use crate::plan::Executor;

/// How a scenario runs, its timeline built once, when the plan is compiled ([`Schedule::new`]):
/// an executor cannot run without a valid shape, so none can silently become empty.
#[derive(Debug, Clone)]
pub enum Schedule {
    ConstantVus {
        vus: u64,
        duration: Duration,
    },
    /// `ramping-vus`: the VUs over time.
    RampingVus {
        vus: Shape,
        graceful_ramp_down: Duration,
    },
    /// The open model (`constant-arrival-rate`, `ramping-arrival-rate`, Artillery phases): the
    /// arrivals per second over time, and where VUs come from.
    Arrivals {
        rate: Shape,
        pool: arrivals::Pool,
        /// An arrival due exactly at the end is made too (k6's `constant-arrival-rate`).
        through_end: bool,
    },
    PerVuIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
    SharedIterations {
        vus: u64,
        iterations: u64,
        max_duration: Duration,
    },
}

impl Schedule {
    /// The schedule of `executor`, from the one shape [`Executor::shape`] builds.
    pub fn new(executor: &Executor) -> Result<Self, ShapeError> {
        let shape = executor.shape()?;
        let pool = |pre_allocated: u64, max: Option<u64>, fresh: bool| arrivals::Pool {
            pre_allocated,
            max,
            fresh,
            wait: false,
            // k6's arrival-rate executors: an arrival that finds every VU busy is dropped, and
            // one more VU is made for later ones. Artillery makes a user per arrival instead.
            drop_while_growing: !fresh,
        };
        Ok(match (executor, shape) {
            (Executor::ConstantVus { vus, duration }, _) => Schedule::ConstantVus {
                vus: *vus,
                duration: *duration,
            },
            (
                Executor::RampingVus {
                    graceful_ramp_down, ..
                },
                Some(vus),
            ) => Schedule::RampingVus {
                vus,
                graceful_ramp_down: *graceful_ramp_down,
            },
            (
                Executor::ConstantArrivalRate {
                    pre_allocated_vus, ..
                }
                | Executor::RampingArrivalRate {
                    pre_allocated_vus, ..
                },
                Some(rate),
            ) => Schedule::Arrivals {
                rate,
                pool: pool(*pre_allocated_vus, executor.max_vus(), false),
                through_end: matches!(executor, Executor::ConstantArrivalRate { .. }),
            },
            (Executor::FixedRate { connections, .. }, Some(rate)) => Schedule::Arrivals {
                rate,
                pool: arrivals::Pool {
                    wait: true,
                    drop_while_growing: false,
                    ..pool(*connections, executor.max_vus(), false)
                },
                through_end: false,
            },
            (Executor::Phases { .. }, Some(rate)) => Schedule::Arrivals {
                rate,
                pool: pool(0, executor.max_vus(), true),
                through_end: false,
            },
            (
                Executor::PerVuIterations {
                    vus,
                    iterations,
                    max_duration,
                },
                _,
            ) => Schedule::PerVuIterations {
                vus: *vus,
                iterations: *iterations,
                max_duration: *max_duration,
            },
            (
                Executor::SharedIterations {
                    vus,
                    iterations,
                    max_duration,
                },
                _,
            ) => Schedule::SharedIterations {
                vus: *vus,
                iterations: *iterations,
                max_duration: *max_duration,
            },
            (
                Executor::RampingVus { .. }
                | Executor::ConstantArrivalRate { .. }
                | Executor::RampingArrivalRate { .. }
                | Executor::FixedRate { .. }
                | Executor::Phases { .. },
                None,
            ) => {
                unreachable!("Executor::shape gives these executors a shape")
            }
        })
    }

    /// How long it starts iterations for (for iteration counts: the most they may take).
    pub fn duration(&self) -> Duration {
        match self {
            Schedule::ConstantVus { duration, .. } => *duration,
            Schedule::RampingVus { vus: shape, .. } | Schedule::Arrivals { rate: shape, .. } => {
                shape.duration()
            }
            Schedule::PerVuIterations { max_duration, .. }
            | Schedule::SharedIterations { max_duration, .. } => *max_duration,
        }
    }

    /// The arrivals per second of the open model.
    pub fn arrival_rate(&self) -> Option<&Shape> {
        match self {
            Schedule::Arrivals { rate, .. } => Some(rate),
            _ => None,
        }
    }
}

/// Runs this thread's share of scenario `index`, from its start time to its end and graceful stop.
pub async fn run(ctx: Rc<ThreadContext>, index: usize) {
    let scenario = &ctx.plan.scenarios[index];
    tokio::select! {
        _ = tokio::time::sleep(scenario.start_time) => {}
        _ = ctx.stop.cancelled() => return,
    }
    let group = TaskGroup::new(&ctx.hard_stop);
    let end = match &scenario.schedule {
        Schedule::ConstantVus { vus, duration } => {
            constant_vus::run(&ctx, index, &group, *vus, *duration)
        }
        Schedule::RampingVus {
            vus,
            graceful_ramp_down,
        } => ramping_vus::run(&ctx, index, &group, vus, *graceful_ramp_down).await,
        Schedule::Arrivals {
            rate,
            pool,
            through_end,
        } => {
            let times = if *through_end {
                Arrivals::through_end(rate)
            } else {
                Arrivals::new(rate)
            };
            arrivals::run(&ctx, index, &group, times, rate.duration(), pool).await
        }
        Schedule::PerVuIterations {
            vus,
            iterations,
            max_duration,
        } => {
            let (end, unstarted) =
                iterations::per_vu(&ctx, index, &group, *vus, *iterations, *max_duration);
            group.finish(end + scenario.graceful_stop).await;
            // A stopped run drops nothing (k6 pushes no sample once the test's context is done).
            if unstarted.get() > 0 && !ctx.stop.is_cancelled() {
                ctx.recorder.record_dropped(index, unstarted.get());
            }
            return;
        }
        Schedule::SharedIterations {
            vus,
            iterations,
            max_duration,
        } => {
            let iterations = ctx.shard.shared_iterations(*vus, *iterations);
            let end = iterations::shared(&ctx, index, &group, *vus, iterations, *max_duration);
            group.finish(end + scenario.graceful_stop).await;
            if !ctx.stop.is_cancelled() {
                iterations::count_shared_dropped(&ctx, index, iterations);
            }
            return;
        }
    };
    group.finish(end + scenario.graceful_stop).await;
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
        // Every VU of the thread gets its turn: an iteration that never waits (a script's
        // computation, no request) would otherwise keep the thread to itself.
        tokio::task::yield_now().await;
    }
}

/// The global id of this thread's `local`-th virtual user.
fn vu_id(ctx: &ThreadContext, local: u64) -> u64 {
    ctx.lane.global(local)
}
