//! One group at run time: its replicas, their life cycle (launch, in service, drain, stop), self-healing
//! and the per-second measurements the autoscaler reads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scalelab_scaling::{Metric, Observation, Replica as ReplicaSample, ReplicaState};
use tokio::task::JoinSet;

use crate::balancer::{BackendClient, Counts, Health, Pool};
use crate::config::GroupConfig;
use crate::events::{EventKind, EventLog};
use crate::health::check_until_stopped;
use crate::sampler::{GroupUsage, ReplicaMeter};
use crate::supervisor::{LaunchError, Launcher, Phase, Replica};

/// What one replica measured over the last second.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaStatus {
    pub id: u64,
    pub pid: u32,
    pub phase: &'static str,
    /// CPU % of the replica's `vcpus`; `None` in its first second.
    pub cpu: Option<f64>,
    pub resident_bytes: u64,
    /// Requests answered since launch.
    pub requests: u64,
    pub in_flight: u64,
}

/// The wait before launching again after `crashes` replicas in a row exited before they were in
/// service: 1 s, doubling up to 60 s (Kubernetes' CrashLoopBackOff doubles from 10 s up to 5 min).
pub fn backoff(crashes: u32) -> Duration {
    Duration::from_secs(1u64 << crashes.saturating_sub(1).min(6)).min(Duration::from_secs(60))
}

/// One group over the last second.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupStatus {
    pub name: String,
    pub desired: u32,
    pub in_service: u32,
    pub pending: u32,
    pub draining: u32,
    /// Average CPU % of the replicas in service.
    pub cpu_avg: Option<f64>,
    /// Average resident memory of the replicas in service, in bytes.
    pub memory_avg_bytes: Option<f64>,
    /// That average as a % of `memory_mib` (or of the host's memory).
    pub memory_avg: Option<f64>,
    /// Requests through the load balancer in the last second, and those answered 5xx.
    pub requests: u64,
    pub errors: u64,
    pub bad_gateway: u64,
    pub unavailable: u64,
    pub gateway_timeout: u64,
    pub in_flight: u64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub replicas: Vec<ReplicaStatus>,
}

/// A group's replicas and what it remembers between seconds.
pub struct GroupRuntime {
    pub config: GroupConfig,
    pub pool: Arc<Pool>,
    pub desired: u32,
    replicas: Vec<Replica>,
    meters: HashMap<u64, ReplicaMeter>,
    /// The pool's counts at the last measurement.
    counted: Counts,
    launcher: Launcher,
    /// Stress caps of embedded replicas, as `serve` options.
    caps: Vec<String>,
    /// Replicas in a row that exited before they were ever in service, and no launch before
    /// `hold_until`: exponential back-off of a command that cannot start.
    crashes: u32,
    hold_until: Option<Instant>,
    /// Why the last replica that exited did.
    pub last_exit: Option<String>,
    client: BackendClient,
    events: Arc<EventLog>,
}

impl GroupRuntime {
    pub fn new(
        config: GroupConfig,
        pool: Arc<Pool>,
        launcher: Launcher,
        caps: Vec<String>,
        client: BackendClient,
        events: Arc<EventLog>,
    ) -> Self {
        Self {
            desired: config.initial(),
            config,
            pool,
            replicas: Vec::new(),
            meters: HashMap::new(),
            counted: Counts::default(),
            launcher,
            caps,
            crashes: 0,
            hold_until: None,
            last_exit: None,
            client,
            events,
        }
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Process groups of the live replicas.
    pub fn process_groups(&self) -> Vec<u32> {
        self.replicas.iter().map(|r| r.pid).collect()
    }

    fn count(&self, phase: fn(&Phase) -> bool) -> u32 {
        self.replicas.iter().filter(|r| phase(&r.phase)).count() as u32
    }

    pub fn in_service(&self) -> u32 {
        self.count(|p| *p == Phase::InService)
    }

    pub fn pending(&self) -> u32 {
        self.count(|p| *p == Phase::Pending)
    }

    fn launch(&mut self, next_id: &mut u64, why: &str) -> Result<(), LaunchError> {
        *next_id += 1;
        let replica = Replica::launch(*next_id, &self.config, &self.launcher, &self.caps)?;
        self.events.record(
            self.name(),
            Some(replica.id),
            EventKind::Launch,
            format!("pid {} on {} ({why})", replica.pid, replica.backend.addr),
        );
        self.pool.register(replica.backend.clone());
        tokio::spawn(check_until_stopped(
            self.name().to_owned(),
            replica.backend.clone(),
            self.config.health_check.clone(),
            self.client.clone(),
            self.events.clone(),
            replica.health_stop.clone(),
        ));
        self.replicas.push(replica);
        Ok(())
    }

    /// Removes replica `index` from the pool and stops it in `stopping`.
    fn stop(&mut self, index: usize, stopping: &mut JoinSet<()>, why: String) {
        let replica = self.replicas.remove(index);
        self.pool.deregister(replica.id);
        self.meters.remove(&replica.id);
        self.events
            .record(self.name(), Some(replica.id), EventKind::Stop, why);
        stopping.spawn(replica.stop(self.config.stop_grace));
    }

    /// Promotes replicas that passed their health check, replaces those that exited, stayed
    /// unhealthy or never started, and stops drained ones.
    pub fn heal(&mut self, stopping: &mut JoinSet<()>) {
        let now = Instant::now();
        let mut index = 0;
        while index < self.replicas.len() {
            let replica = &mut self.replicas[index];
            let (id, health) = (replica.id, replica.backend.health());
            let problem = if let Some(status) = replica.exited() {
                let reason = replica.exit_reason(status);
                self.events.record(
                    &self.config.name,
                    Some(id),
                    EventKind::Exited,
                    reason.clone(),
                );
                self.last_exit = Some(reason);
                if replica.phase == Phase::Pending {
                    self.crashes += 1;
                    let delay = backoff(self.crashes);
                    self.hold_until = Some(now + delay);
                    Some(format!(
                        "it exited before it was in service ({} in a row): next launch in {delay:?}",
                        self.crashes
                    ))
                } else {
                    Some("it exited".to_owned())
                }
            } else {
                match replica.phase {
                    Phase::Pending if health == Health::Healthy => {
                        replica.phase = Phase::InService;
                        self.crashes = 0;
                        None
                    }
                    Phase::Pending if now - replica.launched > self.config.startup_grace => {
                        Some(format!(
                            "not healthy within the start-up grace of {:?}",
                            self.config.startup_grace
                        ))
                    }
                    Phase::InService if health == Health::Unhealthy => {
                        Some("its health checks failed".to_owned())
                    }
                    Phase::Draining { since } => {
                        let in_flight = replica.backend.in_flight();
                        if in_flight == 0 || now - since >= self.config.deregistration_delay {
                            let why = format!(
                                "drained after {:.1}s, {in_flight} request(s) still in flight",
                                (now - since).as_secs_f64()
                            );
                            self.stop(index, stopping, why);
                            continue;
                        }
                        None
                    }
                    _ => None,
                }
            };
            match problem {
                Some(why) => {
                    self.events
                        .record(self.name(), Some(id), EventKind::Replace, why.clone());
                    self.stop(index, stopping, format!("replaced: {why}"));
                }
                None => index += 1,
            }
        }
    }

    /// Launches or drains replicas until in service plus pending equals `desired`; scale-in removes
    /// the newest first, pending ones before any in service.
    pub fn reconcile(&mut self, next_id: &mut u64, stopping: &mut JoinSet<()>) {
        let backing_off = self.hold_until.is_some_and(|until| Instant::now() < until);
        while !backing_off && self.in_service() + self.pending() < self.desired {
            let why = format!("desired {}", self.desired);
            if let Err(error) = self.launch(next_id, &why) {
                self.events
                    .record(self.name(), None, EventKind::Launch, error.to_string());
                return;
            }
        }
        while self.in_service() + self.pending() > self.desired {
            let newest_pending = self
                .replicas
                .iter()
                .rposition(|r| r.phase == Phase::Pending);
            let newest_in_service = self
                .replicas
                .iter()
                .rposition(|r| r.phase == Phase::InService);
            match (newest_pending, newest_in_service) {
                (Some(index), _) => {
                    self.stop(index, stopping, "scale-in: still pending".into());
                }
                (None, Some(index)) => {
                    let replica = &mut self.replicas[index];
                    replica.phase = Phase::Draining {
                        since: Instant::now(),
                    };
                    replica.backend.drain();
                    let detail = format!(
                        "deregistered, {} request(s) in flight, delay {:?}",
                        replica.backend.in_flight(),
                        self.config.deregistration_delay
                    );
                    let id = replica.id;
                    self.events
                        .record(self.name(), Some(id), EventKind::Drain, detail);
                }
                (None, None) => return,
            }
        }
    }

    /// Measures the last second and returns it with the autoscaler's view of it: every replica with
    /// its state, age, time in that state and own samples.
    pub fn measure(
        &mut self,
        now: Instant,
        usage: &HashMap<u32, GroupUsage>,
        elapsed_seconds: f64,
        host_memory_bytes: u64,
    ) -> (GroupStatus, Observation) {
        let memory_size = self
            .config
            .memory_mib
            .map_or(host_memory_bytes as f64, |mib| mib * 1024.0 * 1024.0);
        let mut replicas = Vec::with_capacity(self.replicas.len());
        let mut samples = Vec::with_capacity(self.replicas.len());
        let mut memory_sum = 0.0;
        let mut in_flight_sum = 0u64;
        for replica in &self.replicas {
            let used = usage.get(&replica.pid).copied().unwrap_or_default();
            let meter = self.meters.entry(replica.id).or_default();
            let cpu = meter.cpu.utilisation(now, used.cpu, self.config.vcpus);
            let requests = meter.request_rate(replica.backend.requests(), elapsed_seconds);
            let in_flight = replica.backend.in_flight();
            let (state, since) = match replica.phase {
                Phase::Pending => (ReplicaState::Pending, replica.launched),
                Phase::InService => (
                    ReplicaState::InService,
                    *meter.in_service_since.get_or_insert(now),
                ),
                Phase::Draining { since } => (ReplicaState::Draining, since),
            };
            if replica.phase == Phase::InService {
                memory_sum += used.resident_bytes as f64;
            }
            in_flight_sum += in_flight;
            samples.push(ReplicaSample {
                state,
                age: now.saturating_duration_since(replica.launched),
                state_for: now.saturating_duration_since(since),
                cpu,
                memory: (memory_size > 0.0)
                    .then(|| used.resident_bytes as f64 / memory_size * 100.0),
                requests: Some(requests),
                in_flight: Some(in_flight as f64),
            });
            replicas.push(ReplicaStatus {
                id: replica.id,
                pid: replica.pid,
                phase: match replica.phase {
                    Phase::Pending => "pending",
                    Phase::InService => "in_service",
                    Phase::Draining { .. } => "draining",
                },
                cpu,
                resident_bytes: used.resident_bytes,
                requests: replica.backend.requests(),
                in_flight,
            });
        }
        let counts = self.pool.counters.read();
        let second = counts - self.counted;
        self.counted = counts;
        let latency = self.pool.take_latency();
        let observation = Observation {
            replicas: samples,
            window: Duration::from_secs_f64(elapsed_seconds.max(1e-3)),
        };
        let in_service = observation.in_service();
        let status = GroupStatus {
            name: self.name().to_owned(),
            desired: self.desired,
            in_service,
            pending: observation.pending(),
            draining: self.count(|p| matches!(p, Phase::Draining { .. })),
            cpu_avg: observation.metric(Metric::Cpu),
            memory_avg_bytes: (in_service > 0).then(|| memory_sum / f64::from(in_service)),
            memory_avg: observation.metric(Metric::Memory),
            requests: second.requests,
            errors: second.errors,
            bad_gateway: second.bad_gateway,
            unavailable: second.unavailable,
            gateway_timeout: second.gateway_timeout,
            in_flight: in_flight_sum,
            latency_p50_ms: latency.percentile(50.0),
            latency_p95_ms: latency.percentile(95.0),
            latency_p99_ms: latency.percentile(99.0),
            replicas,
        };
        (status, observation)
    }

    /// Stops every replica (draining none): at shutdown.
    pub fn stop_all(&mut self, stopping: &mut JoinSet<()>) {
        while !self.replicas.is_empty() {
            self.stop(0, stopping, "the cluster is shutting down".into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_one_second_up_to_a_minute() {
        let waits: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
