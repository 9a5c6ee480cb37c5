//! What a fleet can measure at one moment, for the Autoscaler to read.

use serde::{Deserialize, Serialize};

/// A metric a policy can scale on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Average CPU % of the instances in service.
    #[default]
    #[serde(alias = "CPUUtilization")]
    Cpu,
    /// Average memory % of the instances in service.
    Memory,
    /// Requests per instance in service, in the load's unit (e.g. per minute).
    #[serde(alias = "ALBRequestCountPerTarget")]
    RequestsPerTarget,
    /// Requests in flight per instance in service.
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

/// One measurement of the fleet, taken at the `now` passed with it to [`crate::Autoscaler::observe`].
/// Metric values describe the interval that ends at `now`; `None` means not measured (e.g. no instance
/// in service, or a metric the source cannot see).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Observation {
    /// Instances serving load.
    pub in_service: u32,
    /// Instances launched but still starting up (billed, serving nothing).
    pub pending: u32,
    pub cpu: Option<f64>,
    pub memory: Option<f64>,
    pub requests_per_target: Option<f64>,
    pub in_flight_per_target: Option<f64>,
}

impl Observation {
    /// Instances in service plus pending: the group's current capacity.
    pub fn capacity(&self) -> u32 {
        self.in_service + self.pending
    }

    /// The value of `metric`, if measured.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Cpu => self.cpu,
            Metric::Memory => self.memory,
            Metric::RequestsPerTarget => self.requests_per_target,
            Metric::InFlightPerTarget => self.in_flight_per_target,
        }
    }
}
