//! Simulation versus real life: a live cluster group's measured seconds beside the simulation of the
//! same offered load, policy and start-up time, second by second (the cluster's own period).
//!
//! Both sides give the same figures: the most replicas wanted at once, each scaling event's time
//! (the end of the second whose observation decided it), CPU per replica in service (mean over the
//! seconds measured, and max), instance-seconds (replicas × seconds, pending and draining included) and
//! the billed instance-hours and cost as `cost` bills them (per second, 60 s minimum per launch).

use std::time::Duration;

use scalelab_capacity::LinearCapacity;
use scalelab_metrics::ClusterRow;
use scalelab_shape::Shape;

use crate::timeline::cluster_usage;
use crate::{Policy, PolicyError, Rule, SimConfig, SimResult, simulate};

/// The run to replay and how to price it.
#[derive(Debug, Clone)]
pub struct Against<'a> {
    /// One group's seconds of `cluster.csv`, in order.
    pub rows: &'a [ClusterRow],
    /// The offered load over the run, in requests per second.
    pub offered: &'a Shape,
    /// The policy as it ran (its `startup` is the one its warm-up counted from).
    pub policy: &'a Policy,
    /// The replicas' measured start-up: launch to in service, the simulator's pending time.
    pub startup: Duration,
    /// CPU % of one replica against requests per second per replica.
    pub model: LinearCapacity,
    pub cpu_limit: f64,
    pub usd_per_hour: Option<f64>,
}

/// A change of the desired capacity, at the end of the second that decided it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScalingEvent {
    /// Seconds since the start.
    pub at: f64,
    pub from: u32,
    pub to: u32,
}

impl ScalingEvent {
    pub fn is_out(&self) -> bool {
        self.to > self.from
    }
}

/// The k-th scale-out (or scale-in) of the simulation beside the real k-th; either may be missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EventPair {
    pub simulated: Option<ScalingEvent>,
    pub measured: Option<ScalingEvent>,
}

impl EventPair {
    pub fn is_out(&self) -> bool {
        self.simulated.or(self.measured).is_some_and(|e| e.is_out())
    }

    /// Simulated minus measured time, when both happened.
    pub fn lag(&self) -> Option<f64> {
        Some(self.simulated?.at - self.measured?.at)
    }
}

/// One side's figures.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Figures {
    /// Most replicas wanted at once (in service plus pending).
    pub max_replicas: u32,
    pub scale_outs: u32,
    pub scale_ins: u32,
    /// CPU % per replica in service: mean over the seconds with a measurement, and the highest.
    pub mean_cpu: f64,
    pub max_cpu: f64,
    /// Seconds with CPU above the limit.
    pub seconds_above_limit: f64,
    /// Replicas × seconds: in service, pending and (measured only) draining.
    pub instance_seconds: f64,
    /// Billed per second, at least 60 s per launch.
    pub instance_hours: f64,
    pub cost: Option<f64>,
}

/// The simulation beside the run.
#[derive(Debug, Clone)]
pub struct SideBySide {
    pub simulated: Figures,
    pub measured: Figures,
    /// Scale-outs and scale-ins paired in order of occurrence, by time.
    pub events: Vec<EventPair>,
    /// The simulation, a step per second.
    pub simulation: SimResult,
    /// The longest period the policy's rules measure over (alarm period, target tracking period, HPA
    /// sync period).
    pub evaluation_period: Duration,
    /// Measured start-up (the simulator's pending time).
    pub startup: Duration,
}

impl SideBySide {
    /// How far a simulated event may lie from the real one and still count as on time: one
    /// evaluation period plus the start-up.
    pub fn tolerance(&self) -> f64 {
        (self.evaluation_period + self.startup).as_secs_f64()
    }

    /// Whether every real scale-out has a simulated one within the tolerance, and no other.
    pub fn scale_outs_on_time(&self) -> bool {
        self.events
            .iter()
            .filter(|p| p.is_out())
            .all(|p| p.lag().is_some_and(|lag| lag.abs() <= self.tolerance()))
    }
}

/// Simulates the run's offered load with its policy, start-up and `model`, a step per second, and sets
/// the figures of both side by side.
pub fn compare(run: &Against) -> Result<SideBySide, PolicyError> {
    if run.rows.is_empty() {
        return Err(PolicyError::Invalid(
            "the run has no measured second".into(),
        ));
    }
    let policy = Policy {
        startup: run.startup,
        ..run.policy.clone()
    };
    let config = SimConfig {
        step: Duration::from_secs(1),
        per: Duration::from_secs(1),
        cpu_limit: run.cpu_limit,
        usd_per_hour: run.usd_per_hour,
        record_timeline: true,
        credits: None,
    };
    let simulation = simulate(run.offered, &run.model, &policy, &config)?;
    let simulated_events: Vec<ScalingEvent> = simulation
        .timeline
        .iter()
        .filter(|r| r.desired != r.in_service + r.pending)
        .map(|r| ScalingEvent {
            at: r.end,
            from: r.in_service + r.pending,
            to: r.desired,
        })
        .collect();
    let measured_events = measured_events(run.rows, run.policy.initial());
    let s = &simulation.summary;
    let simulated = Figures {
        max_replicas: s.peak_instances,
        mean_cpu: s.mean_cpu,
        max_cpu: s.max_cpu,
        seconds_above_limit: s.time_above_limit,
        instance_seconds: simulation
            .timeline
            .iter()
            .map(|r| f64::from(r.in_service + r.pending) * (r.end - r.start))
            .sum(),
        instance_hours: s.instance_hours,
        cost: s.cost,
        ..counts(&simulated_events)
    };
    let cpu: Vec<f64> = run.rows.iter().filter_map(|r| r.cpu_avg_pct).collect();
    let instance_hours = cluster_usage(run.rows, run.policy.scale_in)
        .map_err(|e| PolicyError::Bound(format!("the cluster's run: {e}")))?
        .instance_hours();
    let measured = Figures {
        max_replicas: run
            .rows
            .iter()
            .map(|r| r.desired)
            .chain([run.policy.initial()])
            .max()
            .unwrap_or_default(),
        mean_cpu: if cpu.is_empty() {
            0.0
        } else {
            cpu.iter().sum::<f64>() / cpu.len() as f64
        },
        max_cpu: cpu.iter().copied().fold(0.0, f64::max),
        seconds_above_limit: cpu.iter().filter(|&&c| c > run.cpu_limit).count() as f64,
        instance_seconds: run.rows.iter().map(|r| r.replicas() as f64).sum(),
        instance_hours,
        cost: run.usd_per_hour.map(|price| instance_hours * price),
        ..counts(&measured_events)
    };
    Ok(SideBySide {
        simulated,
        measured,
        events: pair(&simulated_events, &measured_events),
        simulation,
        evaluation_period: evaluation_period(run.policy),
        startup: run.startup,
    })
}

/// The changes of `desired` in a group's seconds, each at the end of its second; `initial` before.
fn measured_events(rows: &[ClusterRow], initial: u32) -> Vec<ScalingEvent> {
    let mut before = initial;
    let mut events = Vec::new();
    for row in rows {
        if row.desired != before {
            events.push(ScalingEvent {
                at: (row.second + 1) as f64,
                from: before,
                to: row.desired,
            });
            before = row.desired;
        }
    }
    events
}

fn counts(events: &[ScalingEvent]) -> Figures {
    let outs = events.iter().filter(|e| e.is_out()).count() as u32;
    Figures {
        scale_outs: outs,
        scale_ins: events.len() as u32 - outs,
        ..Figures::default()
    }
}

/// The k-th simulated scale-out with the k-th real one, likewise scale-ins; in order of time.
fn pair(simulated: &[ScalingEvent], measured: &[ScalingEvent]) -> Vec<EventPair> {
    let mut pairs = Vec::new();
    for out in [true, false] {
        let side = |events: &[ScalingEvent]| -> Vec<ScalingEvent> {
            events
                .iter()
                .copied()
                .filter(|e| e.is_out() == out)
                .collect()
        };
        let (s, m) = (side(simulated), side(measured));
        for k in 0..s.len().max(m.len()) {
            pairs.push(EventPair {
                simulated: s.get(k).copied(),
                measured: m.get(k).copied(),
            });
        }
    }
    let first = |p: &EventPair| {
        let at = |e: Option<ScalingEvent>| e.map_or(f64::INFINITY, |e| e.at);
        at(p.simulated).min(at(p.measured))
    };
    pairs.sort_by(|a, b| first(a).total_cmp(&first(b)));
    pairs
}

/// The longest period `policy`'s rules measure over.
fn evaluation_period(policy: &Policy) -> Duration {
    let Ok(rule) = policy.rule() else {
        return Duration::ZERO;
    };
    match rule {
        Rule::Aws {
            simple,
            step,
            target_tracking,
        } => simple
            .iter()
            .map(|p| p.alarm.period)
            .chain(step.iter().map(|p| p.alarm.period))
            .chain(target_tracking.iter().map(|p| p.period))
            .max()
            .unwrap_or_default(),
        Rule::Hpa(hpa) => hpa.sync_period,
        Rule::Beanstalk(beanstalk) => beanstalk.period,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// +1 when a 2 s period's average CPU is above 60 %, −1 below 20 %; 2 s cooldowns.
    fn policy(startup: &str) -> Policy {
        Policy::from_yaml(&format!(
            "min: 1\nmax: 3\nstartup: {startup}\nsimple:\n  \
             - alarm: {{threshold: 60, comparison: greater_than, period: 2s}}\n    \
               adjustment: 1\n    cooldown: 2s\n  \
             - alarm: {{threshold: 20, comparison: less_than, period: 2s}}\n    \
               adjustment: -1\n    cooldown: 2s\n"
        ))
        .unwrap()
    }

    fn second(second: u64, desired: u32, in_service: u32, pending: u32, cpu: f64) -> ClusterRow {
        ClusterRow {
            second,
            group: "api".into(),
            desired,
            in_service,
            pending,
            cpu_avg_pct: Some(cpu),
            ..ClusterRow::default()
        }
    }

    #[test]
    fn the_figures_of_a_hand_computed_run() {
        // Offered: 8/s for 4 s, then 1/s for 4 s; model: 10 % per request/s per replica, no base.
        let offered =
            Shape::from_points(vec![(0.0, 8.0), (4.0, 8.0), (4.0, 1.0), (8.0, 1.0)]).unwrap();
        let policy = policy("0s");
        // The simulation, a second at a time (start-up 1 s):
        //  0-1: 1 replica, 80 %; 1-2: 80 %: the 2 s period [0, 2) averages 80 > 60: +1 at 2 s,
        //  in service at 3 s, when the activity completes: no simple scaling until 3 + 2 = 5 s.
        //  2-3: 1 replica + 1 pending, 80 %; 3-4: 2 replicas, 40 %: period [2, 4) is not above 60
        //  (60 or 53.3, per second or per replica); 4-5: 1/s on 2: 5 %; 5-6: 5 %: period [4, 6)
        //  averages 5 < 20: -1 at 6 s (cooldown to 8 s). 6-7: 1 replica, 10 %; 7-8: 10 %, the last
        //  step, no decision.
        // CPU: 80, 80, 80, 40, 5, 5, 10, 10: mean 310 / 8 = 38.75, max 80; above 60 %: 3 s.
        // Replicas: 1, 1, 2, 2, 2, 2, 1, 1 = 12 instance-seconds; billed: the first replica's 8 s and
        // the launched one's 4 s, each at least 60 s: 120 s. Cost at $3.6/h: 120 / 3600 x 3.6 = $0.12.
        // The run: scaled out at the end of second 1 (2 s), pending for 2 s, scaled in at 7 s.
        let rows = [
            second(0, 1, 1, 0, 82.0),
            second(1, 2, 1, 0, 78.0),
            second(2, 2, 1, 1, 84.0),
            second(3, 2, 1, 1, 80.0),
            second(4, 2, 2, 0, 6.0),
            second(5, 2, 2, 0, 4.0),
            second(6, 1, 2, 0, 5.0),
            ClusterRow {
                draining: 1,
                ..second(7, 1, 1, 0, 9.0)
            },
        ];
        let comparison = compare(&Against {
            rows: &rows,
            offered: &offered,
            policy: &policy,
            startup: Duration::from_secs(1),
            model: LinearCapacity::new(10.0, 0.0).unwrap(),
            cpu_limit: 60.0,
            usd_per_hour: Some(3.6),
        })
        .unwrap();
        let s = comparison.simulated;
        assert_eq!((s.max_replicas, s.scale_outs, s.scale_ins), (2, 1, 1));
        assert!(
            (s.mean_cpu - 38.75).abs() < 1e-9 && s.max_cpu == 80.0,
            "{s:?}"
        );
        assert_eq!(s.seconds_above_limit, 3.0);
        assert_eq!(s.instance_seconds, 12.0);
        assert!((s.instance_hours * 3600.0 - 120.0).abs() < 1e-9);
        assert!((s.cost.unwrap() - 0.12).abs() < 1e-12);
        // Measured CPU: (82 + 78 + 84 + 80 + 6 + 4 + 5 + 9) / 8 = 348 / 8 = 43.5, max 84, above 60 %:
        // 4 s. Replicas (in service + pending + draining): 1 + 1 + 2 + 2 + 2 + 2 + 2 + 2 = 14.
        // Billed: the first replica 8 s, the one launched at 2 s lives to the end, 6 s: 60 s each.
        let m = comparison.measured;
        assert_eq!((m.max_replicas, m.scale_outs, m.scale_ins), (2, 1, 1));
        assert!(
            (m.mean_cpu - 43.5).abs() < 1e-9 && m.max_cpu == 84.0,
            "{m:?}"
        );
        assert_eq!((m.seconds_above_limit, m.instance_seconds), (4.0, 14.0));
        assert!((m.instance_hours * 3600.0 - 120.0).abs() < 1e-9);
        assert!((m.cost.unwrap() - 0.12).abs() < 1e-12);
        // Scale-out at 2 s on both sides; scale-in at 6 s simulated, 7 s measured.
        let lags: Vec<(bool, Option<f64>)> = comparison
            .events
            .iter()
            .map(|p| (p.is_out(), p.lag()))
            .collect();
        assert_eq!(lags, [(true, Some(0.0)), (false, Some(-1.0))]);
        assert_eq!(comparison.tolerance(), 3.0);
        assert!(comparison.scale_outs_on_time());
    }

    #[test]
    fn events_pair_in_order_and_a_missing_scale_out_is_not_on_time() {
        let event = |at: f64, from, to| ScalingEvent { at, from, to };
        let simulated = [event(5.0, 1, 2), event(20.0, 2, 1)];
        let measured = [event(4.0, 1, 2), event(9.0, 2, 3), event(30.0, 3, 2)];
        let pairs = pair(&simulated, &measured);
        let shown: Vec<(Option<f64>, Option<f64>)> = pairs
            .iter()
            .map(|p| (p.simulated.map(|e| e.at), p.measured.map(|e| e.at)))
            .collect();
        assert_eq!(
            shown,
            [
                (Some(5.0), Some(4.0)),
                (None, Some(9.0)),
                (Some(20.0), Some(30.0))
            ]
        );
        assert_eq!(pairs[0].lag(), Some(1.0));
        assert!(pairs[1].is_out() && pairs[1].lag().is_none());
        let comparison = SideBySide {
            simulated: Figures::default(),
            measured: Figures::default(),
            events: pairs,
            simulation: SimResult {
                timeline: Vec::new(),
                summary: Default::default(),
            },
            evaluation_period: Duration::from_secs(5),
            startup: Duration::from_secs(2),
        };
        assert!(!comparison.scale_outs_on_time());
        // The run's desired capacity from its first second on, from `initial`.
        let rows = [
            second(0, 1, 1, 0, 0.0),
            second(1, 3, 1, 0, 0.0),
            second(2, 3, 1, 2, 0.0),
        ];
        assert_eq!(measured_events(&rows, 1), [event(2.0, 1, 3)]);
        assert_eq!(measured_events(&rows, 2)[0], event(1.0, 2, 1));
    }

    #[test]
    fn the_evaluation_period_is_the_longest_a_rule_measures() {
        assert_eq!(evaluation_period(&policy("0s")), Duration::from_secs(2));
        let hpa = Policy::from_yaml("max: 3\nhpa: {target: 50, sync_period: 10s}\n").unwrap();
        assert_eq!(evaluation_period(&hpa), Duration::from_secs(10));
        let tracking =
            Policy::from_yaml("max: 3\ntarget_tracking: [{target: 50, period: 30s}]\n").unwrap();
        assert_eq!(evaluation_period(&tracking), Duration::from_secs(30));
    }
}
