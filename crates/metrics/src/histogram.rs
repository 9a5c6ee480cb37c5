//! A latency histogram in microseconds and the statistics reported from it.

use std::time::Duration;

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

/// Significant digits kept: values are exact to within 0.1 %.
const SIGNIFICANT_DIGITS: u8 = 3;

/// An HDR histogram of durations in microseconds that grows as needed (1 µs to hours).
#[derive(Clone, Debug)]
pub struct LatencyHistogram(Histogram<u64>);

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self(Histogram::new(SIGNIFICANT_DIGITS).expect("3 significant digits is valid"))
    }
}

impl PartialEq for LatencyHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

/// As base64 of the HdrHistogram V2 encoding with deflate (what `latency.hlog` holds).
impl Serialize for LatencyHistogram {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(&self.0, &mut bytes)
            .map_err(|e| serde::ser::Error::custom(format!("{e:?}")))?;
        serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)?;
        let read: Histogram<u64> = Deserializer::new()
            .deserialize(&mut &bytes[..])
            .map_err(|e| serde::de::Error::custom(format!("bad histogram: {e:?}")))?;
        let mut histogram = Self::default();
        histogram.merge_hdr(&read);
        Ok(histogram)
    }
}

impl LatencyHistogram {
    /// Records one duration.
    pub fn record(&mut self, duration: Duration) {
        let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX / 2);
        // The histogram grows to fit the value; only an absurd one (beyond its trackable range) is clamped.
        if self.0.record(micros).is_err() {
            self.0.saturating_record(micros);
        }
    }

    /// Adds every value of `other` (exact).
    pub fn merge(&mut self, other: &LatencyHistogram) {
        self.0
            .add(&other.0)
            .expect("auto-resizing histograms always merge");
    }

    /// Adds every value of a histogram read from a log (exact).
    pub(crate) fn merge_hdr(&mut self, other: &Histogram<u64>) {
        self.0
            .add(other)
            .expect("an auto-resizing histogram takes any other");
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    /// The underlying HDR histogram (values in microseconds).
    pub fn inner(&self) -> &Histogram<u64> {
        &self.0
    }

    /// Count, min, mean, standard deviation, percentiles and max, in milliseconds.
    pub fn stats(&self) -> Stats {
        let h = &self.0;
        if h.is_empty() {
            return Stats::default();
        }
        let ms = |micros: u64| micros as f64 / 1e3;
        Stats {
            count: h.len(),
            min: ms(h.min()),
            avg: h.mean() / 1e3,
            stddev: h.stdev() / 1e3,
            p50: ms(h.value_at_quantile(0.50)),
            p90: ms(h.value_at_quantile(0.90)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }

    /// The value (ms) at percentile `p` (0–100).
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.value_at_quantile(p / 100.0) as f64 / 1e3
    }
}

/// Statistics of a histogram, in milliseconds. A percentile is the smallest recorded value that
/// at least that share of the values is less than or equal to (nearest rank, as HdrHistogram and
/// k6 report), to within the histogram's 0.1 % precision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub count: u64,
    pub min: f64,
    pub avg: f64,
    pub stddev: f64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nearest-rank percentile of sorted data: the value at rank ceil(p/100 × n).
    fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
        let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
        sorted[rank - 1]
    }

    #[test]
    fn percentiles_match_an_exact_sort_within_precision() {
        // A skewed, deterministic data set: 10,000 values from 50 µs to ~2 s.
        let mut state: u64 = 42;
        let mut values: Vec<u64> = (0..10_000)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = (state >> 11) as f64 / (1u64 << 53) as f64;
                (50.0 * (1.0 / (1.0 - u * 0.99999)).powf(1.5)) as u64 + 50
            })
            .collect();
        let mut histogram = LatencyHistogram::default();
        for v in &values {
            histogram.record(Duration::from_micros(*v));
        }
        values.sort_unstable();
        for p in [50.0, 90.0, 95.0, 99.0, 99.9, 100.0] {
            let exact = nearest_rank(&values, p) as f64 / 1e3;
            let measured = histogram.percentile(p);
            assert!(
                (measured - exact).abs() <= exact * 0.001 + 0.001,
                "p{p}: histogram {measured} ms vs exact {exact} ms"
            );
        }
        let stats = histogram.stats();
        let mean = values.iter().sum::<u64>() as f64 / values.len() as f64 / 1e3;
        assert!((stats.avg - mean).abs() <= mean * 0.001);
        assert_eq!(stats.count, 10_000);
        assert!((stats.min - values[0] as f64 / 1e3).abs() < 0.001);
        assert!((stats.max - *values.last().unwrap() as f64 / 1e3).abs() <= stats.max * 0.001);
    }

    #[test]
    fn small_hand_computed_case() {
        // 1..=10 ms: nearest rank p50 = 5, p90 = 9, p95 = p99 = 10; mean 5.5; population stddev 2.8723.
        let mut histogram = LatencyHistogram::default();
        for ms in 1..=10 {
            histogram.record(Duration::from_millis(ms));
        }
        let s = histogram.stats();
        assert!((s.p50 - 5.0).abs() < 0.01, "{s:?}");
        assert!((s.p90 - 9.0).abs() < 0.01);
        assert!((s.p95 - 10.0).abs() < 0.01);
        assert!((s.p99 - 10.0).abs() < 0.01);
        assert!((s.avg - 5.5).abs() < 0.01);
        assert!((s.stddev - 2.8723).abs() < 0.01);
    }

    #[test]
    fn merge_is_exact() {
        let (mut a, mut b, mut all) = Default::default();
        let (a, b, all): (
            &mut LatencyHistogram,
            &mut LatencyHistogram,
            &mut LatencyHistogram,
        ) = (&mut a, &mut b, &mut all);
        for v in 1..500u64 {
            let d = Duration::from_micros(v * 37);
            if v % 3 == 0 {
                a.record(d)
            } else {
                b.record(d)
            }
            all.record(d);
        }
        a.merge(b);
        assert_eq!(a.stats(), all.stats());
    }
}
