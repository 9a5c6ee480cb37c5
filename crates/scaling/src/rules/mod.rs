//! The running state of each kind of rule. Each `evaluate` reads one observation and proposes a new
//! capacity (within the limits) only when it differs from the current one.

pub mod hpa;
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
