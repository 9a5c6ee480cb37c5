//! The Autoscaler: one policy's state machine, fed one observation at a time by the simulator (virtual
//! clock) or by the live cluster (real clock).

use std::time::Duration;

use crate::policy::Rule;
use crate::rules::aws::AwsGroup;
use crate::rules::hpa::HpaState;
use crate::rules::{Change, Limits};
use crate::{Observation, Policy, PolicyError};

/// What the Autoscaler wants after an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Instances the group should have (in service plus pending).
    pub desired: u32,
    /// Why the capacity changes; `None` when `desired` equals the observed capacity.
    pub reason: Option<String>,
}

/// Reads observations and decides the desired capacity; owns alarms, cooldowns, warm-up,
/// stabilization windows and the min/max limits of its policy.
#[derive(Debug, Clone)]
pub struct Autoscaler {
    policy: Policy,
    limits: Limits,
    rule: RuleState,
}

#[derive(Debug, Clone)]
enum RuleState {
    Aws(AwsGroup),
    Hpa(HpaState),
}

impl Autoscaler {
    /// An Autoscaler for a valid policy.
    pub fn new(policy: Policy) -> Result<Self, PolicyError> {
        policy.validate()?;
        let rule = match policy.rule()? {
            Rule::Aws {
                simple,
                step,
                target_tracking,
            } => RuleState::Aws(AwsGroup::new(simple, step, target_tracking, policy.startup)),
            Rule::Beanstalk(beanstalk) => RuleState::Aws(AwsGroup::beanstalk(beanstalk)),
            Rule::Hpa(config) => RuleState::Hpa(HpaState::new(config)),
        };
        Ok(Self {
            limits: Limits {
                min: policy.min,
                max: policy.max,
            },
            policy,
            rule,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Reads one observation made at `now` (time since the start) and decides the desired capacity.
    pub fn observe(&mut self, now: Duration, observation: &Observation) -> Decision {
        let (now, limits) = (now, self.limits);
        let change = match &mut self.rule {
            RuleState::Aws(group) => group.evaluate(now, observation, limits),
            RuleState::Hpa(state) => state.evaluate(now, observation, limits),
        };
        let current = observation.capacity();
        // Kubernetes leaves a scale target at 0 replicas alone: autoscaling is off for it.
        if current == 0 && matches!(self.rule, RuleState::Hpa(_)) {
            return Decision {
                desired: 0,
                reason: None,
            };
        }
        match change {
            Some(Change { desired, reason }) => Decision {
                desired,
                reason: Some(reason),
            },
            None => {
                let desired = limits.clamp(i64::from(current));
                Decision {
                    desired,
                    reason: (desired != current).then(|| {
                        format!(
                            "capacity {current} outside min {} .. max {}",
                            limits.min, limits.max
                        )
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_min_and_max_the_capacity_is_clamped_but_an_hpa_at_zero_is_left_alone() {
        let aws = Policy::from_yaml("min: 2\nmax: 3\ntarget_tracking: {target: 50}\n").unwrap();
        let mut autoscaler = Autoscaler::new(aws).unwrap();
        let zero = Observation::uniform(0, 0, None);
        let decision = autoscaler.observe(Duration::from_secs(60), &zero);
        assert_eq!(decision.desired, 2);
        assert_eq!(
            decision.reason.as_deref(),
            Some("capacity 0 outside min 2 .. max 3")
        );
        let hpa = Policy::from_yaml("min: 2\nmax: 3\nhpa: {target: 50}\n").unwrap();
        let mut autoscaler = Autoscaler::new(hpa).unwrap();
        assert_eq!(autoscaler.observe(Duration::ZERO, &zero).desired, 0);
        let five = Observation::uniform(5, 0, Some(50.0));
        assert_eq!(
            autoscaler.observe(Duration::from_secs(15), &five).desired,
            3
        );
    }
}
