//! Billing: per-second billing of instance lifetimes with a minimum per launch, and the figures derived
//! from a cost (saving against a fixed fleet, cost per million requests).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::{CapacityError, MAX_INSTANCES, MAX_LAUNCHES};

/// Seconds billed at least for every launch (EC2 per-second billing has a 60 s minimum).
pub const BILLING_MINIMUM: f64 = 60.0;

/// One instance, billed from launch (pending included) to termination, in seconds since the start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceLifetime {
    pub launched: f64,
    pub terminated: f64,
}

impl InstanceLifetime {
    /// Seconds billed: the lifetime's length, but at least [`BILLING_MINIMUM`].
    pub fn billed_seconds(&self) -> f64 {
        (self.terminated - self.launched).max(BILLING_MINIMUM)
    }
}

/// Which instances a scale-in removes first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleInOrder {
    /// The most recently launched first (pending ones before any in service), as Kubernetes does.
    #[default]
    Newest,
    /// The longest running first.
    Oldest,
}

impl ScaleInOrder {
    /// Removes one instance from `fleet` (oldest first) in this order.
    pub fn remove<T>(self, fleet: &mut VecDeque<T>) -> Option<T> {
        match self {
            Self::Newest => fleet.pop_back(),
            Self::Oldest => fleet.pop_front(),
        }
    }
}

/// Seconds billed for `lifetimes`: each one's length, but at least [`BILLING_MINIMUM`].
pub fn billed_seconds(lifetimes: &[InstanceLifetime]) -> f64 {
    lifetimes.iter().map(InstanceLifetime::billed_seconds).sum()
}

/// Rebuilds instance lifetimes from a timeline of `(seconds, launched, terminated)` rows, removing
/// instances in `order`; instances still running at `end` are billed until `end`. More than
/// [`MAX_INSTANCES`] at once or [`MAX_LAUNCHES`] in all is refused before it is allocated.
pub fn lifetimes_from_changes(
    changes: impl IntoIterator<Item = (f64, u32, u32)>,
    end: f64,
    order: ScaleInOrder,
) -> Result<Vec<InstanceLifetime>, CapacityError> {
    bounded_lifetimes(changes, end, order, MAX_INSTANCES as usize, MAX_LAUNCHES)
}

fn bounded_lifetimes(
    changes: impl IntoIterator<Item = (f64, u32, u32)>,
    end: f64,
    order: ScaleInOrder,
    max_instances: usize,
    max_launches: usize,
) -> Result<Vec<InstanceLifetime>, CapacityError> {
    let mut running = VecDeque::new();
    let mut lifetimes = Vec::new();
    for (at, launched, terminated) in changes {
        for _ in 0..terminated.min(running.len() as u32) {
            if let Some(launched) = order.remove(&mut running) {
                lifetimes.push(InstanceLifetime {
                    launched,
                    terminated: at,
                });
            }
        }
        let launched = launched as usize;
        if running.len() + launched > max_instances {
            return Err(CapacityError::Invalid(format!(
                "{} instances at once at {at} s: more than {max_instances}",
                running.len() + launched
            )));
        }
        if lifetimes.len() + running.len() + launched > max_launches {
            return Err(CapacityError::Invalid(format!(
                "more than {max_launches} instance launches by {at} s"
            )));
        }
        running.extend(std::iter::repeat_n(at, launched));
    }
    lifetimes.extend(running.into_iter().map(|launched| InstanceLifetime {
        launched,
        terminated: end,
    }));
    Ok(lifetimes)
}

/// How much cheaper `dynamic` is than `fixed`, in percent of `fixed`.
pub fn saving_percent(fixed: f64, dynamic: f64) -> f64 {
    if fixed > 0.0 {
        (fixed - dynamic) / fixed * 100.0
    } else {
        0.0
    }
}

/// Cost per million requests served, when any were.
pub fn cost_per_million(cost: f64, requests: f64) -> Option<f64> {
    (requests > 0.0).then(|| cost / requests * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_second_billing_with_a_minute_minimum() {
        let lifetimes = [
            InstanceLifetime {
                launched: 0.0,
                terminated: 3600.0,
            },
            InstanceLifetime {
                launched: 100.0,
                terminated: 110.0,
            },
        ];
        assert_eq!(billed_seconds(&lifetimes), 3660.0);
    }

    #[test]
    fn lifetimes_follow_the_scale_in_order() {
        // Two at 0, one more at 60, one removed at 120, the rest run to 180.
        let changes = [(0.0, 2, 0), (60.0, 1, 0), (120.0, 0, 1)];
        let newest = lifetimes_from_changes(changes, 180.0, ScaleInOrder::Newest).unwrap();
        // The one launched at 60 lives 60 s; the first two 180 s each.
        assert_eq!(billed_seconds(&newest), 60.0 + 180.0 * 2.0);
        let oldest = lifetimes_from_changes(changes, 180.0, ScaleInOrder::Oldest).unwrap();
        // One of the first two lives 120 s, the other 180 s, the late one 120 s.
        assert_eq!(billed_seconds(&oldest), 120.0 + 180.0 + 120.0);
    }

    #[test]
    fn fleets_beyond_the_bounds_are_refused_before_they_are_allocated() {
        // 4e9 instances at once would take 32 GB of launch times.
        let error = lifetimes_from_changes([(0.0, 4_000_000_000, 0)], 60.0, ScaleInOrder::Newest)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("4000000000 instances at once at 0 s"),
            "{error}"
        );
        // The same bounds, smaller: 100 at once, 1,000 launches.
        let bounded = |changes: &[(f64, u32, u32)]| {
            bounded_lifetimes(
                changes.iter().copied(),
                660.0,
                ScaleInOrder::Oldest,
                100,
                1000,
            )
        };
        assert_eq!(bounded(&[(0.0, 100, 0)]).unwrap().len(), 100);
        assert!(bounded(&[(0.0, 100, 0), (60.0, 1, 0)]).is_err());
        // A fleet that launches and ends its whole size at every step runs out of launches.
        let churn: Vec<_> = (0..11).map(|i| (f64::from(i) * 60.0, 100, 100)).collect();
        assert_eq!(bounded(&churn[..10]).unwrap().len(), 1000);
        let error = bounded(&churn).unwrap_err().to_string();
        assert!(
            error.contains("more than 1000 instance launches by 600 s"),
            "{error}"
        );
    }

    #[test]
    fn saving_and_cost_per_million() {
        assert!((saving_percent(467.712, 227.1744) - 51.428_571_428_571).abs() < 1e-9);
        assert_eq!(cost_per_million(2.0, 4_000_000.0), Some(0.5));
        assert_eq!(cost_per_million(2.0, 0.0), None);
    }
}
