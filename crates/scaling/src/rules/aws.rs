//! An EC2 Auto Scaling group with any of simple, step and target tracking policies (or Elastic
//! Beanstalk's two triggers, which are simple policies).
//!
//! Every policy reads each observation; those whose alarms are in ALARM propose a capacity. When
//! several fire together, AWS carries out the one giving the largest capacity, on scale-out and on
//! scale-in alike (User Guide, "Dynamic scaling", multiple policies; notes `aws.md` A4): +1 vs +2
//! gives +2; on 8 instances, -3 vs -25 % (-2) gives -2. So a scale-out beats a scale-in, and the
//! order of policies in the file does not matter (equal capacities go to the proposal holding the
//! group longer: the longer cooldown or warm-up). Target tracking policies scale in only when every
//! one of them that may scale in wants to (A3); their proposal is then the largest of theirs.
//!
//! Instances launched by step and target tracking policies warm up for the acting policy's warm-up
//! after start-up; they count as already added, and block step and target tracking scale-in (A1).

use std::time::Duration;

use crate::Observation;
use crate::policy::{Beanstalk, SimpleScaling, StepScaling, TargetTracking};
use crate::rules::simple::SimplePolicies;
use crate::rules::step::StepPolicy;
use crate::rules::target_tracking::TrackingPolicy;
use crate::rules::{Candidate, Change, Limits, Then, Warming};

#[derive(Debug, Clone)]
pub struct AwsGroup {
    simple: SimplePolicies,
    step: Vec<StepPolicy>,
    tracking: Vec<TrackingPolicy>,
    warming: Warming,
    startup: Duration,
}

impl AwsGroup {
    pub fn new(
        simple: &[SimpleScaling],
        step: &[StepScaling],
        tracking: &[TargetTracking],
        startup: Duration,
    ) -> Self {
        Self {
            simple: SimplePolicies::new(simple),
            step: step
                .iter()
                .enumerate()
                .map(|(i, p)| StepPolicy::new(i, p))
                .collect(),
            tracking: tracking
                .iter()
                .enumerate()
                .map(|(i, p)| TrackingPolicy::new(i, p))
                .collect(),
            warming: Warming::default(),
            startup,
        }
    }

    /// Beanstalk's upper and lower triggers.
    pub fn beanstalk(beanstalk: &Beanstalk) -> Self {
        Self {
            simple: SimplePolicies::beanstalk(beanstalk),
            step: Vec::new(),
            tracking: Vec::new(),
            warming: Warming::default(),
            startup: Duration::ZERO,
        }
    }

    pub fn evaluate(
        &mut self,
        now: Duration,
        observation: &Observation,
        limits: Limits,
    ) -> Option<Change> {
        let (in_service, pending) = observation.counts();
        let current = in_service + pending;
        self.simple.observe(now, observation, pending);
        for policy in &mut self.step {
            policy.observe(now, observation);
        }
        for policy in &mut self.tracking {
            policy.observe(now, observation);
        }
        let warming = self.warming.count(now, current);
        let winner = self
            .candidates(current, in_service, warming, limits)
            .reduce(|best, next| {
                if (next.desired, next.then.hold()) > (best.desired, best.then.hold()) {
                    next
                } else {
                    best
                }
            })?;
        match winner.then {
            Then::Simple { cooldown } => {
                self.simple.started(now, winner.desired > current, cooldown)
            }
            Then::WarmUp(warmup) => self
                .warming
                .launched(now + self.startup + warmup, winner.desired - current),
            Then::Nothing => {}
        }
        Some(Change {
            desired: winner.desired,
            reason: winner.reason,
        })
    }

    /// Every policy's proposal: simple ones unless blocked, step ones, target tracking scale-outs,
    /// and a target tracking scale-in only when all that may scale in agree.
    fn candidates(
        &self,
        current: u32,
        in_service: u32,
        warming: u32,
        limits: Limits,
    ) -> impl Iterator<Item = Candidate> + '_ {
        let simple = self.simple.candidates(current, limits);
        let step = self
            .step
            .iter()
            .filter_map(move |p| p.candidate(current, warming, limits));
        let out = self
            .tracking
            .iter()
            .filter_map(move |p| p.scale_out(current, in_service, limits));
        let voters: Vec<&TrackingPolicy> =
            self.tracking.iter().filter(|p| p.may_scale_in()).collect();
        let ins: Vec<Candidate> = voters
            .iter()
            .filter_map(|p| p.scale_in(current, in_service, limits))
            .collect();
        let tracking_in = (warming == 0 && !voters.is_empty() && ins.len() == voters.len())
            .then(|| ins.into_iter().max_by_key(|c| c.desired))
            .flatten();
        simple.chain(step).chain(out).chain(tracking_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alarm::{AlarmConfig, Comparison};
    use crate::policy::StepAdjustment;
    use crate::{AdjustmentType, Metric, Statistic};
    use AdjustmentType::*;
    use Comparison::*;

    fn alarm(threshold: f64, comparison: Comparison) -> AlarmConfig {
        AlarmConfig {
            metric: Metric::Cpu,
            statistic: Statistic::Average,
            threshold,
            comparison,
            period: Duration::from_secs(60),
            evaluation_periods: 1,
            datapoints_to_alarm: None,
        }
    }

    fn simple(
        threshold: f64,
        comparison: Comparison,
        kind: AdjustmentType,
        by: f64,
    ) -> SimpleScaling {
        SimpleScaling {
            alarm: alarm(threshold, comparison),
            adjustment_type: kind,
            adjustment: by,
            min_adjustment_magnitude: None,
            cooldown: Duration::from_secs(300),
        }
    }

    fn steps(
        threshold: f64,
        comparison: Comparison,
        kind: AdjustmentType,
        list: &[(Option<f64>, Option<f64>, f64)],
    ) -> StepScaling {
        StepScaling {
            alarm: alarm(threshold, comparison),
            adjustment_type: kind,
            steps: list
                .iter()
                .map(|&(lower, upper, adjustment)| StepAdjustment {
                    lower,
                    upper,
                    adjustment,
                })
                .collect(),
            min_adjustment_magnitude: None,
            warmup: Duration::from_secs(300),
        }
    }

    /// The User Guide's step example: at or above 50 %, +10 % / +20 % / +30 % from breaches 0 / 10 /
    /// 20; at or below 50 %, -10 % for (-20, -10] and -30 % from -20 down.
    fn guide_out() -> StepScaling {
        steps(
            50.0,
            GreaterThanOrEqual,
            PercentChangeInCapacity,
            &[
                (Some(0.0), Some(10.0), 10.0),
                (Some(10.0), Some(20.0), 20.0),
                (Some(20.0), None, 30.0),
            ],
        )
    }

    fn guide_in() -> StepScaling {
        steps(
            50.0,
            LessThanOrEqual,
            PercentChangeInCapacity,
            &[
                (Some(-20.0), Some(-10.0), -10.0),
                (None, Some(-20.0), -30.0),
            ],
        )
    }

    /// Target tracking deciding on one datapoint each way, so one observation shows it.
    fn tracking(target: f64, disable_scale_in: bool) -> TargetTracking {
        TargetTracking {
            metric: Metric::Cpu,
            target,
            warmup: Duration::from_secs(300),
            disable_scale_in,
            period: Duration::from_secs(60),
            scale_out_datapoints: 1,
            scale_in_datapoints: 1,
            scale_in_below: 0.9,
        }
    }

    struct Case {
        name: &'static str,
        simple: Vec<SimpleScaling>,
        step: Vec<StepScaling>,
        tracking: Vec<TargetTracking>,
        in_service: u32,
        cpu: f64,
        expected: Option<u32>,
    }

    fn case(name: &'static str, in_service: u32, cpu: f64, expected: Option<u32>) -> Case {
        Case {
            name,
            simple: vec![],
            step: vec![],
            tracking: vec![],
            in_service,
            cpu,
            expected,
        }
    }

    impl Case {
        fn simple(mut self, policy: SimpleScaling) -> Self {
            self.simple.push(policy);
            self
        }
        fn step(mut self, policy: StepScaling) -> Self {
            self.step.push(policy);
            self
        }
        fn tracking(mut self, policy: TargetTracking) -> Self {
            self.tracking.push(policy);
            self
        }
    }

    /// Min 1, max 20; each case is one observation at the end of the first minute.
    #[test]
    fn table_of_hand_computed_decisions() {
        let cases = vec![
            case("+1 above 70 at 90: 4 + 1", 4, 90.0, Some(5)).simple(simple(
                70.0,
                GreaterThan,
                ChangeInCapacity,
                1.0,
            )),
            case(
                "+1 and +2 both in ALARM: the larger capacity, 4 + 2",
                4,
                90.0,
                Some(6),
            )
            .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0))
            .simple(simple(80.0, GreaterThan, ChangeInCapacity, 2.0)),
            case(
                "the same two listed the other way round: still 6",
                4,
                90.0,
                Some(6),
            )
            .simple(simple(80.0, GreaterThan, ChangeInCapacity, 2.0))
            .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0)),
            case(
                "on 8, -3 vs -25 % (-2): the one removing least, 8 - 2",
                8,
                10.0,
                Some(6),
            )
            .simple(simple(30.0, LessThan, ChangeInCapacity, -3.0))
            .simple(simple(30.0, LessThan, PercentChangeInCapacity, -25.0)),
            case(
                "a scale-out and a scale-in both in ALARM: the larger, 4 + 1",
                4,
                90.0,
                Some(5),
            )
            .simple(simple(95.0, LessThan, ChangeInCapacity, -1.0))
            .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0)),
            case("exact capacity 7 beats +1 (5)", 4, 90.0, Some(7))
                .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0))
                .simple(simple(70.0, GreaterThan, ExactCapacity, 7.0)),
            case("+10 % of 10 = 1: 11", 10, 90.0, Some(11)).simple(simple(
                70.0,
                GreaterThan,
                PercentChangeInCapacity,
                10.0,
            )),
            case("+5 on 18 is clamped to max 20", 18, 90.0, Some(20)).simple(simple(
                70.0,
                GreaterThan,
                ChangeInCapacity,
                5.0,
            )),
            case("-5 on 3 is clamped to min 1", 3, 10.0, Some(1)).simple(simple(
                30.0,
                LessThan,
                ChangeInCapacity,
                -5.0,
            )),
            case("50 % is between 30 and 70: nothing", 4, 50.0, None)
                .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0))
                .simple(simple(30.0, LessThan, ChangeInCapacity, -1.0)),
            case("70 % is not above 70: nothing", 4, 70.0, None).simple(simple(
                70.0,
                GreaterThan,
                ChangeInCapacity,
                1.0,
            )),
            case(
                "step at exactly 50 (breach 0, lower bound inclusive): +10 % of 10",
                10,
                50.0,
                Some(11),
            )
            .step(guide_out()),
            case(
                "step at 60 (breach 10, upper bound exclusive): +20 % of 10",
                10,
                60.0,
                Some(12),
            )
            .step(guide_out()),
            case("step at 75 (breach 25): +30 % of 10", 10, 75.0, Some(13)).step(guide_out()),
            case(
                "step at 40 (breach -10, upper bound inclusive below): -10 % of 10",
                10,
                40.0,
                Some(9),
            )
            .step(guide_in()),
            case("step at 30 (breach -20): -30 % of 10", 10, 30.0, Some(7)).step(guide_in()),
            case(
                "step at 45 (breach -5): no step covers (-10, 0)",
                10,
                45.0,
                None,
            )
            .step(guide_in()),
            case(
                "<= 50 at exactly 50 falls in (-10, 0]: -1",
                10,
                50.0,
                Some(9),
            )
            .step(steps(
                50.0,
                LessThanOrEqual,
                ChangeInCapacity,
                &[(Some(-10.0), Some(0.0), -1.0), (None, Some(-10.0), -2.0)],
            )),
            case(
                "target tracking 50 at 90 on 4: ceil(4 x 90 / 50) = ceil(7.2) = 8",
                4,
                90.0,
                Some(8),
            )
            .tracking(tracking(50.0, false)),
            case(
                "two target trackings scale out if either wants: 8 (50) vs 5 (80)",
                4,
                90.0,
                Some(8),
            )
            .tracking(tracking(80.0, false))
            .tracking(tracking(50.0, false)),
            case(
                "scale-in only if all agree: 30 on 4 wants ceil(2.4) = 3 (50), 4 (35): none",
                4,
                30.0,
                None,
            )
            .tracking(tracking(50.0, false))
            .tracking(tracking(35.0, false)),
            case(
                "all agree: 20 on 10 wants 4 (50) and 5 (40): the one removing least",
                10,
                20.0,
                Some(5),
            )
            .tracking(tracking(50.0, false))
            .tracking(tracking(40.0, false)),
            case(
                "a policy with scale-in disabled has no vote: 4 (50)",
                10,
                20.0,
                Some(4),
            )
            .tracking(tracking(50.0, false))
            .tracking(tracking(40.0, true)),
            case(
                "only scale-in-disabled policies: no scale-in",
                10,
                20.0,
                None,
            )
            .tracking(tracking(50.0, true)),
            case("simple +1 (5) and target tracking (8): 8", 4, 90.0, Some(8))
                .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0))
                .tracking(tracking(50.0, false)),
            case(
                "step +30 % (13) and simple +1 (11) on 10 at 75: 13",
                10,
                75.0,
                Some(13),
            )
            .simple(simple(70.0, GreaterThan, ChangeInCapacity, 1.0))
            .step(guide_out()),
            case(
                "simple -1 (9) and target tracking in (4) on 10 at 20: 9",
                10,
                20.0,
                Some(9),
            )
            .simple(simple(30.0, LessThan, ChangeInCapacity, -1.0))
            .tracking(tracking(50.0, false)),
        ];
        let limits = Limits { min: 1, max: 20 };
        for case in cases {
            let mut group = AwsGroup::new(&case.simple, &case.step, &case.tracking, Duration::ZERO);
            let observation = Observation::uniform(case.in_service, 0, Some(case.cpu));
            let got = group
                .evaluate(Duration::from_secs(60), &observation, limits)
                .map(|change| change.desired);
            assert_eq!(got, case.expected, "{}", case.name);
        }
    }

    #[test]
    fn a_simple_policy_that_loses_starts_no_cooldown() {
        // At 60 s, 4 at 90 %: simple +1 above 55 % gives 5, target tracking 60 gives
        // ceil(4 x 90 / 60) = 6, which wins.
        let mut group = AwsGroup::new(
            &[simple(55.0, GreaterThan, ChangeInCapacity, 1.0)],
            &[],
            &[tracking(60.0, false)],
            Duration::ZERO,
        );
        let limits = Limits { min: 1, max: 20 };
        let first = Observation::uniform(4, 0, Some(90.0));
        let change = group
            .evaluate(Duration::from_secs(60), &first, limits)
            .unwrap();
        assert_eq!(change.desired, 6);
        assert!(
            change.reason.starts_with("target_tracking[0]"),
            "{}",
            change.reason
        );
        // At 120 s, 6 at 58 %: target tracking is content (58 is neither above 60 nor below 54);
        // the simple policy never acted, so no cooldown holds it: 6 + 1 = 7.
        let second = Observation::uniform(6, 0, Some(58.0));
        let change = group
            .evaluate(Duration::from_secs(120), &second, limits)
            .unwrap();
        assert_eq!(change.desired, 7);
        assert!(change.reason.starts_with("simple[0]"), "{}", change.reason);
    }
}
