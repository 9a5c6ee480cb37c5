//! The cheapest commitment mix for a fleet's usage: N reserved instances (or savings-plan hours) cover
//! the base of the fleet, paid for every hour of the period whether used or not; the instances above N
//! run on demand.

use crate::billing::BILLING_MINIMUM;
use crate::quote::Quote;
use crate::{InstanceType, Usage};

/// A reservation term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    OneYear,
    ThreeYears,
}

impl Term {
    pub fn label(self) -> &'static str {
        match self {
            Self::OneYear => "1-year",
            Self::ThreeYears => "3-year",
        }
    }

    /// The effective hourly price of one reservation of `instance` for this term, if the catalog has it.
    pub fn price(self, instance: &InstanceType) -> Option<f64> {
        match self {
            Self::OneYear => instance.reserved_1y,
            Self::ThreeYears => instance.reserved_3y,
        }
    }
}

/// The best number of reservations for a usage, and its price.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentMix {
    pub term: Term,
    pub reserved: u32,
    /// Instance-hours run on demand above the reserved base.
    pub on_demand_hours: f64,
    pub quote: Quote,
    /// The share of hours a reservation must be used to cost less than on demand: reserved ÷
    /// on-demand hourly price.
    pub break_even: f64,
}

/// Seconds the fleet in `usage` ran with exactly `k` instances, for every `k` up to the peak.
fn seconds_at_each_count(usage: &Usage) -> Vec<f64> {
    let mut events: Vec<(f64, i64)> = usage
        .lifetimes
        .iter()
        .flat_map(|l| [(l.launched, 1), (l.terminated, -1)])
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut at = Vec::new();
    let (mut count, mut since) = (0i64, 0.0);
    for (time, change) in events {
        if time > since {
            let k = count.max(0) as usize;
            if at.len() <= k {
                at.resize(k + 1, 0.0);
            }
            at[k] += time - since;
            since = time;
        }
        count += change;
    }
    at
}

/// For every base `b` of reserved instances from 0 to the peak, the instance-seconds above `b`:
/// `sum over k > b of (k - b) x seconds at k`, from the suffix sums of seconds and instance-seconds
/// (one pass from the top, so pricing a fleet is linear in its peak, not quadratic).
fn seconds_above_each_base(at_each_count: &[f64]) -> Vec<f64> {
    let mut above = vec![0.0; at_each_count.len().max(1)];
    let (mut seconds, mut instance_seconds) = (0.0, 0.0);
    for base in (0..above.len()).rev() {
        above[base] = instance_seconds - base as f64 * seconds;
        if let Some(&at) = at_each_count.get(base) {
            seconds += at;
            instance_seconds += base as f64 * at;
        }
    }
    above
}

/// The number of `term` reservations that makes `usage`, repeated `repeats` times, cheapest (ties go to
/// fewer reservations); `None` when the catalog has no price for the term.
pub fn cheapest_mix(
    instance: &InstanceType,
    usage: &Usage,
    repeats: f64,
    term: Term,
) -> Option<CommitmentMix> {
    let reserved_price = term.price(instance)?;
    let at_each = seconds_at_each_count(usage);
    let lived: f64 = usage
        .lifetimes
        .iter()
        .map(|l| l.terminated - l.launched)
        .sum();
    let billed: f64 = usage
        .lifetimes
        .iter()
        .map(|l| (l.terminated - l.launched).max(BILLING_MINIMUM))
        .sum();
    let top_up = billed - lived;
    let period_hours = usage.hours() * repeats;
    // The 60-second billing minimum of short launches is charged on demand: they sit at the top.
    let priced = |(base, above): (usize, f64)| {
        let on_demand_hours = (above + top_up) / 3600.0 * repeats;
        let cost =
            base as f64 * period_hours * reserved_price + on_demand_hours * instance.usd_per_hour;
        (base, on_demand_hours, cost)
    };
    // Fewer reservations win a tie (costs within rounding of each other).
    let (reserved, on_demand_hours, cost) = seconds_above_each_base(&at_each)
        .into_iter()
        .enumerate()
        .map(priced)
        .reduce(|best, next| {
            if next.2 < best.2 - 1e-9 * best.2.abs().max(1.0) {
                next
            } else {
                best
            }
        })?;
    let reserved = reserved as u32;
    Some(CommitmentMix {
        term,
        reserved,
        on_demand_hours,
        quote: Quote {
            what: format!(
                "{} x {} reserved {} + on demand above",
                reserved,
                instance.name,
                term.label()
            ),
            instance_hours: f64::from(reserved) * period_hours + on_demand_hours,
            cost,
            requests: Some(usage.served_requests * repeats),
        },
        break_even: if instance.usd_per_hour > 0.0 {
            reserved_price / instance.usd_per_hour
        } else {
            f64::INFINITY
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PriceCatalog, ScaleInOrder};

    fn small() -> InstanceType {
        PriceCatalog::parse(
            "instance_type,vcpus,memory_gib,usd_per_hour,reserved_1y,reserved_3y\nsmall,2,4,0.10,0.06,0.04\n",
        )
        .unwrap()
        .instances
        .remove(0)
    }

    #[test]
    fn the_base_is_reserved_and_the_peak_runs_on_demand() {
        // A 10-hour day: 2 instances all day, a 3rd from 2 h to 8 h, a 4th from 4 h to 6 h:
        // 20 + 6 + 2 = 28 instance-hours. On demand $0.10, 1-year $0.06 (break-even 60 %), 3-year $0.04.
        // 1-year, by hand (N reservations cost N x 10 h x $0.06 = $0.60 N; above N on demand):
        //   N=0: 28 h x $0.10 = $2.80
        //   N=1: $0.60 + 18 h x $0.10 = $2.40
        //   N=2: $1.20 +  8 h x $0.10 = $2.00
        //   N=3: $1.80 +  2 h x $0.10 = $2.00   (the 3rd runs 6 of 10 h: exactly break-even; a tie
        //                                          goes to fewer reservations)
        //   N=4: $2.40
        // Best: 2 reserved, $2.00, 8 h on demand.
        let usage = Usage::from_counts(
            [
                (0.0, 2),
                (2.0 * 3600.0, 3),
                (4.0 * 3600.0, 4),
                (6.0 * 3600.0, 3),
                (8.0 * 3600.0, 2),
            ],
            10.0 * 3600.0,
            ScaleInOrder::Newest,
            1e6,
        )
        .unwrap();
        assert_eq!(usage.instance_hours(), 28.0);
        let one = cheapest_mix(&small(), &usage, 1.0, Term::OneYear).unwrap();
        assert_eq!(one.reserved, 2);
        assert!((one.on_demand_hours - 8.0).abs() < 1e-9);
        assert!((one.quote.cost - 2.00).abs() < 1e-9, "{one:?}");
        assert!((one.break_even - 0.6).abs() < 1e-12);
        assert!((one.quote.per_million().unwrap() - 2.00).abs() < 1e-9);
        // 3-year at $0.04 over the day repeated twice (20 h; N reservations cost $0.80 N):
        //   N=0: 56 h x $0.10 = $5.60; N=1: $0.80 + $3.60 = $4.40; N=2: $1.60 + $1.60 = $3.20;
        //   N=3: $2.40 + $0.40 = $2.80; N=4: $3.20. Best: 3 reserved, $2.80.
        let three = cheapest_mix(&small(), &usage, 2.0, Term::ThreeYears).unwrap();
        assert_eq!(three.reserved, 3);
        assert!((three.quote.cost - 2.80).abs() < 1e-9, "{three:?}");
        let mut no_price = small();
        no_price.reserved_1y = None;
        assert!(cheapest_mix(&no_price, &usage, 1.0, Term::OneYear).is_none());
    }

    #[test]
    fn seconds_above_each_base_are_the_sums_by_hand() {
        // 10 s with none, 20 s with 1, 0 s with 2, 5 s with 3: above 0: 20 + 15 = 35; above 1:
        // 0 + 2 x 5 = 10; above 2: 5; above 3: 0.
        assert_eq!(
            seconds_above_each_base(&[10.0, 20.0, 0.0, 5.0]),
            [35.0, 10.0, 5.0, 0.0]
        );
        assert_eq!(seconds_above_each_base(&[]), [0.0]);
        let at_each: Vec<f64> = (0..50).map(|k| f64::from((k * 37) % 11)).collect();
        for (base, above) in seconds_above_each_base(&at_each).into_iter().enumerate() {
            let by_hand: f64 = (base..at_each.len())
                .map(|k| (k - base) as f64 * at_each[k])
                .sum();
            assert_eq!(above, by_hand, "base {base}");
        }
    }

    #[test]
    fn short_launches_keep_their_minute_on_demand() {
        // 1 instance for an hour, a 2nd for 30 s (billed 60 s). With 1 reserved at $0.06: $0.06 plus
        // 60 s on demand = $0.10 / 60 = $0.001667.
        let usage = Usage::from_counts(
            [(0.0, 1), (100.0, 2), (130.0, 1)],
            3600.0,
            ScaleInOrder::Newest,
            0.0,
        )
        .unwrap();
        let mix = cheapest_mix(&small(), &usage, 1.0, Term::OneYear).unwrap();
        assert_eq!(mix.reserved, 1);
        assert!(
            (mix.quote.cost - (0.06 + 0.10 / 60.0)).abs() < 1e-12,
            "{mix:?}"
        );
    }
}
