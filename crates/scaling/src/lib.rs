//! Autoscaling policies and the machinery around them, pure but for [`read_usage`] (which reads a
//! timeline file or a cluster's results directory): no clock, no threads (the sweep alone runs
//! simulations in parallel with rayon).
//!
//! - [`Policy`]: AWS simple, step and target tracking scaling, Kubernetes HPA v2, Elastic Beanstalk
//!   triggers, with min / max / initial capacity and instance start-up time; YAML or JSON.
//! - [`Autoscaler`]: `observe(now, &Observation) -> Decision`, the same for the simulator and the cluster.
//! - [`simulate`]: a policy over a [`scalelab_shape::Shape`] of offered load with a capacity model.
//! - [`compare`]: a live cluster group's run beside the simulation of its load (`sim --against`).
//! - [`sweep`]: a grid of policy parameters, simulated in parallel and ranked ([`sweep_csv`]: its table).
//! - [`TimelineRow`]: the simulator's timeline file; [`read_usage`]: a timeline or a cluster's results
//!   as the `Usage` that `scalelab_capacity` prices.

mod adjustment;
mod against;
mod alarm;
mod autoscaler;
mod credits;
mod expr;
mod observation;
mod params;
mod policy;
mod rules;
mod sim;
mod sweep;
mod timeline;

pub use adjustment::{AdjustmentType, adjusted_capacity};
pub use against::{Against, EventPair, Figures, ScalingEvent, SideBySide, compare};
pub use alarm::{Alarm, AlarmConfig, Comparison, Statistic};
pub use autoscaler::{Autoscaler, Decision};
pub use credits::{Balance, CreditMode, CreditModel, Spent};
pub use observation::{Metric, Observation, Replica, ReplicaState};
pub use params::{ParamValue, check_param, set_param, set_params};
pub use policy::{
    Beanstalk, Hpa, HpaBehavior, HpaMetric, HpaPolicy, HpaPolicyKind, HpaRules, Policy, Rule,
    SelectPolicy, SimpleScaling, StepAdjustment, StepScaling, TargetTracking, one_or_many,
};
pub use sim::{MAX_STEPS, SimConfig, SimResult, Summary, simulate};
pub use sweep::{Objective, Sweep, SweepError, SweepRow, parse_range, sweep, sweep_csv};
pub use timeline::{
    TimelineError, TimelineRow, cluster_usage, parse_timeline, read_usage, timeline_csv,
    timeline_usage,
};

/// Why a policy is not usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file: {0}")]
    Parse(String),
    #[error("policy: {0}")]
    Invalid(String),
    #[error("parameter '{name}': {message}")]
    Param { name: String, message: String },
    /// Beyond a documented bound (steps, instances).
    #[error("{0}")]
    Bound(String),
}
