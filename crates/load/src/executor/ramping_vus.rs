//! k6 `ramping-vus`: the number of VUs follows the stages, interpolated linearly.

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::{Duration, Instant};

use scalelab_shape::Shape;
use tokio_util::sync::CancellationToken;

use super::{TaskGroup, vu_id, vu_loop};
use crate::engine::ThreadContext;

/// How often the target VU count is re-read from the shape.
const RESOLUTION: Duration = Duration::from_millis(50);

/// Keeps this thread's share of the shape's VUs running; returns when the stages end. A VU above
/// the target finishes its iteration, or is interrupted `graceful_ramp_down` after the ramp-down.
pub async fn run(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    shape: &Shape,
    graceful_ramp_down: Duration,
) -> Instant {
    let start = Instant::now();
    let end = start + shape.duration();
    let target = Rc::new(Cell::new(0usize));
    let mut running: Vec<Option<(CancellationToken, Rc<Cell<bool>>)>> = Vec::new();
    let mut ramp_downs: VecDeque<(Instant, usize)> = VecDeque::new();
    loop {
        let now = Instant::now();
        if now >= end || ctx.stop.is_cancelled() {
            break;
        }
        let wanted = ctx.share(shape.vus_at((now - start).as_secs_f64())) as usize;
        let previous = target.replace(wanted);
        if running.len() < wanted {
            running.resize_with(wanted, || None);
        }
        for (local, slot) in running.iter_mut().enumerate().take(wanted) {
            let alive = slot.as_ref().is_some_and(|(_, alive)| alive.get());
            if !alive {
                let token = group.token().child_token();
                let alive = Rc::new(Cell::new(true));
                let task = {
                    let (target, alive) = (target.clone(), alive.clone());
                    let lifetime = vu_loop(
                        ctx.clone(),
                        index,
                        vu_id(ctx, local as u64),
                        end,
                        move || local < target.get(),
                    );
                    async move {
                        lifetime.await;
                        alive.set(false);
                    }
                };
                group.spawn(token.clone(), task);
                *slot = Some((token, alive));
            }
        }
        ramp_downs.extend((wanted..previous).map(|local| (now + graceful_ramp_down, local)));
        while ramp_downs.front().is_some_and(|(due, _)| *due <= now) {
            let (_, local) = ramp_downs.pop_front().expect("checked above");
            if local >= target.get()
                && let Some((token, alive)) = &running[local]
            {
                token.cancel();
                alive.set(false);
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RESOLUTION.min(end - now)) => {}
            _ = ctx.stop.cancelled() => break,
        }
    }
    end
}
