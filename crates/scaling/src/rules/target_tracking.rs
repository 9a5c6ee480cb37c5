//! AWS target tracking (EC2 Auto Scaling User Guide, "Target tracking scaling policies"; notes
//! `aws.md` A3, A4), with the two alarms AWS creates for it: high (`scale_out_datapoints` datapoints
//! in a row above the target) scales out at once to `ceil(in service x metric / target)`, rounding
//! additions up; low (`scale_in_datapoints` in a row below `scale_in_below x target`) scales in to
//! the same formula, never while a launched instance warms up. The counts 3 / 15 and the 90 %
//! threshold are AWS's observed behaviour, not documented (`aws.md`, "Alarm timing"). With several
//! target tracking policies on a group, [`super::aws::AwsGroup`] scales out if any wants to and in only
//! if all that may scale in want to.

use std::time::Duration;

use crate::alarm::{Alarm, AlarmConfig, Comparison};
use crate::policy::TargetTracking;
use crate::rules::{Candidate, Limits, Then};
use crate::{Observation, Statistic};

#[derive(Debug, Clone)]
pub struct TrackingPolicy {
    name: String,
    config: TargetTracking,
    high: Alarm,
    low: Alarm,
}

impl TrackingPolicy {
    pub fn new(index: usize, config: &TargetTracking) -> Self {
        let alarm = |threshold, comparison, evaluation_periods| {
            Alarm::new(AlarmConfig {
                metric: config.metric,
                statistic: Statistic::Average,
                threshold,
                comparison,
                period: config.period,
                evaluation_periods,
                datapoints_to_alarm: None,
            })
        };
        Self {
            name: format!("target_tracking[{index}]"),
            high: alarm(
                config.target,
                Comparison::GreaterThan,
                config.scale_out_datapoints,
            ),
            low: alarm(
                config.target * config.scale_in_below,
                Comparison::LessThan,
                config.scale_in_datapoints,
            ),
            config: config.clone(),
        }
    }

    /// False when the policy never scales in (`disable_scale_in`).
    pub fn may_scale_in(&self) -> bool {
        !self.config.disable_scale_in
    }

    pub fn observe(&mut self, now: Duration, observation: &Observation) {
        let sample = observation.metric(self.config.metric);
        self.high.observe(now, sample);
        self.low.observe(now, sample);
    }

    fn proportional(
        &self,
        alarm: &Alarm,
        in_service: u32,
        limits: Limits,
    ) -> Option<(u32, String)> {
        let value = alarm.last_datapoint()?;
        let needed = (f64::from(in_service) * value / self.config.target).ceil();
        let datapoints = alarm.config().evaluation_periods;
        Some((
            limits.clamp(needed as i64),
            format!(
                "{}: {} for {datapoints} x {:?}",
                self.name,
                alarm.describe(),
                self.config.period
            ),
        ))
    }

    /// A scale-out when the high alarm is in ALARM and asks for more than `current`.
    pub fn scale_out(&self, current: u32, in_service: u32, limits: Limits) -> Option<Candidate> {
        if !self.high.in_alarm() {
            return None;
        }
        let (desired, reason) = self.proportional(&self.high, in_service, limits)?;
        (desired > current).then_some(Candidate {
            desired,
            reason,
            then: Then::WarmUp(self.config.warmup),
        })
    }

    /// A scale-in when the low alarm is in ALARM, scale-in is enabled and it asks for fewer.
    pub fn scale_in(&self, current: u32, in_service: u32, limits: Limits) -> Option<Candidate> {
        if !self.low.in_alarm() || !self.may_scale_in() {
            return None;
        }
        let (desired, reason) = self.proportional(&self.low, in_service, limits)?;
        (desired < current).then_some(Candidate {
            desired,
            reason,
            then: Then::Nothing,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;
    use crate::rules::aws::AwsGroup;

    fn observe(group: &mut AwsGroup, minute: u64, in_service: u32, cpu: f64) -> Option<u32> {
        group
            .evaluate(
                Duration::from_secs(60 * minute),
                &Observation::uniform(in_service, 0, Some(cpu)),
                Limits { min: 1, max: 20 },
            )
            .map(|change| change.desired)
    }

    pub fn tracking(target: f64) -> TargetTracking {
        TargetTracking {
            metric: Metric::Cpu,
            target,
            warmup: Duration::from_secs(120),
            disable_scale_in: false,
            period: Duration::from_secs(60),
            scale_out_datapoints: 3,
            scale_in_datapoints: 15,
            scale_in_below: 0.9,
        }
    }

    #[test]
    fn scales_out_proportionally_after_three_minutes_and_in_after_fifteen() {
        let mut group = AwsGroup::new(&[], &[], &[tracking(50.0)], Duration::ZERO);
        assert_eq!(observe(&mut group, 1, 4, 90.0), None);
        assert_eq!(observe(&mut group, 2, 4, 90.0), None);
        // 4 x 90 / 50 = 7.2 -> 8.
        assert_eq!(observe(&mut group, 3, 4, 90.0), Some(8));
        // 8 x 30 / 50 = 4.8 -> 5, but only after 15 minutes below 0.9 x 50 = 45 %.
        for minute in 4..18 {
            assert_eq!(
                observe(&mut group, minute, 8, 30.0),
                None,
                "minute {minute}"
            );
        }
        assert_eq!(observe(&mut group, 18, 8, 30.0), Some(5));
        // Between 45 % and 50 % nothing happens.
        for minute in 19..40 {
            assert_eq!(observe(&mut group, minute, 5, 47.0), None);
        }
    }

    #[test]
    fn datapoint_counts_and_the_scale_in_threshold_are_parameters() {
        let config = TargetTracking {
            scale_out_datapoints: 1,
            scale_in_datapoints: 2,
            scale_in_below: 0.5,
            ..tracking(50.0)
        };
        let mut group = AwsGroup::new(&[], &[], &[config], Duration::ZERO);
        // One datapoint at 60 %: 2 x 60 / 50 = 2.4 -> 3 at once.
        assert_eq!(observe(&mut group, 1, 2, 60.0), Some(3));
        // 30 % is below 45 % but not below 0.5 x 50 = 25 %: no scale-in, however long.
        for minute in 4..10 {
            assert_eq!(
                observe(&mut group, minute, 3, 30.0),
                None,
                "minute {minute}"
            );
        }
        // Two datapoints at 20 %: 3 x 20 / 50 = 1.2 -> 2.
        assert_eq!(observe(&mut group, 10, 3, 20.0), None);
        assert_eq!(observe(&mut group, 11, 3, 20.0), Some(2));
    }
}
