//! The open model: k6 `constant-arrival-rate` and `ramping-arrival-rate`, Artillery phases and
//! `quick -q`'s fixed rate. Iterations start at the times the rate shape dictates, whatever the
//! target's latency; an arrival that finds no free VU (and no room to add one) is not sent and
//! counts as a dropped iteration (k6), or, with [`Pool::wait`], waits for the next free VU (wrk2,
//! oha) and is dropped only if the schedule ends first. Either way its latency counts from its
//! scheduled time. An arrival that waited, or was due while an earlier one waited, is marked so,
//! and the summary gives the send delay of the others apart: the loader's own lateness.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use scalelab_shape::Arrivals;
use tokio::sync::Notify;

use super::release::ReleaseTimer;
use super::{TaskGroup, VuGauge};
use crate::engine::{Arrival, ThreadContext, Vu};

/// How an arrival executor finds virtual users.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    /// VUs made before the start (k6 `preAllocatedVUs`).
    pub pre_allocated: u64,
    /// Most VUs at once (k6 `maxVUs`, Artillery `maxVusers`); `None` for no limit.
    pub max: Option<u64>,
    /// Each arrival is a new user with a new connection (Artillery), rather than a reused VU (k6).
    pub fresh: bool,
    /// An arrival that finds every VU busy waits for one (wrk2, oha) instead of being dropped (k6).
    pub wait: bool,
    /// An arrival that finds every VU busy is dropped even when the pool may grow, and one more
    /// VU is made for the arrivals after it: k6 drops the iteration and initializes an unplanned
    /// VU in the background (`lib/executor/ramping_arrival_rate.go`).
    pub drop_while_growing: bool,
}

/// Starts this thread's arrivals (those its lane owns of `times`); returns when the schedule, of
/// `duration`, ends.
pub async fn run(
    ctx: &Rc<ThreadContext>,
    index: usize,
    group: &TaskGroup,
    times: Arrivals<'_>,
    duration: Duration,
    pool: &Pool,
) -> Instant {
    let start = Instant::now();
    let end = start + duration;
    let idle: Rc<RefCell<Vec<Vu>>> = Rc::new(RefCell::new(Vec::new()));
    let freed = Rc::new(Notify::new());
    let created = Cell::new(0u64);
    let max = pool.max.map(|m| ctx.lane.vu_limit(m));
    for _ in 0..ctx.share(pool.pre_allocated) {
        idle.borrow_mut().push(Vu::new(ctx, next_id(ctx, &created)));
    }
    let mut timer = ReleaseTimer::new();
    // When the last wait for a busy VU ended: arrivals due before it were held back by the wait.
    let mut backlog_until = start;
    for at in ctx.lane.arrivals(times) {
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
        let mut waited = due < backlog_until;
        let mut vu = loop {
            let freed_now = freed.notified();
            if let Some(vu) = idle.borrow_mut().pop() {
                break Some(vu);
            }
            if max.is_none_or(|max| created.get() < max) {
                let vu = Vu::new(ctx, next_id(ctx, &created));
                if pool.drop_while_growing {
                    idle.borrow_mut().push(vu);
                    break None;
                }
                break Some(vu);
            }
            // A waiting pool waits only while the schedule lasts: its backlog is not sent after.
            if !pool.wait || Instant::now() >= end {
                break None;
            }
            waited = true;
            tokio::select! {
                _ = freed_now => {}
                _ = tokio::time::sleep_until(end.into()) => break None,
                _ = ctx.stop.cancelled() => break None,
            }
        };
        if waited {
            backlog_until = Instant::now();
        }
        let Some(mut vu) = vu.take() else {
            ctx.recorder.record_dropped(index, 1);
            continue;
        };
        let (ctx2, idle, freed, fresh) = (ctx.clone(), idle.clone(), freed.clone(), pool.fresh);
        group.spawn(group.token().clone(), async move {
            let _gauge = VuGauge::new(&ctx2, index);
            let arrival = Arrival { due, waited };
            vu.iterate(&ctx2, &ctx2.plan.scenarios[index], Some(arrival))
                .await;
            if fresh {
                vu.disconnect();
            }
            idle.borrow_mut().push(vu);
            freed.notify_one();
        });
    }
    // The run lasts as long as its schedule: a trailing pause or a rate falling to 0 is waited out.
    tokio::select! {
        _ = tokio::time::sleep_until(end.into()) => {}
        _ = ctx.stop.cancelled() => {}
    }
    end
}

fn next_id(ctx: &ThreadContext, created: &Cell<u64>) -> u64 {
    let local = created.get();
    created.set(local + 1);
    super::vu_id(ctx, local)
}
