//! k6 `constant-vus`: a fixed number of VUs loop for a duration.

use std::rc::Rc;
use std::time::{Duration, Instant};

use super::{TaskGroup, vu_id, vu_loop};
use crate::engine::ThreadContext;

/// Starts this thread's VUs; returns when the scenario ends (before its graceful stop).
pub fn run(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    vus: u64,
    duration: Duration,
) -> Instant {
    let end = Instant::now() + duration;
    for local in 0..ctx.share(vus) {
        let task = vu_loop(ctx.clone(), index, vu_id(ctx, local), end, || true);
        group.spawn(group.token().clone(), task);
    }
    end
}
