//! The open model: k6 `constant-arrival-rate` and `ramping-arrival-rate`, and Artillery phases.
//! Iterations start at the times the rate shape dictates, whatever the target's latency; an arrival
//! that finds no free VU (and no room to add one) is not sent and counts as a dropped iteration.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use scalelab_shape::Shape;

use super::release::ReleaseTimer;
use super::{TaskGroup, VuGauge};
use crate::engine::{ThreadContext, Vu};

/// How an arrival executor finds virtual users.
pub struct Pool {
    /// VUs made before the start (k6 `preAllocatedVUs`).
    pub pre_allocated: u64,
    /// Most VUs at once (k6 `maxVUs`, Artillery `maxVusers`); `None` for no limit.
    pub max: Option<u64>,
    /// Each arrival is a new user with a new connection (Artillery), rather than a reused VU (k6).
    pub fresh: bool,
}

/// Starts this thread's arrivals (those its lane owns); returns when the shape ends.
pub async fn run(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    shape: &Shape,
    pool: Pool,
) -> Instant {
    let start = Instant::now();
    let end = start + shape.duration();
    let idle: Rc<RefCell<Vec<Vu>>> = Rc::new(RefCell::new(Vec::new()));
    let created = Cell::new(0u64);
    let max = pool.max.map(|m| ctx.lane.vu_limit(m));
    for _ in 0..ctx.share(pool.pre_allocated) {
        idle.borrow_mut().push(Vu::new(ctx, next_id(ctx, &created)));
    }
    let mut timer = ReleaseTimer::new();
    for at in ctx.lane.arrivals(shape) {
        let due = start + Duration::from_secs_f64(at);
        if Instant::now() < due {
            tokio::select! {
                _ = timer.until(due) => {}
                _ = ctx.stop.cancelled() => break,
            }
        }
        if ctx.stop.is_cancelled() {
            break;
        }
        let reused = idle.borrow_mut().pop();
        let mut vu = match reused {
            Some(vu) => vu,
            None if max.is_none_or(|max| created.get() < max) => {
                Vu::new(ctx, next_id(ctx, &created))
            }
            None => {
                ctx.recorder.record_dropped(index);
                continue;
            }
        };
        let (ctx2, idle, fresh) = (ctx.clone(), idle.clone(), pool.fresh);
        group.spawn(group.token().clone(), async move {
            let _gauge = VuGauge::new(&ctx2, index);
            vu.iterate(&ctx2, &ctx2.plan.scenarios[index], Some(due))
                .await;
            if fresh {
                vu.disconnect();
            }
            idle.borrow_mut().push(vu);
        });
    }
    end
}

fn next_id(ctx: &ThreadContext, created: &Cell<u64>) -> u64 {
    let local = created.get();
    created.set(local + 1);
    super::vu_id(ctx, local)
}
