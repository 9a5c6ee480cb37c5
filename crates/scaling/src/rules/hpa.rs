//! The Kubernetes HorizontalPodAutoscaler (autoscaling/v2), as its controller computes it:
//!
//! 1. Every sync period: ratio = metric / target. Pods still starting (pending) have no metric: for a
//!    scale-up they count as 0, for a scale-down as exactly at the target; if that flips the direction,
//!    nothing changes. Within the tolerance the recommendation is the current count, otherwise
//!    `ceil(ratio x pods)`.
//! 2. Stabilization: the result is at least the lowest recommendation within the scale-up window and
//!    at most the highest within the scale-down window (default 300 s): scale-down waits for the
//!    highest recent recommendation.
//! 3. Rate: each behavior policy limits the change relative to the count at the start of its period
//!    (Pods: +-value; Percent: x(1 +- value/100), rounded up when scaling up and down when scaling
//!    down); selectPolicy Max takes the policy allowing the largest change, Min the smallest, Disabled
//!    none. Then min and max.

use std::collections::VecDeque;
use std::time::Duration;

use crate::Observation;
use crate::policy::{Hpa, HpaPolicy, HpaPolicyKind, HpaRules, SelectPolicy};
use crate::rules::{Change, Limits};

/// One direction's rules with Kubernetes' defaults filled in.
#[derive(Debug, Clone)]
struct Resolved {
    window: Duration,
    select: SelectPolicy,
    policies: Vec<HpaPolicy>,
}

impl Resolved {
    fn new(rules: &HpaRules, up: bool) -> Self {
        let per_15s = |kind, value| HpaPolicy {
            kind,
            value,
            period: Duration::from_secs(15),
        };
        let default_policies = if up {
            vec![
                per_15s(HpaPolicyKind::Pods, 4),
                per_15s(HpaPolicyKind::Percent, 100),
            ]
        } else {
            vec![per_15s(HpaPolicyKind::Percent, 100)]
        };
        Self {
            window: rules
                .stabilization_window
                .unwrap_or(Duration::from_secs(if up { 0 } else { 300 })),
            select: rules.select_policy.unwrap_or(SelectPolicy::Max),
            policies: rules.policies.clone().unwrap_or(default_policies),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HpaState {
    metric: crate::Metric,
    target: f64,
    tolerance: f64,
    sync_period: Duration,
    up: Resolved,
    down: Resolved,
    last_sync: Option<Duration>,
    /// `(time, recommendation)`, oldest first, within the longer window.
    recommendations: VecDeque<(Duration, u32)>,
    /// `(time, replicas added)` and `(time, replicas removed)`, oldest first.
    scale_ups: VecDeque<(Duration, u32)>,
    scale_downs: VecDeque<(Duration, u32)>,
}

/// Replicas changed by `events` after `now - period`.
fn changed_within(events: &VecDeque<(Duration, u32)>, now: Duration, period: Duration) -> i64 {
    events
        .iter()
        .filter(|(at, _)| *at + period > now)
        .map(|(_, n)| i64::from(*n))
        .sum()
}

impl HpaState {
    pub fn new(config: &Hpa) -> Self {
        Self {
            metric: config.metric,
            target: config.target,
            tolerance: config.tolerance,
            sync_period: config.sync_period,
            up: Resolved::new(&config.behavior.scale_up, true),
            down: Resolved::new(&config.behavior.scale_down, false),
            last_sync: None,
            recommendations: VecDeque::new(),
            scale_ups: VecDeque::new(),
            scale_downs: VecDeque::new(),
        }
    }

    pub fn evaluate(
        &mut self,
        now: Duration,
        observation: &Observation,
        limits: Limits,
    ) -> Option<Change> {
        if self
            .last_sync
            .is_some_and(|last| now < last + self.sync_period)
        {
            return None;
        }
        self.last_sync = Some(now);
        let current = observation.capacity();
        let value = observation.metric(self.metric)?;
        let recommendation = self.recommend(observation, value);
        if self.recommendations.is_empty() && !self.down.window.is_zero() {
            self.recommendations.push_back((now, current));
        }
        self.recommendations.push_back((now, recommendation));
        let stabilized = self.stabilize(now, current, recommendation);
        let desired = self.limit_rate(now, current, stabilized, limits);
        self.forget_old(now);
        if desired == current {
            return None;
        }
        if desired > current {
            self.scale_ups.push_back((now, desired - current));
        } else {
            self.scale_downs.push_back((now, current - desired));
        }
        Some(Change {
            desired,
            reason: format!(
                "hpa: {} {value:.1} / target {} -> recommends {recommendation}",
                self.metric, self.target
            ),
        })
    }

    /// Step 1: the raw recommendation.
    fn recommend(&self, observation: &Observation, value: f64) -> u32 {
        let current = observation.capacity();
        let (ready, pending) = (
            f64::from(observation.in_service),
            f64::from(observation.pending),
        );
        let ratio = value / self.target;
        if (ratio - 1.0).abs() <= self.tolerance || ready == 0.0 {
            return current;
        }
        let pods = ready + pending;
        let adjusted = if pending == 0.0 {
            ratio
        } else if ratio > 1.0 {
            value * ready / (self.target * pods)
        } else {
            (value * ready + self.target * pending) / (self.target * pods)
        };
        if (ratio > 1.0) != (adjusted > 1.0) || (adjusted - 1.0).abs() <= self.tolerance {
            return current;
        }
        (adjusted * pods).ceil() as u32
    }

    /// Step 2: the stabilization windows (a recommendation counts while it is newer than the cutoff).
    fn stabilize(&self, now: Duration, current: u32, recommendation: u32) -> u32 {
        let within = |window: Duration| {
            self.recommendations
                .iter()
                .filter(move |(at, _)| *at + window > now)
                .map(|(_, r)| *r)
        };
        let up_floor = within(self.up.window).fold(recommendation, u32::min);
        let down_ceiling = within(self.down.window).fold(recommendation, u32::max);
        current.max(up_floor).min(down_ceiling)
    }

    /// Step 3: behavior rate limits, then min and max.
    fn limit_rate(&self, now: Duration, current: u32, desired: u32, limits: Limits) -> u32 {
        let current_i = i64::from(current);
        if desired > current {
            let limit = self
                .period_limit(now, current_i, &self.up, true)
                .max(current_i);
            let ceiling = limit.min(i64::from(limits.max));
            limits.clamp(i64::from(desired).min(ceiling).max(i64::from(limits.min)))
        } else if desired < current {
            let limit = self
                .period_limit(now, current_i, &self.down, false)
                .min(current_i);
            let floor = limit.max(i64::from(limits.min));
            limits.clamp(i64::from(desired).max(floor))
        } else {
            limits.clamp(current_i)
        }
    }

    /// The count each policy allows by the end of its period, combined by selectPolicy.
    fn period_limit(&self, now: Duration, current: i64, rules: &Resolved, up: bool) -> i64 {
        // "Min" picks the smallest change: the lowest limit up, the highest down.
        let smallest_change = rules.select == SelectPolicy::Min;
        let pick = |a: i64, b: i64| {
            if up == smallest_change {
                a.min(b)
            } else {
                a.max(b)
            }
        };
        let disabled = rules.select == SelectPolicy::Disabled;
        if disabled || rules.policies.is_empty() {
            return current;
        }
        rules
            .policies
            .iter()
            .map(|policy| {
                let start = current - changed_within(&self.scale_ups, now, policy.period)
                    + changed_within(&self.scale_downs, now, policy.period);
                let value = i64::from(policy.value);
                match (policy.kind, up) {
                    (HpaPolicyKind::Pods, true) => start + value,
                    (HpaPolicyKind::Pods, false) => start - value,
                    (HpaPolicyKind::Percent, true) => {
                        (start as f64 * (1.0 + value as f64 / 100.0)).ceil() as i64
                    }
                    (HpaPolicyKind::Percent, false) => {
                        (start as f64 * (1.0 - value as f64 / 100.0)) as i64
                    }
                }
            })
            .reduce(pick)
            .unwrap_or(current)
    }

    fn forget_old(&mut self, now: Duration) {
        let keep = self.up.window.max(self.down.window);
        while self
            .recommendations
            .front()
            .is_some_and(|(at, _)| *at + keep <= now && self.recommendations.len() > 1)
        {
            self.recommendations.pop_front();
        }
        let longest = |rules: &Resolved| {
            rules
                .policies
                .iter()
                .map(|p| p.period)
                .max()
                .unwrap_or_default()
        };
        let period = longest(&self.up).max(longest(&self.down));
        for events in [&mut self.scale_ups, &mut self.scale_downs] {
            while events.front().is_some_and(|(at, _)| *at + period <= now) {
                events.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metric;
    use crate::policy::HpaBehavior;

    const LIMITS: Limits = Limits { min: 1, max: 100 };

    fn hpa(behavior: HpaBehavior) -> HpaState {
        HpaState::new(&Hpa {
            metric: Metric::Cpu,
            target: 50.0,
            tolerance: 0.1,
            sync_period: Duration::from_secs(15),
            behavior,
        })
    }

    fn step(
        state: &mut HpaState,
        seconds: u64,
        in_service: u32,
        pending: u32,
        cpu: f64,
    ) -> Option<u32> {
        let observation = Observation {
            in_service,
            pending,
            cpu: Some(cpu),
            ..Observation::default()
        };
        state
            .evaluate(Duration::from_secs(seconds), &observation, LIMITS)
            .map(|c| c.desired)
    }

    #[test]
    fn desired_is_ceil_of_current_times_ratio_outside_the_tolerance() {
        // Kubernetes docs: 1 replica at 200m for a 100m target -> 2.
        let mut state = hpa(HpaBehavior::default());
        assert_eq!(step(&mut state, 0, 1, 0, 100.0), Some(2));
        // 3 x 54 / 50 = 3.24, but 54 / 50 = 1.08 is within 0.1: no change.
        let mut state = hpa(HpaBehavior::default());
        assert_eq!(step(&mut state, 0, 3, 0, 54.0), None);
        // 3 x 60 / 50 = 3.6 -> 4.
        assert_eq!(step(&mut state, 15, 3, 0, 60.0), Some(4));
        // The controller runs once per sync period: nothing at 20 s.
        assert_eq!(step(&mut state, 20, 4, 0, 90.0), None);
    }

    #[test]
    fn pending_pods_count_as_zero_for_scale_up() {
        // 2 ready at 90 %, 2 pending: (90 x 2) / (50 x 4) = 0.9: the direction flips, no change.
        let mut state = hpa(HpaBehavior::default());
        assert_eq!(step(&mut state, 0, 2, 2, 90.0), None);
        // 2 ready at 150 %, 2 pending: 300 / 200 = 1.5 -> ceil(1.5 x 4) = 6.
        assert_eq!(step(&mut state, 15, 2, 2, 150.0), Some(6));
    }

    #[test]
    fn scale_down_waits_for_the_highest_recommendation_in_300_seconds() {
        let mut state = hpa(HpaBehavior::default());
        // 10 pods at 50 %: recommends 10. Then load drops to 25 %: recommends 5, held at 10 for 300 s.
        assert_eq!(step(&mut state, 0, 10, 0, 50.0), None);
        for seconds in (15..300).step_by(15) {
            assert_eq!(step(&mut state, seconds, 10, 0, 25.0), None, "{seconds}");
        }
        // At 300 s the recommendation of 10 made at 0 s has left the window.
        assert_eq!(step(&mut state, 300, 10, 0, 25.0), Some(5));
    }

    #[test]
    fn default_scale_up_rate_is_max_of_4_pods_or_100_percent_per_15_seconds() {
        // 2 pods at 500 % of the target want 10: max(2 + 4, 2 x 2) = 6.
        let mut state = hpa(HpaBehavior::default());
        assert_eq!(step(&mut state, 0, 2, 0, 250.0), Some(6));
        // 10 pods want 50: max(10 + 4, 20) = 20.
        let mut state = hpa(HpaBehavior::default());
        assert_eq!(step(&mut state, 0, 10, 0, 250.0), Some(20));
    }

    #[test]
    fn behavior_policies_pods_percent_and_select_policy() {
        let rules = |select, policies| HpaRules {
            stabilization_window: Some(Duration::ZERO),
            select_policy: Some(select),
            policies: Some(policies),
        };
        let policy = |kind, value, period| HpaPolicy {
            kind,
            value,
            period: Duration::from_secs(period),
        };
        // Kubernetes docs: scale down at most 4 pods or 10 % per minute; Min picks the smaller change.
        let down = vec![
            policy(HpaPolicyKind::Pods, 4, 60),
            policy(HpaPolicyKind::Percent, 10, 60),
        ];
        let mut min = hpa(HpaBehavior {
            scale_up: HpaRules::default(),
            scale_down: rules(SelectPolicy::Min, down.clone()),
        });
        // 80 pods want 8: Pods allows 76, Percent 72; Min -> 76.
        assert_eq!(step(&mut min, 0, 80, 0, 5.0), Some(76));
        // Within the same minute the 4 already removed use the whole Pods budget: 76 stays.
        assert_eq!(step(&mut min, 15, 76, 0, 5.0), None);
        let mut max = hpa(HpaBehavior {
            scale_up: HpaRules::default(),
            scale_down: rules(SelectPolicy::Max, down),
        });
        // Max -> the larger change: 72.
        assert_eq!(step(&mut max, 0, 80, 0, 5.0), Some(72));
        let mut disabled = hpa(HpaBehavior {
            scale_up: HpaRules::default(),
            scale_down: rules(SelectPolicy::Disabled, vec![]),
        });
        assert_eq!(step(&mut disabled, 0, 80, 0, 5.0), None);
    }
}
