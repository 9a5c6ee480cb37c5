//! AWS step scaling: the step adjustment is chosen by the breach size (datapoint minus threshold).
//! While launched instances warm up (start-up plus warm-up), they count as already added: a new
//! breach scales out only if its step asks for more than that, and no scale-in happens meanwhile.

use std::time::Duration;

use crate::adjustment::adjusted_capacity;
use crate::alarm::Alarm;
use crate::policy::{StepAdjustment, StepScaling};
use crate::rules::{Change, Limits, Warming};
use crate::{AdjustmentType, Observation};

/// All step scaling policies of a group; the first in ALARM whose step changes capacity acts.
#[derive(Debug, Clone)]
pub struct StepGroup {
    policies: Vec<StepPolicy>,
    warming: Warming,
    startup: Duration,
}

#[derive(Debug, Clone)]
struct StepPolicy {
    name: String,
    alarm: Alarm,
    adjustment_type: AdjustmentType,
    steps: Vec<StepAdjustment>,
    min_adjustment_magnitude: Option<u32>,
    warmup: Duration,
}

/// The step whose bounds hold `breach`: `lower <= breach < upper` at or above the threshold,
/// `lower < breach <= upper` below it.
fn step_for(steps: &[StepAdjustment], breach: f64) -> Option<&StepAdjustment> {
    steps.iter().find(|step| {
        let lower = step.lower.unwrap_or(f64::NEG_INFINITY);
        let upper = step.upper.unwrap_or(f64::INFINITY);
        if breach >= 0.0 {
            lower <= breach && breach < upper
        } else {
            lower < breach && breach <= upper
        }
    })
}

impl StepGroup {
    pub fn new(policies: &[StepScaling], startup: Duration) -> Self {
        Self {
            policies: policies
                .iter()
                .enumerate()
                .map(|(i, p)| StepPolicy {
                    name: format!("step[{i}]"),
                    alarm: Alarm::new(p.alarm.clone()),
                    adjustment_type: p.adjustment_type,
                    steps: p.steps.clone(),
                    min_adjustment_magnitude: p.min_adjustment_magnitude,
                    warmup: p.warmup,
                })
                .collect(),
            warming: Warming::default(),
            startup,
        }
    }

    pub fn evaluate(
        &mut self,
        now: Duration,
        observation: &Observation,
        limits: Limits,
    ) -> Option<Change> {
        let current = observation.capacity();
        let warming = self.warming.count(now, current);
        for policy in &mut self.policies {
            let metric = policy.alarm.config().metric;
            policy.alarm.observe(now, observation.metric(metric));
        }
        for policy in self.policies.iter().filter(|p| p.alarm.in_alarm()) {
            let Some(datapoint) = policy.alarm.last_datapoint() else {
                continue;
            };
            let Some(step) = step_for(&policy.steps, datapoint - policy.alarm.config().threshold)
            else {
                continue;
            };
            let adjust = |base| {
                limits.clamp(adjusted_capacity(
                    base,
                    policy.adjustment_type,
                    step.adjustment,
                    policy.min_adjustment_magnitude,
                ))
            };
            let reason = || {
                format!(
                    "{}: {} (step {:+})",
                    policy.name,
                    policy.alarm.describe(),
                    step.adjustment
                )
            };
            let out = adjust(current - warming);
            if out > current {
                self.warming
                    .launched(now + self.startup + policy.warmup, out - current);
                return Some(Change {
                    desired: out,
                    reason: reason(),
                });
            }
            let scaled_in = adjust(current);
            if scaled_in < current && warming == 0 {
                return Some(Change {
                    desired: scaled_in,
                    reason: reason(),
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::{AlarmConfig, Comparison};
    use crate::{Metric, Statistic};

    fn step(lower: Option<f64>, upper: Option<f64>, adjustment: f64) -> StepAdjustment {
        StepAdjustment {
            lower,
            upper,
            adjustment,
        }
    }

    fn policy(threshold: f64, comparison: Comparison, steps: Vec<StepAdjustment>) -> StepScaling {
        StepScaling {
            alarm: AlarmConfig {
                metric: Metric::Cpu,
                statistic: Statistic::Average,
                threshold,
                comparison,
                period: Duration::from_secs(60),
                evaluation_periods: 1,
                datapoints_to_alarm: None,
            },
            adjustment_type: AdjustmentType::PercentChangeInCapacity,
            steps,
            min_adjustment_magnitude: None,
            warmup: Duration::from_secs(300),
        }
    }

    fn at(m: u64, in_service: u32, pending: u32, cpu: f64) -> (Duration, Observation) {
        let observation = Observation {
            in_service,
            pending,
            cpu: Some(cpu),
            ..Observation::default()
        };
        (Duration::from_secs(60 * m), observation)
    }

    /// The AWS documentation's example: alarm at 50 %, +10 % from 50 to 60, +20 % from 60 to 70,
    /// +30 % from 70 up; scale in -10 % from 40 to 30, -30 % below 30 (alarm at 50 % below).
    fn aws_example() -> Vec<StepScaling> {
        vec![
            policy(
                50.0,
                Comparison::GreaterThanOrEqual,
                vec![
                    step(Some(0.0), Some(10.0), 10.0),
                    step(Some(10.0), Some(20.0), 20.0),
                    step(Some(20.0), None, 30.0),
                ],
            ),
            policy(
                50.0,
                Comparison::LessThanOrEqual,
                vec![
                    step(Some(-20.0), Some(-10.0), -10.0),
                    step(None, Some(-20.0), -30.0),
                ],
            ),
        ]
    }

    const LIMITS: Limits = Limits { min: 1, max: 100 };

    #[test]
    fn steps_by_breach_size_with_aws_bounds() {
        let steps = &aws_example()[0].steps;
        // 60 % is a breach of exactly 10: the upper bound is exclusive above the threshold.
        assert_eq!(step_for(steps, 10.0).unwrap().adjustment, 20.0);
        assert_eq!(step_for(steps, 9.99).unwrap().adjustment, 10.0);
        let down = &aws_example()[1].steps;
        // 30 % is a breach of -20: below the threshold the upper bound is inclusive.
        assert_eq!(step_for(down, -20.0).unwrap().adjustment, -30.0);
        assert_eq!(step_for(down, -15.0).unwrap().adjustment, -10.0);
        assert!(step_for(down, -5.0).is_none());
    }

    #[test]
    fn warming_instances_count_as_already_added() {
        let mut group = StepGroup::new(&aws_example(), Duration::ZERO);
        // 10 instances at 55 %: +10 % = +1.
        let (now, obs) = at(1, 10, 0, 55.0);
        assert_eq!(group.evaluate(now, &obs, LIMITS).unwrap().desired, 11);
        // Still 55 % while the new one warms up: the same step adds nothing more.
        let (now, obs) = at(2, 11, 0, 55.0);
        assert_eq!(group.evaluate(now, &obs, LIMITS), None);
        // 65 %: +20 % of the 10 not warming = 12; one is already added, so one more.
        let (now, obs) = at(3, 11, 0, 65.0);
        let change = group.evaluate(now, &obs, LIMITS).unwrap();
        assert_eq!(change.desired, 12);
        assert!(
            change.reason.contains("step[0]: cpu 65.0 >= 50 (step +20)"),
            "{}",
            change.reason
        );
        // 25 % while warming: no scale-in until warm-up ends (minutes 6 and 8).
        let (now, obs) = at(4, 12, 0, 25.0);
        assert_eq!(group.evaluate(now, &obs, LIMITS), None);
        let (now, obs) = at(8, 12, 0, 25.0);
        // -30 % of 12 = -3.6 -> -3.
        assert_eq!(group.evaluate(now, &obs, LIMITS).unwrap().desired, 9);
    }
}
