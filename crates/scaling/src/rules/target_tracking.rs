//! AWS target tracking, with the two alarms AWS creates for it: high (3 of 3 one-minute datapoints
//! above the target) scales out at once to `ceil(in service x metric / target)`; low (15 of 15
//! one-minute datapoints below 90 % of the target) scales in to the same formula, but never while a
//! launched instance warms up. Instances warming up count as already added.

use std::time::Duration;

use crate::alarm::{Alarm, AlarmConfig, Comparison};
use crate::policy::TargetTracking;
use crate::rules::{Change, Limits, Warming};
use crate::{Observation, Statistic};

#[derive(Debug, Clone)]
pub struct TargetTrackingState {
    config: TargetTracking,
    high: Alarm,
    low: Alarm,
    warming: Warming,
    startup: Duration,
}

/// Datapoints (of one minute) the high alarm needs.
const HIGH_DATAPOINTS: u32 = 3;
/// Datapoints (of one minute) the low alarm needs.
const LOW_DATAPOINTS: u32 = 15;
/// The low alarm's threshold as a fraction of the target.
const LOW_FRACTION: f64 = 0.9;

impl TargetTrackingState {
    pub fn new(config: &TargetTracking, startup: Duration) -> Self {
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
            high: alarm(config.target, Comparison::GreaterThan, HIGH_DATAPOINTS),
            low: alarm(
                config.target * LOW_FRACTION,
                Comparison::LessThan,
                LOW_DATAPOINTS,
            ),
            config: config.clone(),
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
        let sample = observation.metric(self.config.metric);
        self.high.observe(now, sample);
        self.low.observe(now, sample);
        let current = observation.capacity();
        let warming = self.warming.count(now, current);
        let proportional = |alarm: &Alarm| {
            let value = alarm.last_datapoint()?;
            let needed = (f64::from(observation.in_service) * value / self.config.target).ceil();
            Some((limits.clamp(needed as i64), alarm.describe()))
        };
        if self.high.in_alarm()
            && let Some((desired, why)) = proportional(&self.high)
            && desired > current
        {
            self.warming
                .launched(now + self.startup + self.config.warmup, desired - current);
            return Some(Change {
                desired,
                reason: format!(
                    "target tracking: {why} for {HIGH_DATAPOINTS} x {:?}",
                    self.config.period
                ),
            });
        }
        if self.low.in_alarm()
            && !self.config.disable_scale_in
            && warming == 0
            && let Some((desired, why)) = proportional(&self.low)
            && desired < current
        {
            return Some(Change {
                desired,
                reason: format!(
                    "target tracking: {why} for {LOW_DATAPOINTS} x {:?}",
                    self.config.period
                ),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;

    fn observe(
        state: &mut TargetTrackingState,
        minute: u64,
        in_service: u32,
        cpu: f64,
    ) -> Option<Change> {
        let observation = Observation {
            in_service,
            cpu: Some(cpu),
            ..Observation::default()
        };
        state.evaluate(
            Duration::from_secs(60 * minute),
            &observation,
            Limits { min: 1, max: 20 },
        )
    }

    #[test]
    fn scales_out_proportionally_after_three_minutes_and_in_after_fifteen() {
        let config = TargetTracking {
            metric: Metric::Cpu,
            target: 50.0,
            warmup: Duration::from_secs(120),
            disable_scale_in: false,
            period: Duration::from_secs(60),
        };
        let mut state = TargetTrackingState::new(&config, Duration::ZERO);
        assert_eq!(observe(&mut state, 1, 4, 90.0), None);
        assert_eq!(observe(&mut state, 2, 4, 90.0), None);
        // 4 x 90 / 50 = 7.2 -> 8.
        let out = observe(&mut state, 3, 4, 90.0).unwrap();
        assert_eq!(out.desired, 8);
        // 8 x 30 / 50 = 4.8 -> 5, but only after 15 minutes below 45 %.
        for minute in 4..18 {
            assert_eq!(
                observe(&mut state, minute, 8, 30.0),
                None,
                "minute {minute}"
            );
        }
        assert_eq!(observe(&mut state, 18, 8, 30.0).unwrap().desired, 5);
        // Between 45 % and 50 % nothing happens.
        for minute in 19..40 {
            assert_eq!(observe(&mut state, minute, 5, 47.0), None);
        }
    }
}
