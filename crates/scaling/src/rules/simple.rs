//! AWS simple scaling (and Elastic Beanstalk triggers, which are two simple scaling policies).
//!
//! A policy acts when its alarm is in ALARM. After a simple policy acts, further alarms for simple
//! policies are ignored until the scaling activity has finished and then the acting policy's cooldown
//! has passed (EC2 Auto Scaling User Guide, "Step and simple scaling policies" and "Scaling
//! cooldowns"; notes `aws.md` A1, A2). A scale-out completes when the last launched instance is in
//! service, so the cooldown runs from that moment, read from the replicas' time in service (with a
//! start-up of 0 it runs from the launch itself). A scale-in completes at once: connection draining
//! is not waited for.

use std::time::Duration;

use crate::adjustment::adjusted_capacity;
use crate::alarm::{Alarm, AlarmConfig, Comparison};
use crate::observation::ReplicaState;
use crate::policy::{Beanstalk, SimpleScaling};
use crate::rules::{Candidate, Limits, Then};
use crate::{AdjustmentType, Observation};

/// All simple scaling policies of a group and their shared activity.
#[derive(Debug, Clone)]
pub struct SimplePolicies {
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
    /// Instances launched at `since` are still pending; the cooldown starts when they are in service.
    LaunchInProgress {
        since: Duration,
        cooldown: Duration,
    },
    CoolingDown {
        until: Duration,
    },
}

impl SimplePolicies {
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

    /// Feeds the alarms and follows the activity: a launch completes once nothing is pending
    /// (`pending` of the observation's replicas), at the moment the last replica entered service.
    pub fn observe(&mut self, now: Duration, observation: &Observation, pending: u32) {
        for policy in &mut self.policies {
            let metric = policy.alarm.config().metric;
            policy.alarm.observe(now, observation.metric(metric));
        }
        if let Activity::LaunchInProgress { since, cooldown } = self.activity
            && pending == 0
        {
            let last_in_service = observation
                .replicas
                .iter()
                .filter(|r| r.state == ReplicaState::InService)
                .map(|r| now.saturating_sub(r.state_for))
                .max()
                .unwrap_or(now);
            self.activity = Activity::CoolingDown {
                until: last_in_service.clamp(since, now) + cooldown,
            };
        }
        if let Activity::CoolingDown { until } = self.activity
            && now >= until
        {
            self.activity = Activity::Idle;
        }
    }

    /// What each policy in ALARM would do, unless an activity or its cooldown blocks simple scaling.
    pub fn candidates(&self, current: u32, limits: Limits) -> impl Iterator<Item = Candidate> {
        let idle = self.activity == Activity::Idle;
        self.policies
            .iter()
            .filter(move |p| idle && p.alarm.in_alarm())
            .filter_map(move |policy| {
                let desired = limits.clamp(adjusted_capacity(
                    current,
                    policy.adjustment_type,
                    policy.adjustment,
                    policy.min_adjustment_magnitude,
                ));
                (desired != current).then(|| Candidate {
                    desired,
                    reason: format!("{}: {}", policy.name, policy.alarm.describe()),
                    then: Then::Simple {
                        cooldown: policy.cooldown,
                    },
                })
            })
    }

    /// A simple policy's proposal was carried out at `now`.
    pub fn started(&mut self, now: Duration, scale_out: bool, cooldown: Duration) {
        self.activity = if scale_out {
            Activity::LaunchInProgress {
                since: now,
                cooldown,
            }
        } else {
            Activity::CoolingDown {
                until: now + cooldown,
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;
    use crate::rules::aws::AwsGroup;

    fn minute(m: u64) -> Duration {
        Duration::from_secs(60 * m)
    }

    const LIMITS: Limits = Limits { min: 1, max: 10 };

    fn above_70(adjustment: f64, cooldown: u64) -> SimpleScaling {
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
            adjustment,
            min_adjustment_magnitude: None,
            cooldown: Duration::from_secs(cooldown),
        }
    }

    fn desired(group: &mut AwsGroup, now: Duration, observation: &Observation) -> Option<u32> {
        group
            .evaluate(now, observation, LIMITS)
            .map(|change| change.desired)
    }

    /// `in_service` replicas at `cpu`, the last `new` of them in service for `fresh` only.
    fn fleet(in_service: u32, pending: u32, new: usize, fresh: Duration) -> Observation {
        let mut observation = Observation::uniform(in_service, pending, Some(90.0));
        let serving = in_service as usize;
        for replica in &mut observation.replicas[serving - new..serving] {
            replica.state_for = fresh;
        }
        observation
    }

    #[test]
    fn cooldown_starts_when_the_launch_completes_and_blocks_further_simple_scaling() {
        let mut group = AwsGroup::new(&[above_70(2.0, 300)], &[], &[], Duration::ZERO);
        // Minute 1: 90 % > 70 -> +2.
        let change = group
            .evaluate(minute(1), &Observation::uniform(2, 0, Some(90.0)), LIMITS)
            .unwrap();
        assert_eq!(change.desired, 4);
        assert!(
            change.reason.contains("simple[0]: cpu 90.0 > 70"),
            "{}",
            change.reason
        );
        // Still in ALARM, but the launch is in progress (2 pending) ...
        let pending = Observation::uniform(2, 2, Some(95.0));
        assert_eq!(desired(&mut group, minute(2), &pending), None);
        // ... and completes at minute 3 (both new ones just entered service): cooldown to minute 8.
        assert_eq!(
            desired(&mut group, minute(3), &fleet(4, 0, 2, Duration::ZERO)),
            None
        );
        let settled = Observation::uniform(4, 0, Some(90.0));
        assert_eq!(desired(&mut group, minute(7), &settled), None);
        assert_eq!(desired(&mut group, minute(8), &settled), Some(6));
    }

    #[test]
    fn with_no_start_up_the_cooldown_runs_from_the_launch() {
        // +1 at 60 s; the new instance is in service at once (start-up 0), so the activity completes
        // at 60 s and the 300 s cooldown ends at 60 + 300 = 360 s: the second launch is at 360 s.
        let mut group = AwsGroup::new(&[above_70(1.0, 300)], &[], &[], Duration::ZERO);
        let one = Observation::uniform(1, 0, Some(90.0));
        assert_eq!(desired(&mut group, minute(1), &one), Some(2));
        // At 120 s the new one has been in service for 60 s.
        assert_eq!(
            desired(&mut group, minute(2), &fleet(2, 0, 1, minute(1))),
            None
        );
        let two = Observation::uniform(2, 0, Some(90.0));
        for m in 3..6 {
            assert_eq!(desired(&mut group, minute(m), &two), None, "minute {m}");
        }
        assert_eq!(desired(&mut group, minute(6), &two), Some(3));
    }

    #[test]
    fn capacity_stays_within_limits() {
        let mut group = AwsGroup::new(&[above_70(2.0, 0)], &[], &[], Duration::ZERO);
        let nine = Observation::uniform(9, 0, Some(90.0));
        assert_eq!(desired(&mut group, minute(1), &nine), Some(10));
        let ten = Observation::uniform(10, 0, Some(90.0));
        assert_eq!(desired(&mut group, minute(2), &ten), None);
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
        let mut group = AwsGroup::beanstalk(&beanstalk);
        let one = Observation::uniform(1, 0, Some(30.0));
        assert_eq!(group.evaluate(minute(1), &one, LIMITS), None);
        let out = group.evaluate(minute(2), &one, LIMITS).unwrap();
        assert_eq!(out.desired, 2);
        assert!(out.reason.starts_with("upper trigger"), "{}", out.reason);
        // Two minutes below 15 % remove one.
        let two = Observation::uniform(2, 0, Some(10.0));
        assert_eq!(group.evaluate(minute(3), &two, LIMITS), None);
        let down = group.evaluate(minute(4), &two, LIMITS).unwrap();
        assert_eq!(down.desired, 1);
        assert!(down.reason.starts_with("lower trigger"), "{}", down.reason);
    }
}
