//! What a fleet can measure at one moment, for the Autoscaler to read: every replica with its state and
//! its own samples. The simulator and the live cluster fill it the same way, so that AWS's group
//! aggregates and the Kubernetes HPA's per-pod rules read the same data.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A metric a policy can scale on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// CPU % of the replica's vCPUs (Kubernetes: of its CPU request).
    #[default]
    #[serde(alias = "CPUUtilization")]
    Cpu,
    /// Memory % of the replica's memory size (Kubernetes: of its memory request).
    Memory,
    /// Requests per second (or per the load's unit) a replica in service received.
    #[serde(alias = "ALBRequestCountPerTarget")]
    RequestsPerTarget,
    /// Requests in flight on a replica.
    InFlightPerTarget,
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Memory => "memory",
            Self::RequestsPerTarget => "requests_per_target",
            Self::InFlightPerTarget => "in_flight_per_target",
        })
    }
}

/// Where a replica is in its life. Kubernetes' pod states map onto these: `Pending` is a pod in phase
/// Pending, or running but never Ready; `InService` is Ready; `Draining` has a deletion timestamp;
/// `Failed` is phase Failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReplicaState {
    /// Launched, not yet in service (booting, or its health check not yet passed).
    #[default]
    Pending,
    /// Serving: in the load balancer's rotation.
    InService,
    /// Deregistered, finishing its requests before it stops; no longer capacity.
    Draining,
    /// Exited or failed its health checks, not yet replaced; no longer capacity.
    Failed,
}

/// One replica at the observation's time, with what it measured over the observation's window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Replica {
    pub state: ReplicaState,
    /// Time since launch (Kubernetes: since the pod's start time).
    pub age: Duration,
    /// Time since it entered `state` (Kubernetes: since the Ready condition's last transition).
    pub state_for: Duration,
    /// Its own samples; `None` when not measured.
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub requests: Option<f64>,
    pub in_flight: Option<f64>,
}

impl Replica {
    /// This replica's sample of `metric`.
    pub fn sample(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Cpu => self.cpu,
            Metric::Memory => self.memory,
            Metric::RequestsPerTarget => self.requests,
            Metric::InFlightPerTarget => self.in_flight,
        }
    }
}

/// One measurement of the fleet, taken at the `now` passed with it to [`crate::Autoscaler::observe`].
/// Samples describe the `window` that ends at `now`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    pub replicas: Vec<Replica>,
    /// The interval each sample covers (Kubernetes metrics-server: the metric's window).
    pub window: Duration,
}

impl Observation {
    /// Replicas in service and pending, in one pass.
    pub fn counts(&self) -> (u32, u32) {
        self.replicas
            .iter()
            .fold((0, 0), |(in_service, pending), r| match r.state {
                ReplicaState::InService => (in_service + 1, pending),
                ReplicaState::Pending => (in_service, pending + 1),
                ReplicaState::Draining | ReplicaState::Failed => (in_service, pending),
            })
    }

    /// Replicas serving load.
    pub fn in_service(&self) -> u32 {
        self.counts().0
    }

    /// Replicas launched but not yet in service.
    pub fn pending(&self) -> u32 {
        self.counts().1
    }

    /// In service plus pending: the group's current capacity (draining and failed ones are leaving).
    pub fn capacity(&self) -> u32 {
        let (in_service, pending) = self.counts();
        in_service + pending
    }

    /// The group's aggregate of `metric`, as CloudWatch's Average over the group (or the load
    /// balancer's per-target figure) gives it: the mean over the replicas in service that measured
    /// it; `None` when none did.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        let (sum, count) = self
            .replicas
            .iter()
            .filter(|r| r.state == ReplicaState::InService)
            .filter_map(|r| r.sample(metric))
            .fold((0.0, 0u32), |(sum, count), value| (sum + value, count + 1));
        (count > 0).then(|| sum / f64::from(count))
    }

    /// An observation of `in_service` replicas each measuring `cpu` and `pending` ones measuring
    /// nothing, all launched long ago: the shape most AWS rule tests need.
    #[cfg(test)]
    pub fn uniform(in_service: u32, pending: u32, cpu: Option<f64>) -> Self {
        let long_ago = Duration::from_secs(3600);
        let replica = |state, cpu| Replica {
            state,
            age: long_ago,
            state_for: long_ago,
            cpu,
            ..Replica::default()
        };
        Self {
            replicas: (0..in_service)
                .map(|_| replica(ReplicaState::InService, cpu))
                .chain((0..pending).map(|_| replica(ReplicaState::Pending, None)))
                .collect(),
            window: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacity_counts_pending_and_in_service_and_the_aggregate_reads_in_service_samples() {
        let mut observation = Observation::uniform(2, 1, Some(40.0));
        observation.replicas[1].cpu = Some(60.0);
        observation.replicas.push(Replica {
            state: ReplicaState::Draining,
            cpu: Some(100.0),
            ..Replica::default()
        });
        observation.replicas.push(Replica {
            state: ReplicaState::Failed,
            ..Replica::default()
        });
        assert_eq!((observation.in_service(), observation.pending()), (2, 1));
        assert_eq!(observation.capacity(), 3);
        // (40 + 60) / 2: the draining replica's 100 % is not the group's.
        assert_eq!(observation.metric(Metric::Cpu), Some(50.0));
        assert_eq!(observation.metric(Metric::Memory), None);
    }
}
