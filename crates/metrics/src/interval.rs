//! One second of a run: histograms per endpoint and outcome, iterations, checks and gauges.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{CustomKind, CustomValues, LatencyHistogram, Outcome, Sample};

/// Index of an [`Endpoint`] in the run's endpoint table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EndpointId(pub u32);

/// A named request of a scenario, as results group it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    pub scenario: String,
    pub name: String,
    pub method: String,
    /// Further tags of the request (k6 `params.tags`), which threshold filters can select on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
}

/// The results of one endpoint with one outcome.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub endpoint: EndpointId,
    pub outcome: Outcome,
}

/// Requests of one [`SeriesKey`]: count, latency (from intended send), service time (from actual
/// send), bytes, and the sums of the request phases.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub count: u64,
    pub latency: LatencyHistogram,
    pub service_time: LatencyHistogram,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Sums over the series, in microseconds: blocked, connecting, tls, sending, waiting, receiving.
    pub phase_micros: [u64; 6],
}

impl Series {
    fn record(&mut self, sample: &Sample) {
        self.count = self.count.saturating_add(1);
        self.latency.record(sample.latency());
        self.service_time.record(sample.service_time());
        self.bytes_sent = self.bytes_sent.saturating_add(sample.bytes_sent);
        self.bytes_received = self.bytes_received.saturating_add(sample.bytes_received);
        for (sum, d) in self.phase_micros.iter_mut().zip(sample.phases.in_order()) {
            *sum = sum.saturating_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        }
    }

    /// Adds `other` into `self` (exact), each count with `add`.
    fn add(&mut self, other: &Series, add: Add) -> Result<(), Unmergeable> {
        self.count = add(self.count, other.count, "requests")?;
        self.latency.merge(&other.latency);
        self.service_time.merge(&other.service_time);
        self.bytes_sent = add(self.bytes_sent, other.bytes_sent, "bytes sent")?;
        self.bytes_received = add(self.bytes_received, other.bytes_received, "bytes received")?;
        for (a, b) in self.phase_micros.iter_mut().zip(other.phase_micros) {
            *a = add(*a, b, "request phase time")?;
        }
        Ok(())
    }
}

/// Why two intervals cannot be added: only intervals read from files (a shard's
/// `intervals.jsonl`) can disagree so.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unmergeable {
    #[error("{0} add up past 2^64 - 1: no run counts so many, the counts cannot be true")]
    Overflow(&'static str),
    #[error("custom metric '{name}' is a {mine} in one and a {theirs} in another")]
    CustomKind {
        name: String,
        mine: &'static str,
        theirs: &'static str,
    },
}

/// How counts add: saturating (the live engine's, which cannot come near 2^64) or checked (counts
/// read from files, where an overflow is an error and never a wrap). The name says which count.
pub(crate) type Add = fn(u64, u64, &'static str) -> Result<u64, Unmergeable>;

fn saturating(a: u64, b: u64, _: &'static str) -> Result<u64, Unmergeable> {
    Ok(a.saturating_add(b))
}

pub(crate) fn checked(a: u64, b: u64, what: &'static str) -> Result<u64, Unmergeable> {
    a.checked_add(b).ok_or(Unmergeable::Overflow(what))
}

/// Point-in-time gauges of an interval. Across threads (or shards) of the same second they add up;
/// across seconds a summary takes their maximum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gauges {
    /// Virtual users running (busy, in the open model) at the end of the second.
    pub vus: u64,
    /// Requests sent and not yet answered at the end of the second.
    pub in_flight: u64,
    /// The most virtual users running at any instant of the second (per loader thread; across
    /// threads the peaks add up, which bounds the run's instantaneous peak from above).
    #[serde(default)]
    pub vus_peak: u64,
    /// The most virtual users allocated at once in the second — busy or idle in an arrival-rate
    /// pool (k6's `vus_max`).
    #[serde(default)]
    pub vus_allocated: u64,
}

/// What one scenario did in a second: VUs running at its end, iterations completed, dropped and
/// interrupted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioActivity {
    pub vus: u64,
    pub iterations: u64,
    pub dropped_iterations: u64,
    pub interrupted_iterations: u64,
}

/// One second of a run (second `second` counts from 0 at the start). Serialized (histograms as
/// base64 HdrHistogram V2 with deflate) in a shard's `intervals.jsonl`, so shards merge exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    pub second: u64,
    /// Series sorted by key; few per interval, so a sorted vector beats a map.
    pub series: Vec<(SeriesKey, Series)>,
    pub iterations: u64,
    pub iteration_duration: LatencyHistogram,
    /// Arrivals that found no free virtual user and were not sent.
    pub dropped_iterations: u64,
    /// Open model: from each arrival's scheduled time to its first request's send.
    pub send_delay: LatencyHistogram,
    /// The part of `send_delay` of arrivals that found a VU free at their time: the loader's own
    /// lateness. The others found every VU busy and waited for one.
    #[serde(default)]
    pub send_delay_free: LatencyHistogram,
    /// Iterations cut short when their scenario's graceful stop (or a stop's grace) ran out.
    pub interrupted_iterations: u64,
    /// Requests still in flight when their iteration was cut short: counted here only, in no
    /// `http_req_*` figure or threshold, as k6 drops them.
    #[serde(default)]
    pub interrupted_requests: u64,
    /// CPU time the loader threads spent in the second (µs; threads and shards add up): how busy
    /// the load generator itself was.
    #[serde(default)]
    pub loader_cpu_micros: u64,
    /// Passes and failures per check, indexed by check id.
    pub checks: Vec<(u64, u64)>,
    pub gauges: Gauges,
    /// Per scenario (indexed like the plan's scenarios).
    pub scenarios: Vec<ScenarioActivity>,
    /// A script's custom metrics (`k6/metrics`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, CustomValues>,
}

impl Interval {
    pub fn new(second: u64) -> Self {
        Self {
            second,
            ..Self::default()
        }
    }

    /// Folds one request into the interval.
    pub fn record(&mut self, sample: &Sample) {
        let key = SeriesKey {
            endpoint: sample.endpoint,
            outcome: sample.outcome,
        };
        self.series_mut(key).record(sample);
    }

    fn series_mut(&mut self, key: SeriesKey) -> &mut Series {
        let index = match self.series.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(index) => index,
            Err(index) => {
                self.series.insert(index, (key, Series::default()));
                index
            }
        };
        &mut self.series[index].1
    }

    /// Counts one finished iteration of scenario `scenario`.
    pub fn record_iteration(&mut self, scenario: usize, duration: Duration) {
        self.iterations = self.iterations.saturating_add(1);
        self.iteration_duration.record(duration);
        let activity = self.scenario_mut(scenario);
        activity.iterations = activity.iterations.saturating_add(1);
    }

    /// Notes how late an arrival's first request went out against its schedule, and whether the
    /// arrival had to wait for a busy VU.
    pub fn record_send_delay(&mut self, delay: Duration, waited: bool) {
        self.send_delay.record(delay);
        if !waited {
            self.send_delay_free.record(delay);
        }
    }

    /// Counts `count` iterations of scenario `scenario` that were due and never started.
    pub fn record_dropped(&mut self, scenario: usize, count: u64) {
        self.dropped_iterations = self.dropped_iterations.saturating_add(count);
        let activity = self.scenario_mut(scenario);
        activity.dropped_iterations = activity.dropped_iterations.saturating_add(count);
    }

    /// The activity of scenario `scenario`, created on first use.
    pub fn scenario_mut(&mut self, scenario: usize) -> &mut ScenarioActivity {
        if self.scenarios.len() <= scenario {
            self.scenarios
                .resize(scenario + 1, ScenarioActivity::default());
        }
        &mut self.scenarios[scenario]
    }

    /// Counts one iteration of scenario `scenario` cut short by the end of the run.
    pub fn record_interrupted(&mut self, scenario: usize) {
        self.interrupted_iterations = self.interrupted_iterations.saturating_add(1);
        let activity = self.scenario_mut(scenario);
        activity.interrupted_iterations = activity.interrupted_iterations.saturating_add(1);
    }

    /// Counts one request cut off in flight by the end of the run.
    pub fn record_interrupted_request(&mut self) {
        self.interrupted_requests = self.interrupted_requests.saturating_add(1);
    }

    /// Counts one check result.
    pub fn record_check(&mut self, check: usize, passed: bool) {
        if self.checks.len() <= check {
            self.checks.resize(check + 1, (0, 0));
        }
        let entry = &mut self.checks[check];
        if passed {
            entry.0 = entry.0.saturating_add(1);
        } else {
            entry.1 = entry.1.saturating_add(1);
        }
    }

    /// Adds `value` to the custom metric `name` of type `kind`, `at` into the run.
    pub fn record_custom(&mut self, name: &str, kind: CustomKind, value: f64, at: Duration) {
        if !self.custom.contains_key(name) {
            self.custom.insert(name.to_owned(), CustomValues::new(kind));
        }
        if let Some(values) = self.custom.get_mut(name) {
            values.add(value, at);
        }
    }

    /// Adds another interval of the same second (another thread or shard): counts and histograms
    /// add, gauges add. Counts saturate, as fits the live engine's own (a custom metric of another
    /// kind, which the engine never makes, is left out); intervals read from files merge with
    /// [`Interval::checked_merge`].
    pub fn merge(&mut self, other: &Interval) {
        let _ = self.add(other, saturating);
    }

    /// As [`Interval::merge`], but a count that would pass `u64::MAX` or a custom metric of two
    /// kinds is an error (`self` is then partly merged).
    pub fn checked_merge(&mut self, other: &Interval) -> Result<(), Unmergeable> {
        self.add(other, checked)
    }

    fn add(&mut self, other: &Interval, add: Add) -> Result<(), Unmergeable> {
        for (key, series) in &other.series {
            self.series_mut(key.clone()).add(series, add)?;
        }
        self.iterations = add(self.iterations, other.iterations, "iterations")?;
        self.iteration_duration.merge(&other.iteration_duration);
        self.dropped_iterations = add(
            self.dropped_iterations,
            other.dropped_iterations,
            "dropped iterations",
        )?;
        self.send_delay.merge(&other.send_delay);
        self.send_delay_free.merge(&other.send_delay_free);
        self.interrupted_iterations = add(
            self.interrupted_iterations,
            other.interrupted_iterations,
            "interrupted iterations",
        )?;
        self.interrupted_requests = add(
            self.interrupted_requests,
            other.interrupted_requests,
            "interrupted requests",
        )?;
        self.loader_cpu_micros = add(
            self.loader_cpu_micros,
            other.loader_cpu_micros,
            "loader CPU",
        )?;
        if self.checks.len() < other.checks.len() {
            self.checks.resize(other.checks.len(), (0, 0));
        }
        for (mine, theirs) in self.checks.iter_mut().zip(&other.checks) {
            mine.0 = add(mine.0, theirs.0, "checks passed")?;
            mine.1 = add(mine.1, theirs.1, "checks failed")?;
        }
        let (mine, theirs) = (&mut self.gauges, &other.gauges);
        mine.vus = add(mine.vus, theirs.vus, "VUs")?;
        mine.in_flight = add(mine.in_flight, theirs.in_flight, "requests in flight")?;
        mine.vus_peak = add(mine.vus_peak, theirs.vus_peak, "VUs")?;
        mine.vus_allocated = add(mine.vus_allocated, theirs.vus_allocated, "VUs allocated")?;
        for (index, theirs) in other.scenarios.iter().enumerate() {
            let mine = self.scenario_mut(index);
            mine.vus = add(mine.vus, theirs.vus, "VUs")?;
            mine.iterations = add(mine.iterations, theirs.iterations, "iterations")?;
            mine.dropped_iterations = add(
                mine.dropped_iterations,
                theirs.dropped_iterations,
                "dropped iterations",
            )?;
            mine.interrupted_iterations = add(
                mine.interrupted_iterations,
                theirs.interrupted_iterations,
                "interrupted iterations",
            )?;
        }
        for (name, theirs) in &other.custom {
            match self.custom.get_mut(name) {
                Some(mine) => mine.add_up(name, theirs, add)?,
                None => {
                    self.custom.insert(name.clone(), theirs.clone());
                }
            }
        }
        Ok(())
    }

    /// Checks that the sums a summary and thresholds take over this interval's series and checks
    /// (requests, bytes, phase times, check results) fit in a `u64`, as each count alone does.
    pub fn check_sums(&self) -> Result<(), Unmergeable> {
        let mut sum = Series::default();
        for (_, series) in &self.series {
            sum.count = checked(sum.count, series.count, "requests")?;
            sum.bytes_sent = checked(sum.bytes_sent, series.bytes_sent, "bytes sent")?;
            sum.bytes_received =
                checked(sum.bytes_received, series.bytes_received, "bytes received")?;
            for (a, b) in sum.phase_micros.iter_mut().zip(series.phase_micros) {
                *a = checked(*a, b, "request phase time")?;
            }
        }
        self.checks.iter().try_fold(0u64, |all, (passed, failed)| {
            checked(checked(all, *passed, "checks")?, *failed, "checks")
        })?;
        Ok(())
    }

    /// Requests in the interval.
    pub fn requests(&self) -> u64 {
        self.series
            .iter()
            .fold(0, |sum, (_, s)| sum.saturating_add(s.count))
    }

    /// Requests that failed (errors and statuses outside 200–399).
    pub fn failures(&self) -> u64 {
        self.series
            .iter()
            .filter(|(k, _)| k.outcome.is_failure())
            .fold(0, |sum, (_, s)| sum.saturating_add(s.count))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Phases};

    fn sample(endpoint: u32, outcome: Outcome, micros: u64) -> Sample {
        Sample {
            endpoint: EndpointId(endpoint),
            outcome,
            intended: Duration::ZERO,
            sent: Duration::from_micros(10),
            first_byte: None,
            done: Duration::from_micros(micros),
            bytes_sent: 100,
            bytes_received: 200,
            phases: Phases::default(),
        }
    }

    #[test]
    fn merging_threads_equals_recording_in_one() {
        let outcomes = [
            Outcome::Status(200),
            Outcome::Status(503),
            Outcome::Error(ErrorKind::Reset),
        ];
        let (mut a, mut b, mut all) = (Interval::new(3), Interval::new(3), Interval::new(3));
        for i in 0..300u64 {
            let s = sample((i % 2) as u32, outcomes[(i % 3) as usize], 100 + i * 13);
            if i % 4 == 0 {
                a.record(&s)
            } else {
                b.record(&s)
            }
            all.record(&s);
            let target = if i % 5 == 0 { &mut a } else { &mut b };
            target.record_check((i % 3) as usize, i % 7 != 0);
            all.record_check((i % 3) as usize, i % 7 != 0);
        }
        a.gauges = Gauges {
            vus: 3,
            in_flight: 1,
            vus_peak: 5,
            vus_allocated: 6,
        };
        b.gauges = Gauges {
            vus: 4,
            in_flight: 2,
            vus_peak: 4,
            vus_allocated: 4,
        };
        a.merge(&b);
        assert_eq!(a.series, all.series);
        assert_eq!(a.checks, all.checks);
        assert_eq!(a.requests(), 300);
        assert_eq!(a.failures(), 200);
        assert_eq!(
            a.gauges,
            Gauges {
                vus: 7,
                in_flight: 3,
                vus_peak: 9,
                vus_allocated: 10,
            }
        );
    }

    #[test]
    fn send_delays_merge_exactly_and_old_intervals_still_read() {
        let (mut a, mut b, mut all) = (Interval::new(0), Interval::new(0), Interval::new(0));
        for i in 0..100u64 {
            let (delay, waited) = (Duration::from_micros(50 + i * 97), i % 10 == 0);
            let thread = if i % 3 == 0 { &mut a } else { &mut b };
            thread.record_send_delay(delay, waited);
            all.record_send_delay(delay, waited);
        }
        a.merge(&b);
        assert_eq!(a.send_delay, all.send_delay);
        assert_eq!(a.send_delay_free, all.send_delay_free);
        // 10 of the 100 waited (i = 0, 10, …, 90).
        assert_eq!((a.send_delay.count(), a.send_delay_free.count()), (100, 90));
        // A shard's `intervals.jsonl` line written before `send_delay_free` existed still reads.
        let mut json = serde_json::to_value(&all).unwrap();
        json.as_object_mut().unwrap().remove("send_delay_free");
        let old: Interval = serde_json::from_value(json).unwrap();
        assert_eq!(old.send_delay, all.send_delay);
        assert_eq!(old.send_delay_free.count(), 0);
    }

    #[test]
    fn counts_past_u64_are_errors_when_checked_and_saturate_otherwise() {
        // 2^63 failed requests in each of two shards: 2^64 would wrap to 0.
        let mut half = Interval::new(0);
        half.record(&sample(0, Outcome::Status(500), 100));
        half.series[0].1.count = 1 << 63;
        let mut sum = half.clone();
        assert_eq!(
            sum.checked_merge(&half),
            Err(Unmergeable::Overflow("requests"))
        );
        assert_eq!(
            Unmergeable::Overflow("requests").to_string(),
            "requests add up past 2^64 - 1: no run counts so many, the counts cannot be true"
        );
        let mut live = half.clone();
        live.merge(&half);
        assert_eq!((live.requests(), live.failures()), (u64::MAX, u64::MAX));
        // Two series of one interval, each 2^63: each fits, their sum does not.
        let mut two = half.clone();
        two.record(&sample(0, Outcome::Error(ErrorKind::Reset), 100));
        two.series[1].1.count = 1 << 63;
        assert_eq!(two.check_sums(), Err(Unmergeable::Overflow("requests")));
        assert_eq!(two.failures(), u64::MAX);
        let mut checks = Interval::new(0);
        checks.checks = vec![(u64::MAX, 0), (0, 1)];
        assert_eq!(checks.check_sums(), Err(Unmergeable::Overflow("checks")));
        let mut iterations = Interval::new(0);
        iterations.iterations = u64::MAX;
        assert_eq!(
            iterations.clone().checked_merge(&iterations),
            Err(Unmergeable::Overflow("iterations"))
        );
        assert_eq!(half.check_sums(), Ok(()));
    }

    #[test]
    fn latency_is_from_intended_and_service_time_from_sent() {
        let mut interval = Interval::new(0);
        interval.record(&sample(0, Outcome::Status(200), 1000));
        let series = &interval.series[0].1;
        assert!((series.latency.percentile(50.0) - 1.0).abs() < 0.002);
        assert!((series.service_time.percentile(50.0) - 0.99).abs() < 0.002);
    }
}
