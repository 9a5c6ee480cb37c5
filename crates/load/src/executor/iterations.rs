//! k6 `per-vu-iterations` and `shared-iterations`: a number of iterations rather than a duration.
//! Iterations not started by `maxDuration` are counted as dropped, as k6 does (its
//! `per_vu_iterations.go` and `shared_iterations.go` push `dropped_iterations` for them).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{TaskGroup, vu_id, vu_loop};
use crate::engine::ThreadContext;

/// Each VU runs `iterations` times (or until `max_duration`); returns the end, and the count of
/// this thread's iterations not yet started (dropped if still not started once the group is done).
pub fn per_vu(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    vus: u64,
    iterations: u64,
    max_duration: Duration,
) -> (Instant, Rc<Cell<u64>>) {
    let end = Instant::now() + max_duration;
    let vus = ctx.share(vus);
    let unstarted = Rc::new(Cell::new(vus.saturating_mul(iterations)));
    for local in 0..vus {
        let left = Cell::new(iterations);
        let unstarted = unstarted.clone();
        let has_more = move || {
            let more = left.get() > 0;
            if more {
                left.set(left.get() - 1);
                unstarted.set(unstarted.get() - 1);
            }
            more
        };
        let task = vu_loop(ctx.clone(), index, vu_id(ctx, local), end, has_more);
        group.spawn(group.token().clone(), task);
    }
    (end, unstarted)
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

/// Once this thread is done with a `shared-iterations` scenario of `iterations`: the last thread
/// done counts those no VU took (every thread's VUs have stopped by then).
pub fn count_shared_dropped(ctx: &ThreadContext, index: usize, iterations: u64) {
    let scenario = &ctx.plan.scenarios[index];
    let threads = ctx.lane.count() / ctx.shard.count();
    if scenario.threads_done.fetch_add(1, Ordering::AcqRel) + 1 == threads {
        let taken = scenario.iterations_taken.load(Ordering::Acquire);
        let dropped = iterations.saturating_sub(taken.min(iterations));
        if dropped > 0 {
            ctx.recorder.record_dropped(index, dropped);
        }
    }
}
