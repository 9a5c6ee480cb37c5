//! A live cluster's gauges (`scalelab_cluster_*`), from a neutral per-group input.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// One group of a cluster over the last second, as its gauges show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GroupGauges {
    pub group: String,
    pub pending: u32,
    pub in_service: u32,
    pub draining: u32,
    /// Capacity the autoscaler wants.
    pub desired: u32,
    /// Average CPU % of the replicas in service (none in service: 0).
    pub cpu_percent: Option<f64>,
    /// Average resident memory of the replicas in service, in bytes.
    pub memory_bytes: Option<f64>,
    pub in_flight: u64,
    /// Requests through the load balancer in the second, and its own 502, 503 and 504 answers.
    pub requests: u64,
    pub bad_gateway: u64,
    pub unavailable: u64,
    pub gateway_timeout: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabel {
    group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    group: String,
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    group: String,
    status: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The cluster's metrics, updated every second.
pub struct ClusterMetrics {
    replicas: Family<PhaseLabels, Gauge>,
    desired: Family<GroupLabel, Gauge>,
    cpu: Family<GroupLabel, FloatGauge>,
    memory: Family<GroupLabel, FloatGauge>,
    in_flight: Family<GroupLabel, Gauge>,
    requests: Family<GroupLabel, Counter>,
    lb_errors: Family<StatusLabels, Counter>,
}

impl ClusterMetrics {
    /// The cluster's metrics, registered into `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let replicas = Family::default();
        let desired = Family::default();
        let cpu = Family::default();
        let memory = Family::default();
        let in_flight = Family::default();
        let requests = Family::default();
        let lb_errors = Family::default();
        registry.register(
            "replicas",
            "Replicas by phase (pending, in_service, draining)",
            replicas.clone(),
        );
        registry.register(
            "desired_replicas",
            "Capacity the autoscaler wants",
            desired.clone(),
        );
        registry.register(
            "cpu_utilization_percent",
            "Average CPU of the replicas in service, % of their vcpus",
            cpu.clone(),
        );
        registry.register(
            "memory_resident_bytes",
            "Average resident memory of the replicas in service",
            memory.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests the load balancer is waiting on",
            in_flight.clone(),
        );
        registry.register(
            "lb_requests",
            "Requests answered by the load balancer",
            requests.clone(),
        );
        registry.register(
            "lb_errors",
            "Answers of the load balancer itself: 502, 503 or 504",
            lb_errors.clone(),
        );
        Self {
            replicas,
            desired,
            cpu,
            memory,
            in_flight,
            requests,
            lb_errors,
        }
    }

    /// Sets the gauges from the last second and adds its requests to the counters.
    pub fn update(&self, groups: &[GroupGauges]) {
        for status in groups {
            let group = GroupLabel {
                group: status.group.clone(),
            };
            for (phase, count) in [
                ("pending", status.pending),
                ("in_service", status.in_service),
                ("draining", status.draining),
            ] {
                let labels = PhaseLabels {
                    group: status.group.clone(),
                    phase,
                };
                self.replicas.get_or_create(&labels).set(i64::from(count));
            }
            self.desired
                .get_or_create(&group)
                .set(i64::from(status.desired));
            self.cpu
                .get_or_create(&group)
                .set(status.cpu_percent.unwrap_or(0.0));
            self.memory
                .get_or_create(&group)
                .set(status.memory_bytes.unwrap_or(0.0));
            self.in_flight
                .get_or_create(&group)
                .set(status.in_flight as i64);
            self.requests.get_or_create(&group).inc_by(status.requests);
            for (code, count) in [
                ("502", status.bad_gateway),
                ("503", status.unavailable),
                ("504", status.gateway_timeout),
            ] {
                let labels = StatusLabels {
                    group: status.group.clone(),
                    status: code,
                };
                self.lb_errors.get_or_create(&labels).inc_by(count);
            }
        }
    }
}
