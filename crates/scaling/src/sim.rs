//! The simulator: a policy over a shape of offered load, in virtual time, with a capacity model.
//!
//! The shape runs in steps of `step` seconds. For the step `[t, t + step)`:
//! 1. **in service**: instances whose start-up has ended by `t` serve; the others are pending.
//! 2. **serve and measure**: the mean offered load over the step is spread evenly over the instances in
//!    service; the capacity model gives each one's CPU and the load above capacity is unserved.
//! 3. **decide** at `t + step`: instances whose start-up ended by then are in service, the others
//!    pending; those that served during the step carry its measurement (the instances' CPU and load),
//!    the others none; the Autoscaler reads them.
//! 4. **launch or terminate** at `t + step`: launched instances are pending (billed, serving nothing)
//!    until `t + step + startup`; terminated ones stop at once, in the policy's scale-in order.
//!
//! There is no decision after the last step. Each launch is billed per second, at least 60 s.

use std::collections::VecDeque;
use std::time::Duration;

use scalelab_capacity::{InstanceLifetime, LinearCapacity, StepLoad};
use scalelab_config::format_duration;
use scalelab_shape::Shape;

use crate::credits::{Balance, CreditModel};
use crate::timeline::TimelineRow;
use crate::{Autoscaler, Observation, Policy, PolicyError, Replica, ReplicaState};

/// Most steps one simulation may take (a week of seconds, a year of minutes).
pub const MAX_STEPS: u64 = 1_000_000;

/// How to run a simulation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimConfig {
    /// Length of one step.
    pub step: Duration,
    /// The time unit of the shape's load rate (60 s for requests per minute).
    pub per: Duration,
    /// CPU % above which time counts as "above the limit".
    pub cpu_limit: f64,
    /// Price of one instance-hour, for the cost figure.
    pub usd_per_hour: Option<f64>,
    /// Keep a row per step (the sweep does not need them).
    pub record_timeline: bool,
    /// Track the CPU credits of burstable instances.
    pub credits: Option<CreditModel>,
}

impl SimConfig {
    /// The number of steps over `shape`, or why it is not between 1 and [`MAX_STEPS`].
    pub fn steps(&self, shape: &Shape) -> Result<u64, PolicyError> {
        let step = self.step.as_secs_f64();
        if step <= 0.0 {
            return Err(PolicyError::Bound("the step must be above 0".into()));
        }
        let steps = (shape.duration().as_secs_f64() / step).ceil().max(1.0);
        if steps > MAX_STEPS as f64 {
            return Err(PolicyError::Bound(format!(
                "{} in steps of {} is {steps} steps, more than the {MAX_STEPS} a simulation may \
                 take: use a longer step",
                format_duration(shape.duration()),
                format_duration(self.step),
            )));
        }
        Ok(steps as u64)
    }
}

/// The figures of a whole simulation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Summary {
    /// Simulated time, seconds.
    pub duration: f64,
    /// Highest CPU % of an instance in service in any step.
    pub max_cpu: f64,
    /// Time-weighted mean CPU % over the time with at least one instance in service.
    pub mean_cpu: f64,
    /// Seconds with CPU above the limit, or with load and no instance in service.
    pub time_above_limit: f64,
    pub offered_requests: f64,
    pub served_requests: f64,
    pub unserved_requests: f64,
    /// Billed instance-hours (pending time included, 60 s minimum per launch).
    pub instance_hours: f64,
    /// Most instances at once (in service plus pending).
    pub peak_instances: u32,
    /// Times the Autoscaler changed the capacity.
    pub scaling_events: u32,
    /// Instance-seconds burstable instances spent held to their baseline (standard credit mode).
    pub throttled_seconds: f64,
    /// Surplus credits charged (unlimited credit mode), including those outstanding at the end.
    pub surplus_credits: f64,
    /// `instance_hours x price`, plus the surplus credits' price, when a price is known.
    pub cost: Option<f64>,
}

impl Summary {
    /// The figures by name, as sweep expressions and tables see them.
    pub fn figures(&self) -> Vec<(&'static str, f64)> {
        let mut figures = vec![
            ("max_cpu", self.max_cpu),
            ("mean_cpu", self.mean_cpu),
            ("time_above_limit", self.time_above_limit),
            ("offered_requests", self.offered_requests),
            ("served_requests", self.served_requests),
            ("unserved_requests", self.unserved_requests),
            ("instance_hours", self.instance_hours),
            ("peak_instances", f64::from(self.peak_instances)),
            ("scaling_events", f64::from(self.scaling_events)),
            ("throttled_seconds", self.throttled_seconds),
            ("surplus_credits", self.surplus_credits),
        ];
        if let Some(cost) = self.cost {
            figures.push(("cost", cost));
        }
        figures
    }

    /// Every figure name, `cost` included.
    pub const NAMES: [&'static str; 12] = [
        "max_cpu",
        "mean_cpu",
        "time_above_limit",
        "offered_requests",
        "served_requests",
        "unserved_requests",
        "instance_hours",
        "peak_instances",
        "scaling_events",
        "throttled_seconds",
        "surplus_credits",
        "cost",
    ];
}

/// A simulation's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct SimResult {
    pub timeline: Vec<TimelineRow>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Copy)]
struct Instance {
    launched: f64,
    in_service_at: f64,
    credits: Balance,
}

/// Simulates `policy` over `shape` with `model`; see the module documentation for the order of a step.
pub fn simulate(
    shape: &Shape,
    model: &LinearCapacity,
    policy: &Policy,
    config: &SimConfig,
) -> Result<SimResult, PolicyError> {
    let steps = config.steps(shape)?;
    let step = config.step.as_secs_f64();
    let per = config.per.as_secs_f64();
    let end = shape.duration().as_secs_f64();
    let startup = policy.startup.as_secs_f64();
    let mut autoscaler = Autoscaler::new(policy.clone())?;
    let mut fleet: VecDeque<Instance> = (0..policy.initial())
        .map(|_| Instance {
            launched: 0.0,
            in_service_at: 0.0,
            credits: Balance {
                earned: config.credits.map_or(0.0, |c| c.rates.max_credits),
                surplus: 0.0,
            },
        })
        .collect();
    let in_service = |fleet: &VecDeque<Instance>, t: f64| {
        fleet.iter().filter(|i| i.in_service_at <= t).count() as u32
    };
    let mut load = LoadCursor::new(shape.points());
    let mut timeline = Vec::new();
    // Billed as each instance stops, so memory follows the fleet, not every launch of the run.
    let mut billed_seconds = 0.0;
    let mut summary = Summary {
        duration: end,
        peak_instances: fleet.len() as u32,
        ..Summary::default()
    };
    let (mut cpu_seconds, mut measured_seconds) = (0.0, 0.0);
    let mut observation = Observation::default();
    for index in 0..steps {
        let start = index as f64 * step;
        let stop = (start + step).min(end);
        let length = stop - start;
        let serving = in_service(&fleet, start);
        let pending = fleet.len() as u32 - serving;
        let offered = if length > 0.0 {
            load.integral(start, stop) / length
        } else {
            shape.value(start)
        };
        let mut outcome = model.serve(offered, serving);
        let mut throttled = 0.0;
        if let Some(credits) = &config.credits {
            let step = burst(credits, model, &mut fleet, start, length, &outcome);
            throttled = step.throttled;
            summary.throttled_seconds += step.throttled;
            summary.surplus_credits += step.charged;
            if let Some(cpu) = step.cpu {
                outcome.cpu_percent = Some(cpu);
                outcome.unserved += outcome.served - step.served;
                outcome.served = step.served;
                outcome.load_per_instance = Some(step.served / f64::from(serving));
            }
        }
        let to_requests = length / per;
        summary.offered_requests += offered * to_requests;
        summary.served_requests += outcome.served * to_requests;
        summary.unserved_requests += outcome.unserved * to_requests;
        match outcome.cpu_percent {
            Some(cpu) => {
                summary.max_cpu = summary.max_cpu.max(cpu);
                cpu_seconds += cpu * length;
                measured_seconds += length;
                if cpu > config.cpu_limit {
                    summary.time_above_limit += length;
                }
            }
            None if offered > 0.0 => summary.time_above_limit += length,
            None => {}
        }

        let last = index + 1 == steps;
        let (mut launched, mut terminated, mut event) = (0, 0, None);
        let mut desired = fleet.len() as u32;
        if !last {
            observation.window = nanos(length);
            observation.replicas.clear();
            observation.replicas.extend(fleet.iter().map(|i| {
                let (serving, served) = (i.in_service_at <= stop, i.in_service_at <= start);
                let sample = |value: Option<f64>| value.filter(|_| served);
                Replica {
                    state: if serving {
                        ReplicaState::InService
                    } else {
                        ReplicaState::Pending
                    },
                    age: nanos(stop - i.launched),
                    state_for: nanos(stop - if serving { i.in_service_at } else { i.launched }),
                    cpu: sample(outcome.cpu_percent),
                    memory: None,
                    requests: sample(outcome.load_per_instance),
                    in_flight: None,
                }
            }));
            let decision = autoscaler.observe(Duration::from_secs_f64(stop), &observation);
            desired = decision.desired;
            while (fleet.len() as u32) < desired {
                fleet.push_back(Instance {
                    launched: stop,
                    in_service_at: stop + startup,
                    credits: Balance {
                        earned: config.credits.map_or(0.0, |c| c.launch_credits),
                        surplus: 0.0,
                    },
                });
                launched += 1;
            }
            while fleet.len() as u32 > desired {
                if let Some(instance) = policy.scale_in.remove(&mut fleet) {
                    // A stopped instance's outstanding surplus credits are charged.
                    summary.surplus_credits += instance.credits.surplus;
                    billed_seconds += InstanceLifetime {
                        launched: instance.launched,
                        terminated: stop,
                    }
                    .billed_seconds();
                    terminated += 1;
                }
            }
            if launched + terminated > 0 {
                summary.scaling_events += 1;
                event = decision.reason;
            }
            summary.peak_instances = summary.peak_instances.max(fleet.len() as u32);
        }
        if config.record_timeline {
            timeline.push(TimelineRow {
                start,
                end: stop,
                offered_load: offered,
                in_service: serving,
                pending,
                cpu_percent: outcome.cpu_percent,
                served_load: outcome.served,
                unserved_load: outcome.unserved,
                served_requests: outcome.served * to_requests,
                unserved_requests: outcome.unserved * to_requests,
                desired,
                launched,
                terminated,
                event,
                throttled_seconds: throttled,
                credit_balance: config.credits.and_then(|_| {
                    let serving: Vec<&Instance> =
                        fleet.iter().filter(|i| i.in_service_at <= stop).collect();
                    (!serving.is_empty()).then(|| {
                        serving
                            .iter()
                            .map(|i| i.credits.earned - i.credits.surplus)
                            .sum::<f64>()
                            / serving.len() as f64
                    })
                }),
            });
        }
    }
    // Surplus credits still outstanding are charged as if the fleet stopped at the end.
    summary.surplus_credits += fleet.iter().map(|i| i.credits.surplus).sum::<f64>();
    billed_seconds += fleet
        .iter()
        .map(|i| {
            InstanceLifetime {
                launched: i.launched,
                terminated: end,
            }
            .billed_seconds()
        })
        .sum::<f64>();
    summary.mean_cpu = if measured_seconds > 0.0 {
        cpu_seconds / measured_seconds
    } else {
        0.0
    };
    summary.instance_hours = billed_seconds / 3600.0;
    let surplus_cost = config
        .credits
        .map_or(0.0, |c| c.surplus_cost(summary.surplus_credits));
    summary.cost = config
        .usd_per_hour
        .map(|price| summary.instance_hours * price + surplus_cost);
    Ok(SimResult { timeline, summary })
}

/// Seconds (non-negative) as a `Duration` to the nearest nanosecond, cheaper than
/// `Duration::from_secs_f64` on the simulator's hot path.
fn nanos(seconds: f64) -> Duration {
    Duration::from_nanos((seconds * 1e9 + 0.5) as u64)
}

/// A step of a burstable fleet: what it served and its mean CPU once credits are counted.
struct Burst {
    /// Mean CPU % of the instances in service; `None` with none in service.
    cpu: Option<f64>,
    served: f64,
    /// Instance-seconds held to the baseline.
    throttled: f64,
    /// Surplus credits charged.
    charged: f64,
}

/// Runs every instance's credits over the step `[start, start + length)`: in-service instances at the
/// step's CPU (pending ones idle). A standard instance whose balance runs out is held to the baseline
/// for the rest of the step and serves only what the baseline CPU allows.
fn burst(
    credits: &CreditModel,
    model: &LinearCapacity,
    fleet: &mut VecDeque<Instance>,
    start: f64,
    length: f64,
    outcome: &StepLoad,
) -> Burst {
    let (cpu, per_instance) = match (outcome.cpu_percent, outcome.load_per_instance) {
        (Some(cpu), Some(load)) => (cpu, load),
        _ => (0.0, 0.0),
    };
    let baseline = credits.baseline();
    let at_baseline =
        ((baseline - model.base) / model.coefficient).clamp(0.0, model.capacity_per_instance());
    let mut step = Burst {
        cpu: None,
        served: 0.0,
        throttled: 0.0,
        charged: 0.0,
    };
    let (mut cpu_sum, mut serving) = (0.0, 0usize);
    for instance in fleet.iter_mut() {
        let in_service = instance.in_service_at <= start;
        let spent = credits.spend(
            &mut instance.credits,
            if in_service { cpu } else { 0.0 },
            length,
        );
        step.charged += spent.charged;
        if !in_service {
            continue;
        }
        let full = if length > 0.0 {
            1.0 - spent.throttled / length
        } else {
            1.0
        };
        step.throttled += spent.throttled;
        step.served += full * per_instance + (1.0 - full) * at_baseline.min(per_instance);
        cpu_sum += full * cpu + (1.0 - full) * cpu.min(baseline);
        serving += 1;
    }
    if serving > 0 {
        step.cpu = Some(cpu_sum / serving as f64);
    }
    step
}

/// Integrates a piecewise-linear shape over consecutive, non-decreasing intervals in amortized O(1).
struct LoadCursor<'a> {
    points: &'a [(f64, f64)],
    segment: usize,
}

impl<'a> LoadCursor<'a> {
    fn new(points: &'a [(f64, f64)]) -> Self {
        Self { points, segment: 0 }
    }

    /// The integral of the shape over `[from, to]`; `from` never goes back between calls.
    fn integral(&mut self, from: f64, to: f64) -> f64 {
        let points = self.points;
        while self.segment + 1 < points.len() && points[self.segment + 1].0 <= from {
            self.segment += 1;
        }
        let mut total = 0.0;
        let mut index = self.segment;
        while index + 1 < points.len() && points[index].0 < to {
            let ((t0, v0), (t1, v1)) = (points[index], points[index + 1]);
            let (low, high) = (from.max(t0), to.min(t1));
            if high > low && t1 > t0 {
                let at = |t: f64| v0 + (v1 - v0) * (t - t0) / (t1 - t0);
                total += (at(low) + at(high)) / 2.0 * (high - low);
            }
            index += 1;
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(step: u64) -> SimConfig {
        SimConfig {
            step: Duration::from_secs(step),
            per: Duration::from_secs(60),
            cpu_limit: 50.0,
            usd_per_hour: Some(0.0104),
            record_timeline: true,
            credits: None,
        }
    }

    fn beanstalk(startup: &str, cooldown: &str) -> Policy {
        Policy::from_yaml(&format!(
            "min: 1\nmax: 4\nstartup: {startup}\nbeanstalk:\n  period: 1m\n  breach_duration: 1m\n  \
             upper_threshold: 60\n  lower_threshold: 20\n  cooldown: {cooldown}\n"
        ))
        .unwrap()
    }

    #[test]
    fn steps_beyond_the_bound_are_refused_before_the_run() {
        // A year at 1 s would be 31,536,000 timeline rows (about 5 GB).
        let year = Shape::constant(10.0, Duration::from_secs(365 * 86_400));
        let model = LinearCapacity::new(1.0, 0.0).unwrap();
        let error = simulate(&year, &model, &beanstalk("0s", "0s"), &config(1))
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            "8760h in steps of 1s is 31536000 steps, more than the 1000000 a simulation may take: \
             use a longer step"
        );
        assert_eq!(config(60).steps(&year), Ok(525_600));
        let week = Shape::constant(10.0, Duration::from_secs(MAX_STEPS));
        assert_eq!(config(1).steps(&week), Ok(MAX_STEPS));
    }

    #[test]
    fn the_cursor_matches_the_shape_integral() {
        let shape = scalelab_shape::parse_inline_stages("10m:30000,8m:150000,30m:150000", 30_000.0)
            .unwrap();
        let mut cursor = LoadCursor::new(shape.points());
        for minute in 0..48 {
            let (a, b) = (minute as f64 * 60.0, minute as f64 * 60.0 + 60.0);
            let expected = shape.integral(b) - shape.integral(a);
            assert!(
                (cursor.integral(a, b) - expected).abs() < 1e-6,
                "minute {minute}"
            );
        }
    }

    #[test]
    fn a_hand_checked_step_up_with_start_up_time() {
        // 1 instance; 1 % CPU per rpm; 50 rpm for 2 min then 100 rpm for 4 min; start-up 2 min.
        let shape = Shape::from_points(vec![
            (0.0, 50.0),
            (120.0, 50.0),
            (120.0, 100.0),
            (360.0, 100.0),
        ])
        .unwrap();
        let model = LinearCapacity::new(1.0, 0.0).unwrap();
        let result = simulate(&shape, &model, &beanstalk("2m", "0s"), &config(60)).unwrap();
        let rows: Vec<(u32, u32, Option<f64>, u32, u32)> = result
            .timeline
            .iter()
            .map(|r| {
                (
                    r.in_service,
                    r.pending,
                    r.cpu_percent,
                    r.launched,
                    r.terminated,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (1, 0, Some(50.0), 0, 0),  // 0-1 min: 50 % is between the thresholds
                (1, 0, Some(50.0), 0, 0),  // 1-2
                (1, 0, Some(100.0), 1, 0), // 2-3: 100 rpm on one: 100 %; launch at 3 min
                (1, 1, Some(100.0), 0, 0), // 3-4: pending; the launch in progress blocks scaling
                (1, 1, Some(100.0), 1, 0), // 4-5: at 5 min the first is in service, the launch
                //                            completes, and this step's 100 % launches another
                (2, 1, Some(50.0), 0, 0), // 5-6: last step, no decision
            ]
        );
        let summary = result.summary;
        assert_eq!(summary.max_cpu, 100.0);
        assert!((summary.mean_cpu - 75.0).abs() < 1e-9);
        assert_eq!(summary.time_above_limit, 180.0);
        assert_eq!(summary.offered_requests, 100.0 + 400.0);
        assert_eq!(summary.unserved_requests, 0.0);
        // One instance 6 min, one from 3 to 6 min, one from 5 to 6: 10 instance-minutes.
        assert!((summary.instance_hours - 10.0 / 60.0).abs() < 1e-12);
        assert!((summary.cost.unwrap() - 10.0 / 60.0 * 0.0104).abs() < 1e-12);
        assert_eq!((summary.scaling_events, summary.peak_instances), (2, 3));
        assert!(
            result.timeline[2]
                .event
                .as_deref()
                .unwrap()
                .starts_with("upper trigger: cpu 100.0 > 60")
        );
    }

    #[test]
    fn load_above_capacity_is_unserved_and_scale_in_bills_the_minimum() {
        // 250 rpm on one instance at 1 % per rpm: 100 served, 150 unserved per minute.
        let shape = Shape::constant(250.0, Duration::from_secs(120));
        let model = LinearCapacity::new(1.0, 0.0).unwrap();
        let result = simulate(&shape, &model, &beanstalk("0s", "0s"), &config(60)).unwrap();
        assert_eq!(result.summary.unserved_requests, 150.0 + 50.0);
        // Launched at 60 s with no start-up, it serves 60-120 s: 250 over 2 = 125 each, 25 unserved each.
        assert_eq!(result.timeline[1].in_service, 2);
        // A 10-second instance is billed 60 s.
        let short = simulate(
            &Shape::constant(250.0, Duration::from_secs(70)),
            &model,
            &beanstalk("0s", "0s"),
            &config(60),
        )
        .unwrap();
        assert!((short.summary.instance_hours * 3600.0 - (70.0 + 60.0)).abs() < 1e-9);
    }

    #[test]
    fn with_no_start_up_a_simple_cooldown_runs_from_the_launch() {
        // 1000 rpm at 1 % per rpm keeps every instance above 50 % (1000 / n for n < 20). +1 with a
        // 300 s cooldown: the launch at 60 s completes at once (start-up 0), so the cooldown ends
        // at 60 + 300 = 360 s and the second launch is at 360 s, the end of step 5 (AWS; not 420 s).
        // The next would be at 660 s, after the 600 s run.
        let policy = Policy::from_yaml(
            "min: 1\nmax: 10\nsimple:\n  - alarm: {threshold: 50, comparison: greater_than}\n    \
             adjustment: 1\n    cooldown: 5m\n",
        )
        .unwrap();
        let shape = Shape::constant(1000.0, Duration::from_secs(600));
        let model = LinearCapacity::new(1.0, 0.0).unwrap();
        let result = simulate(&shape, &model, &policy, &config(60)).unwrap();
        let launches: Vec<f64> = result
            .timeline
            .iter()
            .filter(|row| row.launched > 0)
            .map(|row| row.end)
            .collect();
        assert_eq!(launches, [60.0, 360.0]);
    }

    #[test]
    fn pending_instances_are_set_aside_by_the_hpa_on_a_scale_down() {
        // 15 s steps, 1 % CPU per rpm, HPA target 20 % with behavior (down window 0).
        // 0-15 s: 250 rpm on one instance: 100 % (capped); at 15 s 100 / 20 = 5 -> ceil(5 x 1) = 5,
        // allowed by max(1 + 4 pods, 1 x 200 %) = 5: 4 launched, pending for 10 min.
        // 15-30 s: 10 rpm: the one in service runs at 10 %; at 30 s 10 / 20 = 0.5 with 1 ready pod
        // and 4 pending left out on a scale-down: ceil(0.5 x 1) = 1, the 4 pending are removed.
        // (Counting pending pods at the target instead: (10 + 4 x 20) / (5 x 20) = 0.9, no change.)
        let policy = Policy::from_yaml(
            "min: 1\nmax: 10\nstartup: 10m\nhpa:\n  target: 20\n  \
             behavior: {scale_down: {stabilization_window: 0s}}\n",
        )
        .unwrap();
        let shape = Shape::from_points(vec![
            (0.0, 250.0),
            (15.0, 250.0),
            (15.0, 10.0),
            (60.0, 10.0),
        ])
        .unwrap();
        let model = LinearCapacity::new(1.0, 0.0).unwrap();
        let result = simulate(&shape, &model, &policy, &config(15)).unwrap();
        let changes: Vec<(u32, u32, u32)> = result
            .timeline
            .iter()
            .map(|row| (row.pending, row.launched, row.terminated))
            .collect();
        assert_eq!(changes, [(0, 4, 0), (4, 0, 4), (0, 0, 0), (0, 0, 0)]);
    }

    fn t2_micro(mode: crate::CreditMode) -> SimConfig {
        let catalog = scalelab_capacity::PriceCatalog::built_in();
        let micro = catalog.find("t2.micro").unwrap();
        SimConfig {
            usd_per_hour: Some(micro.usd_per_hour),
            credits: CreditModel::for_type(micro, Some(mode)),
            ..config(60)
        }
    }

    #[test]
    fn a_t2_micro_at_100_percent_cpu_runs_out_of_credits_and_is_held_to_its_baseline() {
        // One instance (min = max = 1), 1 % CPU per rpm, 100 rpm for 4 h: 100 % CPU from a full
        // balance of 144 credits. It spends 60 credits an hour and earns 6: 144 / 54 = 2 h 40 min =
        // 9,600 s at 100 %; the last 4,800 s at the 10 % baseline, serving 10 rpm of the 100:
        // 90 x 80 min = 7,200 requests unserved. Mean CPU (100 x 160 + 10 x 80) / 240 = 70 %.
        let shape = Shape::constant(100.0, Duration::from_secs(4 * 3600));
        let model = LinearCapacity::new(1.0, 0.0).unwrap();
        let fixed = Policy::from_yaml(
            "min: 1\nmax: 1\nbeanstalk:\n  upper_threshold: 60\n  lower_threshold: 20\n",
        )
        .unwrap();
        for step in [60, 420] {
            let config = SimConfig {
                step: Duration::from_secs(step),
                ..t2_micro(crate::CreditMode::Standard)
            };
            let result = simulate(&shape, &model, &fixed, &config).unwrap();
            let s = result.summary;
            assert!(
                (s.throttled_seconds - 4_800.0).abs() < 1e-6,
                "step {step}: {s:?}"
            );
            assert!(
                (s.unserved_requests - 7_200.0).abs() < 1e-6,
                "step {step}: {s:?}"
            );
            assert!((s.mean_cpu - 70.0).abs() < 1e-9, "step {step}: {s:?}");
            assert_eq!((s.max_cpu, s.surplus_credits), (100.0, 0.0));
            // 4 h x $0.0116, no credit charge in standard mode.
            assert!((s.cost.unwrap() - 4.0 * 0.0116).abs() < 1e-12);
        }
        let result = simulate(
            &shape,
            &model,
            &fixed,
            &t2_micro(crate::CreditMode::Standard),
        )
        .unwrap();
        // Minute 160 is the first held to the baseline; its balance is 0.
        let near = |a: Option<f64>, b: f64| (a.unwrap() - b).abs() < 1e-6;
        assert!(near(result.timeline[159].cpu_percent, 100.0));
        assert!(near(result.timeline[160].cpu_percent, 10.0));
        assert!(near(Some(result.timeline[160].throttled_seconds), 60.0));
        assert!(near(result.timeline[160].credit_balance, 0.0));
        // On CPU the policy looks fine: it never scales, and its CPU falls to 10 %.

        // Unlimited: no throttling; 4,800 s x 54 credits an hour = 72 surplus credits, outstanding at
        // the end and charged: 72 / 60 vCPU-hours x $0.05 = $0.06 on top of 4 h x $0.0116.
        let unlimited = simulate(
            &shape,
            &model,
            &fixed,
            &t2_micro(crate::CreditMode::Unlimited),
        )
        .unwrap();
        let s = unlimited.summary;
        assert_eq!((s.throttled_seconds, s.unserved_requests), (0.0, 0.0));
        assert!((s.surplus_credits - 72.0).abs() < 1e-9, "{s:?}");
        assert!((s.cost.unwrap() - (4.0 * 0.0116 + 0.06)).abs() < 1e-12);
    }
}
