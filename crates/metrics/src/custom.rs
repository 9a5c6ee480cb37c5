//! k6 custom metrics (`k6/metrics`): a script's `Trend`, `Counter`, `Rate` and `Gauge`, with what
//! each keeps per interval and what the summary reports, as k6 defines them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::interval::{Add, Unmergeable};
use crate::{LatencyHistogram, Stats};

/// The four k6 metric types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomKind {
    /// Statistics of the values added: avg, min, med, max, p(N).
    Trend,
    /// Sum of the values added, and that sum per second (`count`, `rate`).
    Counter,
    /// Fraction of the values added that are non-zero (`rate`).
    Rate,
    /// The last value added, with the smallest and largest (`value`).
    Gauge,
}

impl CustomKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CustomKind::Trend => "trend",
            CustomKind::Counter => "counter",
            CustomKind::Rate => "rate",
            CustomKind::Gauge => "gauge",
        }
    }
}

/// What one custom metric gathered in an interval (or a run).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomValues {
    /// Values kept as if milliseconds in the latency histogram (in µs, 3 significant digits):
    /// non-negative, resolved to 0.001.
    Trend(LatencyHistogram),
    Counter {
        sum: f64,
        count: u64,
    },
    Rate {
        nonzero: u64,
        total: u64,
    },
    /// `at`: when `last` was added (offset from the run's start), so merged threads keep the latest.
    Gauge {
        last: f64,
        at: Duration,
        min: f64,
        max: f64,
    },
}

impl CustomValues {
    /// Nothing yet of `kind`.
    pub fn new(kind: CustomKind) -> Self {
        match kind {
            CustomKind::Trend => CustomValues::Trend(LatencyHistogram::default()),
            CustomKind::Counter => CustomValues::Counter { sum: 0.0, count: 0 },
            CustomKind::Rate => CustomValues::Rate {
                nonzero: 0,
                total: 0,
            },
            CustomKind::Gauge => CustomValues::Gauge {
                last: 0.0,
                at: Duration::ZERO,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
            },
        }
    }

    pub fn kind(&self) -> CustomKind {
        match self {
            CustomValues::Trend(_) => CustomKind::Trend,
            CustomValues::Counter { .. } => CustomKind::Counter,
            CustomValues::Rate { .. } => CustomKind::Rate,
            CustomValues::Gauge { .. } => CustomKind::Gauge,
        }
    }

    /// Adds one value, added `at` into the run. A trend clamps a negative value to 0 (the caller
    /// refuses them).
    pub fn add(&mut self, value: f64, at: Duration) {
        match self {
            CustomValues::Trend(histogram) => {
                histogram.record(Duration::from_secs_f64(value.max(0.0) / 1e3))
            }
            CustomValues::Counter { sum, count } => {
                *sum += value;
                *count = count.saturating_add(1);
            }
            CustomValues::Rate { nonzero, total } => {
                *nonzero = nonzero.saturating_add(u64::from(value != 0.0));
                *total = total.saturating_add(1);
            }
            CustomValues::Gauge {
                last,
                at: last_at,
                min,
                max,
            } => {
                if at >= *last_at {
                    (*last, *last_at) = (value, at);
                }
                *min = min.min(value);
                *max = max.max(value);
            }
        }
    }

    /// Adds `other`, the same metric `name` of another thread, second or shard, into `self`,
    /// each count with `add`; another kind is an error.
    pub(crate) fn add_up(
        &mut self,
        name: &str,
        other: &CustomValues,
        add: Add,
    ) -> Result<(), Unmergeable> {
        match (self, other) {
            (CustomValues::Trend(a), CustomValues::Trend(b)) => a.merge(b),
            (CustomValues::Counter { sum, count }, CustomValues::Counter { sum: s, count: c }) => {
                *sum += s;
                *count = add(*count, *c, "custom counter values")?;
            }
            (
                CustomValues::Rate { nonzero, total },
                CustomValues::Rate {
                    nonzero: n,
                    total: t,
                },
            ) => {
                *nonzero = add(*nonzero, *n, "custom rate values")?;
                *total = add(*total, *t, "custom rate values")?;
            }
            (
                CustomValues::Gauge { last, at, min, max },
                CustomValues::Gauge {
                    last: l,
                    at: a,
                    min: lo,
                    max: hi,
                },
            ) => {
                if a >= at {
                    (*last, *at) = (*l, *a);
                }
                *min = min.min(*lo);
                *max = max.max(*hi);
            }
            (mine, theirs) => {
                return Err(Unmergeable::CustomKind {
                    name: name.to_owned(),
                    mine: mine.kind().as_str(),
                    theirs: theirs.kind().as_str(),
                });
            }
        }
        Ok(())
    }

    /// The run's figures for the summary; `duration_seconds` turns a counter into a rate.
    pub fn summarize(&self, name: &str, duration_seconds: f64) -> CustomSummary {
        let mut summary = CustomSummary {
            name: name.to_owned(),
            kind: self.kind(),
            count: 0,
            trend: None,
            sum: None,
            rate: None,
            value: None,
            min: None,
            max: None,
        };
        match self {
            CustomValues::Trend(histogram) => {
                summary.count = histogram.count();
                summary.trend = (histogram.count() > 0).then(|| histogram.stats());
            }
            CustomValues::Counter { sum, count } => {
                summary.count = *count;
                summary.sum = Some(*sum);
                summary.rate = Some(if duration_seconds > 0.0 {
                    sum / duration_seconds
                } else {
                    0.0
                });
            }
            CustomValues::Rate { nonzero, total } => {
                summary.count = *total;
                summary.rate = (*total > 0).then(|| *nonzero as f64 / *total as f64);
            }
            CustomValues::Gauge { last, min, max, .. } => {
                summary.count = 1;
                (summary.value, summary.min, summary.max) = (Some(*last), Some(*min), Some(*max));
            }
        }
        summary
    }
}

/// A custom metric in `summary.json`; the fields its type reports are set, the others absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomSummary {
    pub name: String,
    pub kind: CustomKind,
    /// Values added (a gauge: 1 once set).
    pub count: u64,
    /// Trend: avg, min, med (p50), max and percentiles of the values, in the script's unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Stats>,
    /// Counter: the sum of the values added (k6's `count`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    /// Counter: sum per second of the run; Rate: the fraction of non-zero values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Gauge: the last value added, and the smallest and largest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interval::checked;

    fn filled(kind: CustomKind, values: &[(f64, u64)]) -> CustomValues {
        let mut metric = CustomValues::new(kind);
        for (value, at) in values {
            metric.add(*value, Duration::from_millis(*at));
        }
        metric
    }

    #[test]
    fn kinds_that_differ_and_counts_past_u64_are_errors() {
        let mut trend = filled(CustomKind::Trend, &[(1.0, 0)]);
        let error = trend
            .add_up("latency", &filled(CustomKind::Counter, &[]), checked)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "custom metric 'latency' is a trend in one and a counter in another"
        );
        let half = CustomValues::Rate {
            nonzero: 1 << 63,
            total: 1 << 63,
        };
        let mut rate = half.clone();
        assert_eq!(
            rate.add_up("r", &half, checked),
            Err(Unmergeable::Overflow("custom rate values"))
        );
    }

    #[test]
    fn threads_merge_as_if_recorded_in_one() {
        // Two threads of the same second; the values with the times they were added.
        let a = [(4.0, 10), (0.0, 30), (-2.0, 50)];
        let b = [(7.0, 20), (1.0, 40)];
        let all: Vec<_> = a.iter().chain(&b).copied().collect();
        for kind in [CustomKind::Counter, CustomKind::Rate, CustomKind::Gauge] {
            let mut merged = filled(kind, &a);
            merged.add_up("m", &filled(kind, &b), checked).unwrap();
            assert_eq!(merged, filled(kind, &all), "{kind:?}");
        }
        let mut gauge = filled(CustomKind::Gauge, &b);
        gauge
            .add_up("g", &filled(CustomKind::Gauge, &a), checked)
            .unwrap();
        // The last value is the one added last (−2 at 50 ms), whichever thread merges first.
        assert_eq!(
            gauge,
            CustomValues::Gauge {
                last: -2.0,
                at: Duration::from_millis(50),
                min: -2.0,
                max: 7.0
            }
        );
        // Counter: 4 + 0 − 2 + 7 + 1 = 10 over 5 values; rate: 4 of 5 non-zero.
        let counter = filled(CustomKind::Counter, &all).summarize("c", 4.0);
        assert_eq!(
            (counter.sum, counter.rate, counter.count),
            (Some(10.0), Some(2.5), 5)
        );
        let rate = filled(CustomKind::Rate, &all).summarize("r", 4.0);
        assert_eq!(rate.rate, Some(0.8));
    }
}
