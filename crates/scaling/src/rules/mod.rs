//! The running state of each kind of rule. Each reads one observation and proposes a new capacity
//! (within the limits) only when it differs from the current one.

pub mod aws;
pub mod hpa;
pub mod hpa_replicas;
pub mod simple;
pub mod step;
pub mod target_tracking;

use std::collections::VecDeque;
use std::time::Duration;

/// Fewest and most instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub min: u32,
    pub max: u32,
}

impl Limits {
    pub fn clamp(self, capacity: i64) -> u32 {
        capacity.clamp(i64::from(self.min), i64::from(self.max)) as u32
    }
}

/// A rule's proposal: the new capacity and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub desired: u32,
    pub reason: String,
}

/// One AWS policy's proposal, before the group picks among them ([`aws::AwsGroup`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub desired: u32,
    pub reason: String,
    /// What the group remembers if this proposal is carried out.
    pub then: Then,
}

/// What carrying out a proposal starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Then {
    /// A simple policy's activity, blocking simple scaling until it completes and its cooldown
    /// passes.
    Simple { cooldown: Duration },
    /// Launched instances warm up for this long after start-up (step and target tracking).
    WarmUp(Duration),
    /// Nothing (a step or target tracking scale-in).
    Nothing,
}

impl Then {
    /// How long the proposal holds the group: the tie-break between equal capacities, so that the
    /// order of policies in the file never matters.
    fn hold(&self) -> Duration {
        match self {
            Self::Simple { cooldown } => *cooldown,
            Self::WarmUp(warmup) => *warmup,
            Self::Nothing => Duration::ZERO,
        }
    }
}

/// Instances launched by a rule that still warm up: `(warm at, count)`, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Warming {
    launches: VecDeque<(Duration, u32)>,
}

impl Warming {
    /// Records `count` instances launched now that count fully from `warm_at`.
    pub fn launched(&mut self, warm_at: Duration, count: u32) {
        self.launches.push_back((warm_at, count));
    }

    /// Instances still warming at `now` (at most `capacity`, since some may have been removed).
    pub fn count(&mut self, now: Duration, capacity: u32) -> u32 {
        while self
            .launches
            .front()
            .is_some_and(|(warm_at, _)| *warm_at <= now)
        {
            self.launches.pop_front();
        }
        self.launches
            .iter()
            .map(|(_, count)| count)
            .sum::<u32>()
            .min(capacity)
    }
}
