//! The split rule of a test run by several load generators: one place for it, used by the engine for
//! its shards (processes) and for the loader threads within each.
//!
//! Items of a scenario (virtual users, arrivals, iterations) are numbered from 0 and dealt
//! round-robin: item `k` belongs to shard `k % count`. Shard `i` of `n` split again into `t` of `T`
//! (its loader threads) is the lane `i + n·t` of `n·T`, so the rule composes and every item belongs to
//! exactly one lane of the whole test.

use std::fmt;
use std::str::FromStr;

use crate::{Arrivals, ShapeError};

/// Most shards (or lanes) a test may be split into.
pub const MAX_SHARDS: u64 = 1 << 20;

/// Shard `index` of `count`: owns every item `k` with `k % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl Shard {
    /// The whole test, unsplit.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Shard `index` of `count` (`index < count <= MAX_SHARDS`).
    pub fn new(index: u64, count: u64) -> Result<Self, ShapeError> {
        if count == 0 || count > MAX_SHARDS {
            return Err(ShapeError::Invalid(format!(
                "the number of shards must be between 1 and {MAX_SHARDS}, not {count}"
            )));
        }
        if index >= count {
            return Err(ShapeError::Invalid(format!(
                "shard {index} of {count} does not exist: shards count from 0 to {}",
                count - 1
            )));
        }
        Ok(Self { index, count })
    }

    pub fn index(self) -> u64 {
        self.index
    }

    pub fn count(self) -> u64 {
        self.count
    }

    /// Whether item `k` is this shard's.
    pub fn owns(self, k: u64) -> bool {
        k % self.count == self.index
    }

    /// How many of the items `0..total` are this shard's: `total / count`, plus one for the first
    /// `total % count` shards. The shares of all shards add up to `total`.
    pub fn share(self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// This shard's part of a schedule's `rate` (arrivals per second): arrivals are dealt round
    /// robin, so over any stretch of many arrivals it sends one in `count`.
    pub fn rate_share(self, rate: f64) -> f64 {
        rate / self.count as f64
    }

    /// The number, in the whole test, of this shard's `local`-th item.
    pub fn global(self, local: u64) -> u64 {
        local * self.count + self.index
    }

    /// Part `index` of `count` of this shard's items (e.g. a loader thread of a shard process).
    pub fn split(self, index: u64, count: u64) -> Self {
        Self {
            index: self.index + self.count * index,
            count: self.count * count,
        }
    }

    /// This shard's arrivals of a rate shape, at their unsharded times: arrival `k` when `owns(k)`.
    pub fn arrivals(self, arrivals: Arrivals<'_>) -> impl Iterator<Item = f64> + '_ {
        arrivals
            .skip(self.index as usize)
            .step_by(self.count as usize)
    }

    /// This shard's part of `iterations` shared by `vus` VUs (k6 `shared-iterations`): the
    /// iterations are dealt to the VUs round-robin, and a shard takes those of its own VUs. So the
    /// parts add up to `iterations`, and a shard without VUs gets none (none are lost).
    pub fn shared_iterations(self, vus: u64, iterations: u64) -> u64 {
        if vus == 0 {
            return self.share(iterations);
        }
        self.share(vus) * (iterations / vus) + self.share(iterations % vus)
    }

    /// This shard's limit of VUs out of a plan's `max` (k6 `maxVUs`): its share, but at least one
    /// when the plan allows any, so no shard must drop every arrival it is dealt. Above `count`
    /// the limits add up to `max`; below, to `count`.
    pub fn vu_limit(self, max: u64) -> u64 {
        if max == 0 { 0 } else { self.share(max).max(1) }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShapeError;

    /// `I/N`: shard `I` (from 0) of `N`.
    fn from_str(text: &str) -> Result<Self, ShapeError> {
        let invalid = || {
            ShapeError::Invalid(format!(
                "shard '{text}': expected I/N, shard I (from 0) of N, e.g. 0/4"
            ))
        };
        let (index, count) = text.trim().split_once('/').ok_or_else(invalid)?;
        let number = |s: &str| s.trim().parse::<u64>().map_err(|_| invalid());
        Self::new(number(index)?, number(count)?)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Shape;

    #[test]
    fn parses_and_bounds() {
        assert_eq!("2/5".parse::<Shard>().unwrap(), Shard::new(2, 5).unwrap());
        assert_eq!(Shard::new(2, 5).unwrap().to_string(), "2/5");
        for bad in ["5/5", "1/0", "x/2", "3", "-1/2", "0/2000000"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_add_up_and_items_belong_once() {
        for count in 1..8 {
            for total in 0..40 {
                let shares: Vec<u64> = (0..count)
                    .map(|i| Shard::new(i, count).unwrap().share(total))
                    .collect();
                assert_eq!(shares.iter().sum::<u64>(), total);
                // Hand rule: 10 over 4 shards is 3, 3, 2, 2.
                if (total, count) == (10, 4) {
                    assert_eq!(shares, [3, 3, 2, 2]);
                }
                for i in 0..count {
                    let shard = Shard::new(i, count).unwrap();
                    let owned: Vec<u64> = (0..total).filter(|&k| shard.owns(k)).collect();
                    let dealt: Vec<u64> =
                        (0..shard.share(total)).map(|l| shard.global(l)).collect();
                    assert_eq!(owned, dealt);
                }
            }
        }
    }

    #[test]
    fn split_composes_into_lanes() {
        // Shard 1 of 3 owns 1, 4, 7, 10, …; its thread 1 of 2 owns every other one: 4, 10, 16.
        let lane = Shard::new(1, 3).unwrap().split(1, 2);
        assert_eq!(lane, Shard::new(4, 6).unwrap());
        let owned: Vec<u64> = (0..20).filter(|&k| lane.owns(k)).collect();
        assert_eq!(owned, [4, 10, 16]);
    }

    #[test]
    fn shared_iterations_follow_the_vus() {
        // 10 iterations over 3 VUs: VU 0 takes 4, VUs 1 and 2 take 3. Two shards: VUs {0, 2}, {1}.
        assert_eq!(Shard::new(0, 2).unwrap().shared_iterations(3, 10), 7);
        assert_eq!(Shard::new(1, 2).unwrap().shared_iterations(3, 10), 3);
        // One VU over three shards: shard 0 takes all.
        let parts: Vec<u64> = (0..3)
            .map(|i| Shard::new(i, 3).unwrap().shared_iterations(1, 10))
            .collect();
        assert_eq!(parts, [10, 0, 0]);
        for count in 1..8 {
            for vus in 0..12 {
                for iterations in 0..30 {
                    let sum: u64 = (0..count)
                        .map(|i| {
                            Shard::new(i, count)
                                .unwrap()
                                .shared_iterations(vus, iterations)
                        })
                        .sum();
                    assert_eq!(
                        sum, iterations,
                        "{vus} VUs, {iterations} iterations, {count}"
                    );
                }
            }
        }
    }

    #[test]
    fn vu_limits_give_every_shard_one() {
        let limits: Vec<u64> = (0..4)
            .map(|i| Shard::new(i, 4).unwrap().vu_limit(2))
            .collect();
        assert_eq!(limits, [1, 1, 1, 1]);
        let limits: Vec<u64> = (0..4)
            .map(|i| Shard::new(i, 4).unwrap().vu_limit(10))
            .collect();
        assert_eq!(limits, [3, 3, 2, 2]);
        assert_eq!(Shard::new(3, 4).unwrap().vu_limit(0), 0);
    }

    #[test]
    fn arrivals_keep_their_times() {
        // 10/s for 1 s: arrivals at 0.0, 0.1, …, 0.9; shard 1 of 3 takes 0.1, 0.4, 0.7.
        let shape = Shape::constant(10.0, Duration::from_secs(1));
        let times: Vec<f64> = Shard::new(1, 3)
            .unwrap()
            .arrivals(Arrivals::new(&shape))
            .collect();
        assert_eq!(times.len(), 3);
        for (t, expected) in times.iter().zip([0.1, 0.4, 0.7]) {
            assert!((t - expected).abs() < 1e-9, "{times:?}");
        }
    }
}
