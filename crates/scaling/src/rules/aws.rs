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
        self.simple.observe(now, observation);
        for policy in &mut self.step {
            policy.observe(now, observation);
        }
        for policy in &mut self.tracking {
            policy.observe(now, observation);
        }
        let current = observation.capacity();
        let in_service = observation.in_service();
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
    ) -> impl Iterator<Item = Candidate> {
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
        simple.into_iter().chain(step).chain(out).chain(tracking_in)
    }
}
