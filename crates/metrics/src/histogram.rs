//! A latency histogram in microseconds and the statistics reported from it.

use std::io::Read;
use std::time::Duration;

use base64::Engine;
use flate2::read::ZlibDecoder;
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
        let read = decode(&bytes).map_err(serde::de::Error::custom)?;
        let mut histogram = Self::default();
        histogram.merge_hdr(&read);
        Ok(histogram)
    }
}

/// The V2 encoding's cookies (HdrHistogram's, for 8-byte counters) and header length.
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_COMPRESSED_COOKIE: u32 = 0x1c84_9314;
const V2_HEADER_BYTES: usize = 40;

/// The largest decoded (inflated) histogram read: what scalelab writes is at most 3 significant
/// digits over the whole `u64` range, 65 × 1,024 counts of at most 9 bytes each (under 600 KiB).
pub const MAX_DECODED_BYTES: usize = V2_HEADER_BYTES + 9 * 65 * 1024;

/// Decodes a histogram in the HdrHistogram V2 encoding (deflated or not), as scalelab writes them,
/// refusing one that would cost more than scalelab's own could: the deflated stream is inflated to
/// at most [`MAX_DECODED_BYTES`], and its header (significant digits at most 3, the payload length
/// within the bytes present) is checked before hdrhistogram allocates from it.
pub(crate) fn decode(bytes: &[u8]) -> Result<Histogram<u64>, String> {
    let word = |at: usize, from: &[u8]| {
        from.get(at..at + 4)
            .map(|b| u32::from_be_bytes(b.try_into().expect("4 bytes")))
            .ok_or_else(|| format!("bad histogram: {} bytes end inside its header", from.len()))
    };
    let inflated;
    let plain = match word(0, bytes)? {
        V2_COOKIE => bytes,
        V2_COMPRESSED_COOKIE => {
            let mut out = Vec::new();
            ZlibDecoder::new(bytes.get(8..).unwrap_or_default())
                .take(MAX_DECODED_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| format!("bad histogram: {e}"))?;
            if out.len() > MAX_DECODED_BYTES {
                return Err(format!(
                    "bad histogram: it inflates to more than the {MAX_DECODED_BYTES} bytes a \
                     histogram of scalelab's holds"
                ));
            }
            inflated = out;
            &inflated
        }
        cookie => return Err(format!("bad histogram: unknown cookie {cookie:#x}")),
    };
    if word(0, plain)? != V2_COOKIE || plain.len() < V2_HEADER_BYTES {
        return Err("bad histogram: no V2 header".to_owned());
    }
    let payload = word(4, plain)? as usize;
    let digits = word(12, plain)?;
    if payload > plain.len() - V2_HEADER_BYTES {
        return Err(format!(
            "bad histogram: its header announces {payload} bytes of counts, {} are there",
            plain.len() - V2_HEADER_BYTES
        ));
    }
    if digits > u32::from(SIGNIFICANT_DIGITS) {
        return Err(format!(
            "bad histogram: {digits} significant digits, more than the {SIGNIFICANT_DIGITS} \
             scalelab records"
        ));
    }
    Deserializer::new()
        .deserialize(&mut &plain[..])
        .map_err(|e| format!("bad histogram: {e}"))
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
            p50: self.percentile(50.0),
            p90: self.percentile(90.0),
            p95: self.percentile(95.0),
            p99: self.percentile(99.0),
            max: ms(h.max()),
        }
    }

    /// The value (ms) at percentile `p` (0–100) as k6 computes it: with the `n` values sorted
    /// (0-based), the rank `p/100 × (n − 1)`, interpolated linearly between the values at the two
    /// nearest whole ranks (so p(50) of 1..10 is 5.5 and p(95) of 1..100 is 95.05). Each value is
    /// the histogram's, within its 0.1 % precision. 0 when empty.
    pub fn percentile(&self, p: f64) -> f64 {
        let n = self.0.len();
        if n == 0 {
            return 0.0;
        }
        let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
        let (low, high) = (rank.floor() as u64, rank.ceil() as u64);
        let (a, b) = self.values_at_ranks(low, high);
        (a as f64 + (b as f64 - a as f64) * (rank - rank.floor())) / 1e3
    }

    /// The values (µs) at 0-based ranks `low <= high` of the sorted values, in one pass over the
    /// recorded buckets (hdrhistogram only answers nearest-rank quantiles, so the ranks are
    /// walked here). The lowest rank is the minimum, any other a bucket's highest equivalent value
    /// (as HdrHistogram reports quantiles).
    fn values_at_ranks(&self, low: u64, high: u64) -> (u64, u64) {
        let h = &self.0;
        let value_at = |bucket: u64, rank: u64| {
            if rank == 0 {
                h.min()
            } else {
                h.highest_equivalent(bucket)
            }
        };
        let mut seen = 0;
        let mut found_low = None;
        for bucket in h.iter_recorded() {
            seen += bucket.count_at_value();
            let value = bucket.value_iterated_to();
            if found_low.is_none() && seen > low {
                found_low = Some(value_at(value, low));
            }
            if seen > high {
                return (found_low.unwrap_or(value), value_at(value, high));
            }
        }
        (found_low.unwrap_or(h.max()), h.max())
    }
}

/// Statistics of a histogram, in milliseconds. Percentiles follow k6's definition (linear
/// interpolation between the two nearest ranks; see [`LatencyHistogram::percentile`]), to within
/// the histogram's 0.1 % precision.
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

    /// k6's percentile of sorted data (lib/metrics/sink.go, TrendSink.P): i = p × (n − 1), then
    /// values[floor(i)] + (values[ceil(i)] − values[floor(i)]) × (i − floor(i)).
    fn k6_percentile(sorted: &[u64], p: f64) -> f64 {
        let i = p / 100.0 * (sorted.len() - 1) as f64;
        let (j, k) = (
            sorted[i.floor() as usize] as f64,
            sorted[i.ceil() as usize] as f64,
        );
        j + (k - j) * (i - i.floor())
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
            let exact = k6_percentile(&values, p) / 1e3;
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
        // 1..=10 ms, k6's rule i = p × (n − 1) = p × 9: p50 at i = 4.5 -> 5 + 0.5 = 5.5;
        // p90 at 8.1 -> 9.1; p95 at 8.55 -> 9.55; p99 at 8.91 -> 9.91; p0 = 1, p100 = 10.
        // Mean 5.5; population stddev sqrt(8.25) = 2.8723.
        let mut histogram = LatencyHistogram::default();
        for ms in 1..=10 {
            histogram.record(Duration::from_millis(ms));
        }
        let s = histogram.stats();
        let close = |a: f64, b: f64| (a - b).abs() <= b * 0.001 + 0.001;
        assert!(close(s.p50, 5.5), "{s:?}");
        assert!(close(s.p90, 9.1), "{s:?}");
        assert!(close(s.p95, 9.55), "{s:?}");
        assert!(close(s.p99, 9.91), "{s:?}");
        assert!(close(histogram.percentile(0.0), 1.0));
        assert!(close(histogram.percentile(100.0), 10.0));
        assert!((s.avg - 5.5).abs() < 0.01);
        assert!((s.stddev - 2.8723).abs() < 0.01);
    }

    #[test]
    fn k6_documented_examples() {
        // p(95) of 1..100 ms is 95.05 in k6 (i = 0.95 × 99 = 94.05: 95 + 0.05 × (96 − 95)).
        let mut histogram = LatencyHistogram::default();
        for ms in 1..=100 {
            histogram.record(Duration::from_millis(ms));
        }
        assert!(
            (histogram.percentile(95.0) - 95.05).abs() <= 0.1,
            "{}",
            histogram.percentile(95.0)
        );
        // One value: every percentile is it. Two values 10 and 20: p(50) is their midpoint 15.
        let mut one = LatencyHistogram::default();
        one.record(Duration::from_millis(7));
        assert!((one.percentile(99.0) - 7.0).abs() < 0.01);
        let mut two = LatencyHistogram::default();
        two.record(Duration::from_millis(10));
        two.record(Duration::from_millis(20));
        assert!(
            (two.percentile(50.0) - 15.0).abs() <= 0.02,
            "{}",
            two.percentile(50.0)
        );
        assert_eq!(LatencyHistogram::default().percentile(50.0), 0.0);
    }

    /// `header` (the V2 header's fields after its cookie) and `payload`, deflated as the V2
    /// deflate encoding frames them.
    fn deflated(payload_len: u32, digits: u32, payload: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut plain = Vec::new();
        plain.extend(V2_COOKIE.to_be_bytes());
        plain.extend(payload_len.to_be_bytes());
        plain.extend(0u32.to_be_bytes());
        plain.extend(digits.to_be_bytes());
        plain.extend(1u64.to_be_bytes());
        plain.extend(2048u64.to_be_bytes());
        plain.extend(1f64.to_be_bytes());
        plain.extend(payload);
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&plain).unwrap();
        let compressed = encoder.finish().unwrap();
        let mut bytes = V2_COMPRESSED_COOKIE.to_be_bytes().to_vec();
        bytes.extend((compressed.len() as u32).to_be_bytes());
        bytes.extend(compressed);
        bytes
    }

    #[test]
    fn histograms_that_would_cost_more_than_ours_are_refused_before_allocating() {
        let decode_json = |bytes: &[u8]| {
            let text = base64::engine::general_purpose::STANDARD.encode(bytes);
            serde_json::from_value::<LatencyHistogram>(serde_json::Value::String(text))
        };
        // A 60-byte histogram whose header announces 4 GiB of counts.
        let bomb = deflated(u32::MAX, 3, &[]);
        assert!(bomb.len() <= 60, "{}", bomb.len());
        let error = decode_json(&bomb).unwrap_err().to_string();
        assert!(
            error.contains("announces 4294967295 bytes of counts, 0 are there"),
            "{error}"
        );
        // Five significant digits: 200 times the counts of scalelab's three.
        let error = decode_json(&deflated(0, 5, &[])).unwrap_err().to_string();
        assert!(error.contains("5 significant digits"), "{error}");
        // A stream that inflates past anything scalelab writes (zeros compress 1000:1).
        let error = decode_json(&deflated(0, 3, &vec![0; 2 * MAX_DECODED_BYTES]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("inflates to more than"), "{error}");
        for bytes in [&[][..], &[0x1c, 0x84], &[0, 0, 0, 0, 0, 0, 0, 0]] {
            assert!(decode_json(bytes).is_err());
        }
        // What scalelab writes reads back, deflated or not.
        let mut histogram = LatencyHistogram::default();
        histogram.record(Duration::from_secs(3600));
        histogram.record(Duration::from_micros(1));
        let json = serde_json::to_value(&histogram).unwrap();
        assert_eq!(
            serde_json::from_value::<LatencyHistogram>(json).unwrap(),
            histogram
        );
        let mut plain = Vec::new();
        hdrhistogram::serialization::V2Serializer::new()
            .serialize(histogram.inner(), &mut plain)
            .unwrap();
        assert_eq!(decode(&plain).unwrap(), *histogram.inner());
        // An empty histogram, its counts one run of zeros, decodes.
        assert!(decode_json(&deflated(2, 3, &[0x81, 0x20])).is_ok());
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
