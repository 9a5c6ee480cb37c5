//! AWS step scaling (EC2 Auto Scaling User Guide, "Step and simple scaling policies"; API reference
//! `StepAdjustment`; notes `aws.md` A1, A8): the step adjustment is chosen by the breach, the alarm's
//! aggregated datapoint minus its threshold. While launched instances warm up (start-up plus
//! warm-up) they count as already added: a new breach scales out only if its step asks for more than
//! that, and no scale-in happens meanwhile. There is no cooldown.

use std::time::Duration;

use crate::adjustment::adjusted_capacity;
use crate::alarm::Alarm;
use crate::policy::{StepAdjustment, StepScaling};
use crate::rules::{Candidate, Limits, Then};
use crate::{AdjustmentType, Observation};

/// One step scaling policy and its alarm.
#[derive(Debug, Clone)]
pub struct StepPolicy {
    name: String,
    alarm: Alarm,
    adjustment_type: AdjustmentType,
    steps: Vec<StepAdjustment>,
    min_adjustment_magnitude: Option<u32>,
    warmup: Duration,
}

/// The step whose bounds hold `breach`. The inclusivity follows the alarm's side of the threshold,
/// not the breach's sign (A1): for an alarm on values above the threshold (`>`, `>=`) the lower bound
/// is inclusive and the upper exclusive; below it (`<`, `<=`) the lower bound is exclusive and the
/// upper inclusive, so a `<=` alarm's datapoint exactly at the threshold (breach 0) falls in a
/// `(-10, 0]` step.
pub fn step_for(steps: &[StepAdjustment], breach: f64, above: bool) -> Option<&StepAdjustment> {
    steps.iter().find(|step| {
        let lower = step.lower.unwrap_or(f64::NEG_INFINITY);
        let upper = step.upper.unwrap_or(f64::INFINITY);
        if above {
            lower <= breach && breach < upper
        } else {
            lower < breach && breach <= upper
        }
    })
}

/// AWS's rules for a policy's steps (A1): no step with both bounds null, lower below upper, no
/// overlap and no gap between steps, at most one null lower and one null upper bound, a negative
/// lower bound needs a step with a null lower bound and a positive upper bound one with a null upper
/// bound. `field` names the policy in errors.
pub fn validate_steps(steps: &[StepAdjustment], field: &str) -> Result<(), String> {
    if steps.is_empty() {
        return Err(format!("{field}.steps needs at least one step"));
    }
    let mut sorted: Vec<&StepAdjustment> = steps.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |s: &StepAdjustment| s.lower.unwrap_or(f64::NEG_INFINITY);
        key(a).total_cmp(&key(b))
    });
    for step in &sorted {
        match (step.lower, step.upper) {
            (None, None) => {
                return Err(format!(
                    "{field}.steps: a step cannot have both bounds null"
                ));
            }
            (Some(lower), Some(upper)) if lower >= upper => {
                return Err(format!(
                    "{field}.steps: lower bound {lower} must be below upper bound {upper}"
                ));
            }
            _ => {}
        }
    }
    for pair in sorted.windows(2) {
        if pair[0].upper.is_none() || pair[1].lower.is_none() || pair[0].upper != pair[1].lower {
            return Err(format!(
                "{field}.steps must neither overlap nor leave gaps: a step ending at {} is followed by one starting at {}",
                bound(pair[0].upper),
                bound(pair[1].lower)
            ));
        }
    }
    let lowest = sorted[0];
    let highest = sorted[sorted.len() - 1];
    if lowest.lower.is_some_and(|l| l < 0.0) {
        return Err(format!(
            "{field}.steps: a negative lower bound needs a step with a null lower bound"
        ));
    }
    if highest.upper.is_some_and(|u| u > 0.0) {
        return Err(format!(
            "{field}.steps: a positive upper bound needs a step with a null upper bound"
        ));
    }
    Ok(())
}

fn bound(value: Option<f64>) -> String {
    value.map_or("infinity".into(), |v| v.to_string())
}

impl StepPolicy {
    pub fn new(index: usize, policy: &StepScaling) -> Self {
        Self {
            name: format!("step[{index}]"),
            alarm: Alarm::new(policy.alarm.clone()),
            adjustment_type: policy.adjustment_type,
            steps: policy.steps.clone(),
            min_adjustment_magnitude: policy.min_adjustment_magnitude,
            warmup: policy.warmup,
        }
    }

    pub fn observe(&mut self, now: Duration, observation: &Observation) {
        let metric = self.alarm.config().metric;
        self.alarm.observe(now, observation.metric(metric));
    }

    /// What this policy would do with `warming` of the `current` instances still warming up.
    pub fn candidate(&self, current: u32, warming: u32, limits: Limits) -> Option<Candidate> {
        if !self.alarm.in_alarm() {
            return None;
        }
        let config = self.alarm.config();
        let datapoint = self.alarm.last_datapoint()?;
        let step = step_for(
            &self.steps,
            datapoint - config.threshold,
            config.comparison.above(),
        )?;
        let adjust = |base| {
            limits.clamp(adjusted_capacity(
                base,
                self.adjustment_type,
                step.adjustment,
                self.min_adjustment_magnitude,
            ))
        };
        let reason = format!(
            "{}: {} (step {:+})",
            self.name,
            self.alarm.describe(),
            step.adjustment
        );
        let out = adjust(current - warming);
        if out > current {
            return Some(Candidate {
                desired: out,
                reason,
                then: Then::WarmUp(self.warmup),
            });
        }
        let scaled_in = adjust(current);
        (scaled_in < current && warming == 0).then_some(Candidate {
            desired: scaled_in,
            reason,
            then: Then::Nothing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::{AlarmConfig, Comparison};
    use crate::rules::aws::AwsGroup;
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
        let observation = Observation::uniform(in_service, pending, Some(cpu));
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
        assert_eq!(step_for(steps, 10.0, true).unwrap().adjustment, 20.0);
        assert_eq!(step_for(steps, 9.99, true).unwrap().adjustment, 10.0);
        // 50 % is a breach of exactly 0: the lower bound is inclusive above the threshold.
        assert_eq!(step_for(steps, 0.0, true).unwrap().adjustment, 10.0);
        let down = &aws_example()[1].steps;
        // 30 % is a breach of -20: below the threshold the upper bound is inclusive.
        assert_eq!(step_for(down, -20.0, false).unwrap().adjustment, -30.0);
        assert_eq!(step_for(down, -15.0, false).unwrap().adjustment, -10.0);
        assert!(step_for(down, -5.0, false).is_none());
    }

    #[test]
    fn a_datapoint_exactly_at_a_below_threshold_falls_in_the_step_ending_at_zero() {
        // A <= 50 alarm with steps (-10, 0] -> -1 and (-inf, -10] -> -2: 50 % is a breach of 0,
        // inside (-10, 0] because below the threshold the upper bound is inclusive.
        let steps = vec![
            step(Some(-10.0), Some(0.0), -1.0),
            step(None, Some(-10.0), -2.0),
        ];
        assert_eq!(step_for(&steps, 0.0, false).unwrap().adjustment, -1.0);
        assert_eq!(step_for(&steps, -10.0, false).unwrap().adjustment, -2.0);
        let mut scale_in = policy(50.0, Comparison::LessThanOrEqual, steps);
        scale_in.adjustment_type = AdjustmentType::ChangeInCapacity;
        let mut group = AwsGroup::new(&[], &[scale_in], &[], Duration::ZERO);
        let (now, obs) = at(1, 4, 0, 50.0);
        assert_eq!(group.evaluate(now, &obs, LIMITS).unwrap().desired, 3);
    }

    #[test]
    fn steps_must_not_overlap_or_leave_gaps() {
        assert!(validate_steps(&aws_example()[0].steps, "step[0]").is_ok());
        assert!(validate_steps(&aws_example()[1].steps, "step[1]").is_ok());
        let gap = [
            step(Some(0.0), Some(10.0), 1.0),
            step(Some(20.0), None, 2.0),
        ];
        let error = validate_steps(&gap, "step[0]").unwrap_err();
        assert!(
            error.contains("ending at 10 is followed by one starting at 20"),
            "{error}"
        );
        let overlap = [
            step(Some(0.0), Some(15.0), 1.0),
            step(Some(10.0), None, 2.0),
        ];
        assert!(validate_steps(&overlap, "step[0]").is_err());
        let unbounded = [step(None, None, 1.0)];
        assert!(
            validate_steps(&unbounded, "step[0]")
                .unwrap_err()
                .contains("both bounds null")
        );
        let open_top = [step(Some(0.0), Some(10.0), 1.0)];
        assert!(
            validate_steps(&open_top, "step[0]")
                .unwrap_err()
                .contains("null upper bound")
        );
        let open_bottom = [step(Some(-10.0), Some(0.0), -1.0)];
        assert!(
            validate_steps(&open_bottom, "step[0]")
                .unwrap_err()
                .contains("null lower bound")
        );
    }

    #[test]
    fn warming_instances_count_as_already_added() {
        let mut group = AwsGroup::new(&[], &aws_example(), &[], Duration::ZERO);
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
