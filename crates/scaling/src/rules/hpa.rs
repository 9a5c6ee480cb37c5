//! The Kubernetes HorizontalPodAutoscaler (autoscaling/v2), as its controller computes it
//! (kubernetes/kubernetes `pkg/controller/podautoscaler/horizontal.go`; notes `hpa.md` K4, D1), with
//! the defaults of Kubernetes v1.33 (kube-controller-manager flags and the autoscaling/v2 API's
//! defaulting, unchanged since v1.18 apart from the per-direction tolerance added in v1.33):
//!
//! 1. Every sync period (15 s), each metric proposes a replica count ([`super::hpa_replicas`]); the
//!    largest wins. If every metric fails, or some fail and the others would scale down, nothing
//!    happens; a failed metric does not block a scale-up by the others. With the scale's replicas
//!    outside min..max, the count is set to the nearer limit without reading metrics; with 0 replicas
//!    (and min above 0) autoscaling is off.
//! 2. Without `behavior` (the legacy path, kept when `spec.behavior` is nil): the proposal becomes the
//!    highest recommendation within the downscale stabilization window (5 min, its start included),
//!    then is clamped to `[min, min(max, max(2 x current, 4))]`.
//! 3. With `behavior` (unset fields defaulted as the API does: up: no window, Max of 4 pods and 100 %
//!    per 15 s; down: the controller's 5 min window, 100 % per 15 s):
//!    - stabilization: the result is at least the lowest recommendation within the scale-up window
//!      and at most the highest within the scale-down window;
//!    - rate: each policy limits the change relative to the count at the start of its period (Pods:
//!      +-value; Percent: x(1 +- value/100), rounded up when scaling up and down when scaling down);
//!      selectPolicy Max takes the policy allowing the largest change, Min the smallest, Disabled
//!      none. Then min and max.

use std::collections::VecDeque;
use std::time::Duration;

use crate::Observation;
use crate::policy::{Hpa, HpaMetric, HpaPolicy, HpaPolicyKind, HpaRules, SelectPolicy};
use crate::rules::hpa_replicas::{Calculator, Tolerances};
use crate::rules::{Change, Limits};

/// One direction's rules with Kubernetes' defaults filled in.
#[derive(Debug, Clone)]
struct Resolved {
    window: Duration,
    select: SelectPolicy,
    policies: Vec<HpaPolicy>,
}

impl Resolved {
    fn new(rules: &HpaRules, up: bool, downscale_stabilization: Duration) -> Self {
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
            window: rules.stabilization_window.unwrap_or(if up {
                Duration::ZERO
            } else {
                downscale_stabilization
            }),
            select: rules.select_policy.unwrap_or(SelectPolicy::Max),
            policies: rules.policies.clone().unwrap_or(default_policies),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HpaState {
    metrics: Vec<HpaMetric>,
    calculator: Calculator,
    sync_period: Duration,
    /// The legacy path's window (`--horizontal-pod-autoscaler-downscale-stabilization`).
    downscale_stabilization: Duration,
    /// `(up, down)` when the spec has `behavior`.
    behavior: Option<(Resolved, Resolved)>,
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
        let stabilization = config.downscale_stabilization;
        let behavior = config.behavior.as_ref();
        let tolerance =
            |rules: Option<&HpaRules>| rules.and_then(|r| r.tolerance).unwrap_or(config.tolerance);
        Self {
            metrics: config.metric_targets(),
            calculator: Calculator {
                tolerances: Tolerances::new(
                    tolerance(behavior.map(|b| &b.scale_up)),
                    tolerance(behavior.map(|b| &b.scale_down)),
                ),
                cpu_initialization_period: config.cpu_initialization_period,
                initial_readiness_delay: config.initial_readiness_delay,
            },
            sync_period: config.sync_period,
            downscale_stabilization: stabilization,
            behavior: behavior.map(|b| {
                (
                    Resolved::new(&b.scale_up, true, stabilization),
                    Resolved::new(&b.scale_down, false, stabilization),
                )
            }),
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
        // Replicas 0 with min above 0: autoscaling is off; outside min..max the Autoscaler clamps.
        if current == 0 || current < limits.min || current > limits.max {
            return None;
        }
        let (recommendation, why) = self.propose(current, observation)?;
        // The controller records the current count when it first sees the HPA (just before this
        // sync, so a zero window leaves it out).
        let window = self
            .behavior
            .as_ref()
            .map_or(self.downscale_stabilization, |(_, down)| down.window);
        if self.recommendations.is_empty() && !window.is_zero() {
            self.recommendations.push_back((now, current));
        }
        self.recommendations.push_back((now, recommendation));
        let desired = match &self.behavior {
            None => self.legacy(now, current, recommendation, limits),
            Some((up, down)) => {
                let stabilized = self.stabilize(now, current, recommendation, up, down);
                self.limit_rate(now, current, stabilized, limits, up, down)
            }
        };
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
            reason: format!("hpa: {why} -> recommends {recommendation}"),
        })
    }

    /// Step 1: every metric's proposal; the largest, unless failed metrics forbid it.
    fn propose(&self, current: u32, observation: &Observation) -> Option<(u32, String)> {
        let mut best: Option<u32> = None;
        let mut failed = 0;
        let mut parts = Vec::new();
        for HpaMetric { metric, target } in &self.metrics {
            match self
                .calculator
                .replicas(current, observation, *metric, *target)
            {
                Ok(replicas) => {
                    best = best.max(Some(replicas));
                    parts.push(format!("{metric} target {target}: {replicas}"));
                }
                Err(error) => {
                    failed += 1;
                    parts.push(format!("{metric}: {error}"));
                }
            }
        }
        let best = best?;
        if failed > 0 && best < current {
            return None;
        }
        Some((best, parts.join(", ")))
    }

    /// Step 2 without `behavior`: the highest recommendation since `now - window` (inclusive, as
    /// the controller's `Before(cutoff)` test leaves it), then min and the scale-up limit.
    fn legacy(&self, now: Duration, current: u32, recommendation: u32, limits: Limits) -> u32 {
        let window = self.downscale_stabilization;
        let stabilized = self
            .recommendations
            .iter()
            .filter(|(at, _)| *at + window >= now)
            .map(|(_, r)| *r)
            .fold(recommendation, u32::max);
        let scale_up_limit = current.saturating_mul(2).max(4);
        let maximum = limits.max.min(scale_up_limit);
        if stabilized < limits.min {
            limits.min
        } else {
            stabilized.min(maximum)
        }
    }

    /// Step 3 with `behavior`: the stabilization windows (a recommendation counts while it is newer
    /// than the cutoff).
    fn stabilize(
        &self,
        now: Duration,
        current: u32,
        recommendation: u32,
        up: &Resolved,
        down: &Resolved,
    ) -> u32 {
        let within = |window: Duration| {
            self.recommendations
                .iter()
                .filter(move |(at, _)| *at + window > now)
                .map(|(_, r)| *r)
        };
        let up_floor = within(up.window).fold(recommendation, u32::min);
        let down_ceiling = within(down.window).fold(recommendation, u32::max);
        current.max(up_floor).min(down_ceiling)
    }

    /// Then the behavior's rate limits, then min and max.
    fn limit_rate(
        &self,
        now: Duration,
        current: u32,
        desired: u32,
        limits: Limits,
        up: &Resolved,
        down: &Resolved,
    ) -> u32 {
        let current_i = i64::from(current);
        if desired > current {
            let limit = self.period_limit(now, current_i, up, true).max(current_i);
            let ceiling = limit.min(i64::from(limits.max));
            limits.clamp(i64::from(desired).min(ceiling).max(i64::from(limits.min)))
        } else if desired < current {
            let limit = self
                .period_limit(now, current_i, down, false)
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
        let longest = |rules: &Resolved| {
            rules
                .policies
                .iter()
                .map(|p| p.period)
                .max()
                .unwrap_or_default()
        };
        let (keep, period) = match &self.behavior {
            None => (self.downscale_stabilization, Duration::ZERO),
            Some((up, down)) => (up.window.max(down.window), longest(up).max(longest(down))),
        };
        while self
            .recommendations
            .front()
            .is_some_and(|(at, _)| *at + keep < now && self.recommendations.len() > 1)
        {
            self.recommendations.pop_front();
        }
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

    fn config(behavior: Option<HpaBehavior>) -> Hpa {
        Hpa {
            metric: Metric::Cpu,
            target: Some(50.0),
            metrics: None,
            tolerance: 0.1,
            sync_period: Duration::from_secs(15),
            downscale_stabilization: Duration::from_secs(300),
            cpu_initialization_period: Duration::from_secs(300),
            initial_readiness_delay: Duration::from_secs(30),
            behavior,
        }
    }

    fn hpa(behavior: HpaBehavior) -> HpaState {
        HpaState::new(&config(Some(behavior)))
    }

    fn step(
        state: &mut HpaState,
        seconds: u64,
        in_service: u32,
        pending: u32,
        cpu: f64,
    ) -> Option<u32> {
        let observation = Observation::uniform(in_service, pending, Some(cpu));
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
            tolerance: None,
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

    /// One replica of a table case.
    #[derive(Clone, Copy)]
    enum Pod {
        /// In service long ago, with a CPU sample.
        Ready(f64),
        /// In service, no sample.
        Missing,
        /// Launched long ago, never ready, no sample (phase Pending).
        Pending,
        /// Running long ago, never ready, with a CPU sample.
        Unready(f64),
        /// Started 1 min ago, in service for this many seconds, with a CPU sample.
        Young(f64, u64),
        Failed(f64),
        Draining(f64),
        /// In service long ago with CPU, memory and requests samples.
        Samples(f64, Option<f64>, f64),
    }

    fn replica(pod: Pod) -> crate::Replica {
        use crate::ReplicaState::*;
        let hour = Duration::from_secs(3600);
        let make = |state, cpu: Option<f64>| crate::Replica {
            state,
            age: hour,
            state_for: hour,
            cpu,
            memory: cpu,
            ..crate::Replica::default()
        };
        match pod {
            Pod::Ready(cpu) => make(InService, Some(cpu)),
            Pod::Missing => make(InService, None),
            Pod::Pending => make(Pending, None),
            Pod::Unready(cpu) => make(Pending, Some(cpu)),
            Pod::Young(cpu, ready_for) => crate::Replica {
                age: Duration::from_secs(60),
                state_for: Duration::from_secs(ready_for),
                ..make(InService, Some(cpu))
            },
            Pod::Failed(cpu) => make(Failed, Some(cpu)),
            Pod::Draining(cpu) => make(Draining, Some(cpu)),
            Pod::Samples(cpu, memory, requests) => crate::Replica {
                memory,
                requests: Some(requests),
                ..make(InService, Some(cpu))
            },
        }
    }

    /// Name (with the hand computation), metrics, pods, expected new count.
    type Case = (&'static str, Vec<HpaMetric>, Vec<Pod>, Option<u32>);

    fn times(n: usize, pod: Pod) -> Vec<Pod> {
        vec![pod; n]
    }

    /// Legacy controller (no `behavior`), no stabilization window, min 1, max 100, one sync.
    #[test]
    fn table_of_hand_computed_decisions() {
        use Pod::*;
        let cpu_50 = vec![HpaMetric {
            metric: Metric::Cpu,
            target: 50.0,
        }];
        let metric = |metric, target| HpaMetric { metric, target };
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            // U = floor(mean %), ratio = U / 50; fast path: ceil(U x ready / 50).
            ("3 at 60: 60/50 = 1.2 -> ceil(3.6) = 4", cpu_50.clone(), times(3, Ready(60.0)), Some(4)),
            ("4 at 55: 1.1 exactly is within 0.1", cpu_50.clone(), times(4, Ready(55.0)), None),
            ("4 at 45: 0.9 exactly is within 0.1", cpu_50.clone(), times(4, Ready(45.0)), None),
            ("4 at 56: 1.12 -> ceil(4.48) = 5", cpu_50.clone(), times(4, Ready(56.0)), Some(5)),
            ("10 at 44: 0.88 -> ceil(8.8) = 9", cpu_50.clone(), times(10, Ready(44.0)), Some(9)),
            ("2 at 55.99: U = 55, within", cpu_50.clone(), times(2, Ready(55.99)), None),
            ("1 at 10 + 4 pending: 0.2 x 1 ready -> 1", cpu_50.clone(),
                [vec![Ready(10.0)], times(4, Pending)].concat(), Some(1)),
            ("2 at 90 + 2 pending: recount (180 + 0 + 0) / 4 = 45 flips: keep", cpu_50.clone(),
                [times(2, Ready(90.0)), times(2, Pending)].concat(), None),
            ("2 at 150 + 2 pending: 300 / 4 = 75 -> ceil(1.5 x 4) = 6", cpu_50.clone(),
                [times(2, Ready(150.0)), times(2, Pending)].concat(), Some(6)),
            ("running never-ready pods' CPU is set aside like pending: 6", cpu_50.clone(),
                [times(2, Ready(150.0)), times(2, Unready(10.0))].concat(), Some(6)),
            ("2 at 80 + 1 missing at 0: 160 / 3 = 53, within", cpu_50.clone(),
                vec![Ready(80.0), Ready(80.0), Missing], None),
            ("2 at 100 + 1 missing at 0: 200 / 3 = 66 -> ceil(66 x 3 / 50) = 4", cpu_50.clone(),
                vec![Ready(100.0), Ready(100.0), Missing], Some(4)),
            ("3 at 10 + 1 missing at 100: 130 / 4 = 32 -> ceil(2.56) = 3", cpu_50.clone(),
                [times(3, Ready(10.0)), vec![Missing]].concat(), Some(3)),
            ("2 at 20 + 1 missing at 100: 140 / 3 = 46, within", cpu_50.clone(),
                vec![Ready(20.0), Ready(20.0), Missing], None),
            ("failed pod discarded: 2 at 100 -> 4", cpu_50.clone(),
                vec![Ready(100.0), Ready(100.0), Failed(0.0)], Some(4)),
            ("draining pod discarded: 2 at 100 -> 4", cpu_50.clone(),
                vec![Ready(100.0), Ready(100.0), Draining(0.0)], Some(4)),
            ("young pod ready 30 s of a 60 s window set aside: 20 x 1 / 50 -> 1", cpu_50.clone(),
                vec![Ready(20.0), Young(100.0, 30)], Some(1)),
            ("young pod ready a whole window counts: 60 -> ceil(2.4) = 3", cpu_50.clone(),
                vec![Ready(20.0), Young(100.0, 60)], Some(3)),
            ("young unready on a scale-up at 0: (100 + 0) / 2 = 50, within", cpu_50.clone(),
                vec![Ready(100.0), Young(100.0, 30)], None),
            ("no sample at all: the metric fails, nothing happens", cpu_50.clone(),
                times(2, Pending), None),
            ("legacy scale-up limit: 2 at 250 want 10, max(2 x 2, 4) = 4", cpu_50.clone(),
                times(2, Ready(250.0)), Some(4)),
            ("legacy scale-up limit: 5 at 250 want 25, max(2 x 5, 4) = 10", cpu_50.clone(),
                times(5, Ready(250.0)), Some(10)),
            ("memory counts a running unready pod: (20 + 100) / 2 = 60 -> 3",
                vec![metric(Metric::Memory, 50.0)], vec![Ready(20.0), Unready(100.0)], Some(3)),
            ("requests 0.3 per pod against 0.2: 1.5 -> ceil(4.5) = 5",
                vec![metric(Metric::RequestsPerTarget, 0.2)], times(3, Samples(0.0, None, 0.3)), Some(5)),
            ("largest wins: cpu 30/50 -> ceil(1.2) = 2, requests 15/10 -> ceil(3) = 3",
                vec![metric(Metric::Cpu, 50.0), metric(Metric::RequestsPerTarget, 10.0)],
                times(2, Samples(30.0, None, 15.0)), Some(3)),
            ("failed memory metric does not block cpu's scale-up: 100/50 -> 4",
                vec![metric(Metric::Cpu, 50.0), metric(Metric::Memory, 50.0)],
                times(2, Samples(100.0, None, 0.0)), Some(4)),
            ("failed memory metric blocks cpu's scale-down (10/50 -> 1)",
                vec![metric(Metric::Cpu, 50.0), metric(Metric::Memory, 50.0)],
                times(2, Samples(10.0, None, 0.0)), None),
        ];
        for (name, metrics, pods, expected) in cases {
            let mut state = HpaState::new(&Hpa {
                target: None,
                metrics: Some(metrics),
                downscale_stabilization: Duration::ZERO,
                ..config(None)
            });
            let observation = Observation {
                replicas: pods.into_iter().map(replica).collect(),
                window: Duration::from_secs(60),
            };
            let got = state
                .evaluate(Duration::ZERO, &observation, LIMITS)
                .map(|c| c.desired);
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn without_behavior_the_highest_recommendation_of_the_last_5_minutes_holds_its_start_included()
    {
        let mut state = HpaState::new(&config(None));
        // 10 pods at 50 % recommend 10; then 25 % recommends ceil(10 x 25 / 50) = 5.
        assert_eq!(step(&mut state, 0, 10, 0, 50.0), None);
        for seconds in (15..=300).step_by(15) {
            // At 300 s the recommendation of 0 s is still in the window: 0 + 300 >= 300.
            assert_eq!(step(&mut state, seconds, 10, 0, 25.0), None, "{seconds}");
        }
        assert_eq!(step(&mut state, 315, 10, 0, 25.0), Some(5));
    }

    #[test]
    fn behavior_sets_a_tolerance_per_direction() {
        let mut behavior = HpaBehavior::default();
        behavior.scale_up.tolerance = Some(0.5);
        behavior.scale_down.stabilization_window = Some(Duration::ZERO);
        behavior.scale_down.tolerance = Some(0.05);
        let mut state = HpaState::new(&config(Some(behavior)));
        // 4 at 70 %: 1.4 is within the 0.5 up tolerance.
        assert_eq!(step(&mut state, 0, 4, 0, 70.0), None);
        // 20 at 47 %: 0.94 is outside 0.05 down: ceil(20 x 47 / 50) = ceil(18.8) = 19.
        assert_eq!(step(&mut state, 15, 20, 0, 47.0), Some(19));
    }

    #[test]
    fn outside_its_limits_or_at_zero_replicas_the_hpa_reads_no_metric() {
        let mut state = HpaState::new(&config(None));
        let limits = Limits { min: 2, max: 3 };
        let one = Observation::uniform(1, 0, Some(500.0));
        assert_eq!(state.evaluate(Duration::ZERO, &one, limits), None);
        let none = Observation::uniform(0, 0, None);
        assert_eq!(state.evaluate(Duration::from_secs(15), &none, limits), None);
    }
}
