//! What a fleet used over a period: its instances' lifetimes and the requests it served. Built from
//! a simulated timeline or a live cluster's per-second counts, and priced by [`crate::quote`].

use crate::CapacityError;
use crate::billing::{InstanceLifetime, ScaleInOrder, billed_seconds, lifetimes_from_changes};

/// A fleet's instance lifetimes over `[0, seconds)` and the requests it served.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub seconds: f64,
    pub lifetimes: Vec<InstanceLifetime>,
    pub served_requests: f64,
}

impl Usage {
    /// From `(seconds, launched, terminated)` changes (the instances at 0 are launched at 0), removing
    /// instances in `order`; instances still running at `end` are billed until `end`. Fleets beyond
    /// [`crate::MAX_INSTANCES`] or [`crate::MAX_LAUNCHES`] are refused.
    pub fn from_changes(
        changes: impl IntoIterator<Item = (f64, u32, u32)>,
        end: f64,
        order: ScaleInOrder,
        served_requests: f64,
    ) -> Result<Self, CapacityError> {
        Ok(Self {
            seconds: end,
            lifetimes: lifetimes_from_changes(changes, end, order)?,
            served_requests,
        })
    }

    /// From fleet sizes sampled at increasing times: `(t, n)` means `n` instances from `t` to the
    /// next sample (or `end`). A rise launches instances, a fall terminates them in `order`.
    pub fn from_counts(
        counts: impl IntoIterator<Item = (f64, u32)>,
        end: f64,
        order: ScaleInOrder,
        served_requests: f64,
    ) -> Result<Self, CapacityError> {
        let mut previous = 0;
        let changes = counts.into_iter().map(|(at, count)| {
            let change = (
                at,
                count.saturating_sub(previous),
                previous.saturating_sub(count),
            );
            previous = count;
            change
        });
        Self::from_changes(changes, end, order, served_requests)
    }

    /// Hours the period lasts.
    pub fn hours(&self) -> f64 {
        self.seconds / 3600.0
    }

    /// Billed instance-hours: per second, at least [`crate::BILLING_MINIMUM`] per launch.
    pub fn instance_hours(&self) -> f64 {
        billed_seconds(&self.lifetimes) / 3600.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_become_launches_and_terminations() {
        // 2 from 0, 3 from 10 s, 1 from 20 s, to 30 s: newest first removes the one launched at 10 s
        // and one launched at 0: lifetimes 0-30, 0-20, 10-20 = 30 + 20 + 10 = 60 s, each billed 60 s.
        let usage = Usage::from_counts(
            [(0.0, 2), (10.0, 3), (20.0, 1)],
            30.0,
            ScaleInOrder::Newest,
            5.0,
        )
        .unwrap();
        assert_eq!(usage.lifetimes.len(), 3);
        assert!((usage.instance_hours() - 180.0 / 3600.0).abs() < 1e-12);
        let long =
            Usage::from_counts([(0.0, 1), (3600.0, 2)], 7200.0, ScaleInOrder::Oldest, 0.0).unwrap();
        assert_eq!(long.instance_hours(), 3.0);
        assert_eq!(long.hours(), 2.0);
    }
}
