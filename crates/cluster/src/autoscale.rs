//! The control loop: every second each group heals itself, is measured, and its `Autoscaler` (the
//! same code `scalelab sim` runs, here on the real clock) reads the measurements; its decision is
//! logged with its reason and applied.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scalelab_report::{ClusterMetrics, GroupGauges};
use scalelab_scaling::Autoscaler;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::events::{EventKind, EventLog};
use crate::group::{GroupRuntime, GroupStatus};
use crate::recorder::Recorder;
use crate::sampler::{host_memory_bytes, usage_by_process_group};

/// Owns the groups while the cluster runs.
pub struct Controller {
    pub groups: Vec<GroupRuntime>,
    pub autoscalers: Vec<Option<Autoscaler>>,
    pub events: Arc<EventLog>,
    pub recorder: Option<Recorder>,
    pub metrics: ClusterMetrics,
    pub status: watch::Sender<Vec<GroupStatus>>,
    pub next_replica: u64,
}

impl Controller {
    /// Runs a tick each second from `zero` until `stop`, then stops every replica.
    pub async fn run(mut self, zero: Instant, stop: CancellationToken) {
        let second = Duration::from_secs(1);
        let mut ticker = tokio::time::interval_at((zero + second).into(), second);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut stopping = JoinSet::new();
        let mut last = zero;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.cancelled() => break,
            }
            let now = Instant::now();
            self.tick(zero, now, now - last, &mut stopping);
            last = now;
            while stopping.try_join_next().is_some() {}
        }
        for group in &mut self.groups {
            group.stop_all(&mut stopping);
        }
        while stopping.join_next().await.is_some() {}
    }

    fn tick(&mut self, zero: Instant, now: Instant, elapsed: Duration, stopping: &mut JoinSet<()>) {
        for group in &mut self.groups {
            group.heal(stopping);
            group.reconcile(&mut self.next_replica, stopping);
        }
        let process_groups: Vec<u32> = self
            .groups
            .iter()
            .flat_map(GroupRuntime::process_groups)
            .collect();
        let usage = usage_by_process_group(&process_groups);
        let host_memory = host_memory_bytes();
        // The second measured, [second, second + 1) on the cluster's clock; its end is the `now` the
        // autoscaler sees, exactly, so that its alarms' periods fill one sample each despite timer jitter.
        let second = (now - zero).as_secs_f64().round().max(1.0) as u64 - 1;
        let end_of_second = Duration::from_secs(second + 1);
        let mut statuses = Vec::with_capacity(self.groups.len());
        for (group, autoscaler) in self.groups.iter_mut().zip(&mut self.autoscalers) {
            let (mut status, observation) =
                group.measure(now, &usage, elapsed.as_secs_f64(), host_memory);
            if let Some(autoscaler) = autoscaler {
                let decision = autoscaler.observe(end_of_second, &observation);
                if decision.desired != group.desired {
                    let kind = if decision.desired > group.desired {
                        EventKind::ScaleOut
                    } else {
                        EventKind::ScaleIn
                    };
                    let why = decision.reason.unwrap_or_default();
                    let detail =
                        format!("desired {} -> {}: {why}", group.desired, decision.desired);
                    self.events.record(group.name(), None, kind, detail);
                    group.desired = decision.desired;
                    group.reconcile(&mut self.next_replica, stopping);
                }
            }
            status.desired = group.desired;
            statuses.push(status);
        }
        if let Some(recorder) = &mut self.recorder
            && let Err(error) = recorder.push(second, &statuses)
        {
            tracing::warn!(%error, "cannot write the cluster's per-second files");
        }
        let gauges: Vec<GroupGauges> = statuses.iter().map(gauges).collect();
        self.metrics.update(&gauges);
        self.status.send_replace(statuses);
    }
}

/// What the cluster's Prometheus gauges show of a group's second.
fn gauges(status: &GroupStatus) -> GroupGauges {
    GroupGauges {
        group: status.name.clone(),
        pending: status.pending,
        in_service: status.in_service,
        draining: status.draining,
        desired: status.desired,
        cpu_percent: status.cpu_avg,
        memory_bytes: status.memory_avg_bytes,
        in_flight: status.in_flight,
        requests: status.requests,
        bad_gateway: status.bad_gateway,
        unavailable: status.unavailable,
        gateway_timeout: status.gateway_timeout,
    }
}
