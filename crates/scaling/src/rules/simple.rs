//! AWS simple scaling (and Elastic Beanstalk triggers, which are two simple scaling policies).
//!
//! A policy acts when its alarm is in ALARM. After it acts, no simple scaling happens until the
//! scaling activity completes (for a scale-out: no instance pending any more; a scale-in completes at
//! once) and then the acting policy's cooldown has passed.

use std::time::Duration;

use crate::adjustment::adjusted_capacity;
use crate::alarm::{Alarm, AlarmConfig, Comparison};
use crate::policy::{Beanstalk, SimpleScaling};
use crate::rules::{Change, Limits};
use crate::{AdjustmentType, Observation};

/// All simple scaling policies of a group; the first in ALARM acts.
#[derive(Debug, Clone)]
pub struct SimpleGroup {
    policies: Vec<SimplePolicy>,
    activity: Activity,
}

#[derive(Debug, Clone)]
struct SimplePolicy {
    name: String,
    alarm: Alarm,
    adjustment_type: AdjustmentType,
    adjustment: f64,
    min_adjustment_magnitude: Option<u32>,
    cooldown: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Activity {
    Idle,
    /// Launched instances are still pending; the cooldown starts when they are in service.
    LaunchInProgress {
        cooldown: Duration,
    },
    CoolingDown {
        until: Duration,
    },
}

impl SimpleGroup {
    pub fn new(policies: &[SimpleScaling]) -> Self {
        Self {
            policies: policies
                .iter()
                .enumerate()
                .map(|(i, p)| SimplePolicy {
                    name: format!("simple[{i}]"),
                    alarm: Alarm::new(p.alarm.clone()),
                    adjustment_type: p.adjustment_type,
                    adjustment: p.adjustment,
                    min_adjustment_magnitude: p.min_adjustment_magnitude,
                    cooldown: p.cooldown,
                })
                .collect(),
            activity: Activity::Idle,
        }
    }

    /// Beanstalk's upper and lower triggers: alarms that must breach for `breach_duration`.
    pub fn beanstalk(b: &Beanstalk) -> Self {
        let periods = (b.breach_duration.as_secs_f64() / b.period.as_secs_f64()).ceil() as u32;
        let trigger = |name: &str, threshold, comparison, increment: i32| SimplePolicy {
            name: name.into(),
            alarm: Alarm::new(AlarmConfig {
                metric: b.metric,
                statistic: b.statistic,
                threshold,
                comparison,
                period: b.period,
                evaluation_periods: periods.max(1),
                datapoints_to_alarm: None,
            }),
            adjustment_type: AdjustmentType::ChangeInCapacity,
            adjustment: f64::from(increment),
            min_adjustment_magnitude: None,
            cooldown: b.cooldown,
        };
        Self {
            policies: vec![
                trigger(
                    "upper trigger",
                    b.upper_threshold,
                    Comparison::GreaterThan,
                    b.scale_up_increment,
                ),
                trigger(
                    "lower trigger",
                    b.lower_threshold,
                    Comparison::LessThan,
                    b.scale_down_increment,
                ),
            ],
            activity: Activity::Idle,
        }
    }

    pub fn evaluate(
        &mut self,
        now: Duration,
        observation: &Observation,
        limits: Limits,
    ) -> Option<Change> {
        for policy in &mut self.policies {
            let metric = policy.alarm.config().metric;
            policy.alarm.observe(now, observation.metric(metric));
        }
        if let Activity::LaunchInProgress { cooldown } = self.activity
            && observation.pending == 0
        {
            self.activity = Activity::CoolingDown {
                until: now + cooldown,
            };
        }
        if let Activity::CoolingDown { until } = self.activity
            && now >= until
        {
            self.activity = Activity::Idle;
        }
        if self.activity != Activity::Idle {
            return None;
        }
        let current = observation.capacity();
        for policy in self.policies.iter().filter(|p| p.alarm.in_alarm()) {
            let desired = limits.clamp(adjusted_capacity(
                current,
                policy.adjustment_type,
                policy.adjustment,
                policy.min_adjustment_magnitude,
            ));
            if desired == current {
                continue;
            }
            self.activity = if desired > current {
                Activity::LaunchInProgress {
                    cooldown: policy.cooldown,
                }
            } else {
                Activity::CoolingDown {
                    until: now + policy.cooldown,
                }
            };
            return Some(Change {
                desired,
                reason: format!("{}: {}", policy.name, policy.alarm.describe()),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;

    fn cpu(in_service: u32, pending: u32, cpu: f64) -> Observation {
        Observation {
            in_service,
            pending,
            cpu: Some(cpu),
            ..Observation::default()
        }
    }

    fn minute(m: u64) -> Duration {
        Duration::from_secs(60 * m)
    }

    const LIMITS: Limits = Limits { min: 1, max: 10 };

    fn scale_out_policy(cooldown: u64) -> SimpleScaling {
        SimpleScaling {
            alarm: AlarmConfig {
                metric: Metric::Cpu,
                statistic: crate::Statistic::Average,
                threshold: 70.0,
                comparison: Comparison::GreaterThan,
                period: minute(1),
                evaluation_periods: 1,
                datapoints_to_alarm: None,
            },
            adjustment_type: AdjustmentType::ChangeInCapacity,
            adjustment: 2.0,
            min_adjustment_magnitude: None,
            cooldown: Duration::from_secs(cooldown),
        }
    }

    #[test]
    fn cooldown_starts_when_the_launch_completes_and_blocks_further_simple_scaling() {
        let mut group = SimpleGroup::new(&[scale_out_policy(300)]);
        // Minute 1: 90 % > 70 -> +2.
        let change = group.evaluate(minute(1), &cpu(2, 0, 90.0), LIMITS).unwrap();
        assert_eq!(change.desired, 4);
        assert!(
            change.reason.contains("simple[0]: cpu 90.0 > 70"),
            "{}",
            change.reason
        );
        // Still in ALARM, but the launch is in progress (2 pending) ...
        assert_eq!(group.evaluate(minute(2), &cpu(2, 2, 95.0), LIMITS), None);
        // ... completes at minute 3; the 300 s cooldown runs to minute 8.
        assert_eq!(group.evaluate(minute(3), &cpu(4, 0, 80.0), LIMITS), None);
        assert_eq!(group.evaluate(minute(7), &cpu(4, 0, 80.0), LIMITS), None);
        assert_eq!(
            group
                .evaluate(minute(8), &cpu(4, 0, 80.0), LIMITS)
                .unwrap()
                .desired,
            6
        );
    }

    #[test]
    fn capacity_stays_within_limits() {
        let mut group = SimpleGroup::new(&[scale_out_policy(0)]);
        assert_eq!(
            group
                .evaluate(minute(1), &cpu(9, 0, 90.0), LIMITS)
                .unwrap()
                .desired,
            10
        );
        assert_eq!(group.evaluate(minute(2), &cpu(10, 0, 90.0), LIMITS), None);
    }

    #[test]
    fn beanstalk_triggers_need_the_whole_breach_duration() {
        let beanstalk = Beanstalk {
            metric: Metric::Cpu,
            statistic: crate::Statistic::Average,
            period: minute(1),
            breach_duration: minute(2),
            upper_threshold: 25.0,
            lower_threshold: 15.0,
            scale_up_increment: 1,
            scale_down_increment: -1,
            cooldown: Duration::ZERO,
        };
        let mut group = SimpleGroup::beanstalk(&beanstalk);
        assert_eq!(group.evaluate(minute(1), &cpu(1, 0, 30.0), LIMITS), None);
        let out = group.evaluate(minute(2), &cpu(1, 0, 30.0), LIMITS).unwrap();
        assert_eq!(out.desired, 2);
        assert!(out.reason.starts_with("upper trigger"), "{}", out.reason);
        // Two minutes below 15 % remove one.
        assert_eq!(group.evaluate(minute(3), &cpu(2, 0, 10.0), LIMITS), None);
        let down = group.evaluate(minute(4), &cpu(2, 0, 10.0), LIMITS).unwrap();
        assert_eq!(down.desired, 1);
        assert!(down.reason.starts_with("lower trigger"), "{}", down.reason);
    }
}
