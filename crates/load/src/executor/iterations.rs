//! k6 `per-vu-iterations` and `shared-iterations`: a number of iterations rather than a duration.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{TaskGroup, VuGauge, vu_id};
use crate::engine::{ThreadContext, Vu};

/// Each VU runs `iterations` times (or until `max_duration`).
pub fn per_vu(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    vus: u64,
    iterations: u64,
    max_duration: Duration,
) -> Instant {
    let end = Instant::now() + max_duration;
    for local in 0..ctx.share(vus) {
        let ctx = ctx.clone();
        let left = Cell::new(iterations);
        group.spawn(group.token().clone(), async move {
            let _gauge = VuGauge::new(&ctx, index);
            let mut vu = Vu::new(&ctx, vu_id(&ctx, local));
            while left.get() > 0 && Instant::now() < end && !ctx.stop.is_cancelled() {
                left.set(left.get() - 1);
                vu.iterate(&ctx, &ctx.plan.scenarios[index], None).await;
            }
        });
    }
    end
}

/// `iterations` in total, taken one at a time by whichever VU is free (or until `max_duration`).
/// The count is shared by every loader thread.
pub fn shared(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    vus: u64,
    iterations: u64,
    max_duration: Duration,
) -> Instant {
    let end = Instant::now() + max_duration;
    let taken = ctx.plan.scenarios[index].iterations_taken.clone();
    for local in 0..ctx.share(vus) {
        let ctx = ctx.clone();
        let taken: Arc<AtomicU64> = taken.clone();
        group.spawn(group.token().clone(), async move {
            let _gauge = VuGauge::new(&ctx, index);
            let mut vu = Vu::new(&ctx, vu_id(&ctx, local));
            while Instant::now() < end
                && !ctx.stop.is_cancelled()
                && taken.fetch_add(1, Ordering::Relaxed) < iterations
            {
                vu.iterate(&ctx, &ctx.plan.scenarios[index], None).await;
            }
        });
    }
    end
}
