//! k6 `per-vu-iterations` and `shared-iterations`: a number of iterations rather than a duration.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{TaskGroup, vu_id, vu_loop};
use crate::engine::ThreadContext;

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
        let left = Cell::new(iterations);
        let has_more = move || left.replace(left.get().saturating_sub(1)) > 0;
        let task = vu_loop(ctx.clone(), index, vu_id(ctx, local), end, has_more);
        group.spawn(group.token().clone(), task);
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
    for local in 0..ctx.share(vus) {
        let taken = ctx.plan.scenarios[index].iterations_taken.clone();
        let has_more = move || taken.fetch_add(1, Ordering::Relaxed) < iterations;
        let task = vu_loop(ctx.clone(), index, vu_id(ctx, local), end, has_more);
        group.spawn(group.token().clone(), task);
    }
    end
}
