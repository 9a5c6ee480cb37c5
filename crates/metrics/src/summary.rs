//! The whole run in figures: per endpoint and status, totals, checks and thresholds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::threshold::ThresholdResult;
use crate::{CustomSummary, Endpoint, Interval, LatencyHistogram, Stats};

/// Version of the `summary.json` schema; bumped on any incompatible change (2: a threshold's
/// `observed` is `null` when its metric had no samples; `interrupted_iterations`; `stopped_early`.
/// 3: `totals.rps_peak` is a rate with a fraction, its window ending with the run when that is
/// busier).
pub const SCHEMA_VERSION: u32 = 3;

/// The results of one run, as `summary.json` stores them. Latencies are in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub schema_version: u32,
    /// The tool and version that wrote it.
    pub tool: String,
    /// Wall-clock start of the run (RFC 3339, UTC).
    pub started_at: String,
    /// Seconds from the start to the end of the run.
    pub duration_seconds: f64,
    /// Why and when the run ended before its plan did (`abortOnFail`, a signal); `None` when it ran
    /// to its end.
    #[serde(default)]
    pub stopped_early: Option<EarlyStop>,
    /// True when arrival-rate scenarios ran: latency is then measured from the intended send time,
    /// and `service_time` (from the actual send) is shown beside it.
    pub open_model: bool,
    /// A row per endpoint and outcome (status code or error kind).
    pub endpoints: Vec<EndpointSummary>,
    pub totals: Totals,
    /// Failed requests by error kind (statuses are not errors here: see the endpoint rows).
    pub errors_by_kind: BTreeMap<String, u64>,
    pub checks: Vec<CheckSummary>,
    /// A script's custom metrics (`k6/metrics`), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_metrics: Vec<CustomSummary>,
    pub thresholds: Vec<ThresholdResult>,
    /// How busy the load generator itself was; absent in results written before it was measured
    /// and in merged shards (each shard's own is in its summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loader: Option<LoaderUse>,
    /// Set when the run was one shard of a test (`scalelab run --shard I/N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// Set when the summary is the merge of shards (`scalelab merge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged: Option<MergeRecord>,
}

/// The load generator's own CPU: its threads' CPU time against the cores they could use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoaderUse {
    /// Loader threads, and the cores this process may run on; the threads can use at most
    /// `min(threads, cores)` cores.
    pub threads: u64,
    pub cores: u64,
    /// CPU seconds the loader threads used over the run.
    pub cpu_seconds: f64,
    /// Their busiest whole second, as a share of the cores they could use (1.0: every one busy
    /// the whole second), and which second it was.
    pub peak_busy: f64,
    pub peak_second: u64,
}

impl LoaderUse {
    /// A share of the cores at or above this, in any second, means the loader's CPU was a limit.
    pub const SATURATED: f64 = 0.9;

    /// From the CPU time (µs) the loader threads spent in each second.
    pub fn from_seconds(threads: u64, cores: u64, cpu_micros: &[(u64, u64)]) -> Self {
        let usable = threads.min(cores).max(1) as f64 * 1e6;
        let (peak_second, peak) = cpu_micros
            .iter()
            .copied()
            .max_by_key(|&(second, micros)| (micros, std::cmp::Reverse(second)))
            .unwrap_or((0, 0));
        Self {
            threads,
            cores,
            cpu_seconds: cpu_micros.iter().map(|&(_, m)| m as f64).sum::<f64>() / 1e6,
            peak_busy: peak as f64 / usable,
            peak_second,
        }
    }

    /// True when the threads' CPU was a limit in some second.
    pub fn saturated(&self) -> bool {
        self.peak_busy >= Self::SATURATED
    }
}

/// Which part of which test a shard's results are: merge accepts only shards of one plan and start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardRecord {
    /// Shard `index` (from 0) of `count`.
    pub index: u64,
    pub count: u64,
    /// SHA-256 of the plan file's bytes, in hex.
    pub plan_sha256: String,
    /// When the schedule began (`--start-at`), RFC 3339 UTC to the millisecond.
    pub start_at: String,
}

/// The shards a merged summary was made of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeRecord {
    /// How many shards the test was split into.
    pub count: u64,
    pub plan_sha256: String,
    pub start_at: String,
    /// The shard indexes merged.
    pub shards: Vec<u64>,
    /// Shard indexes absent from the merge (only with `--allow-partial`): their load is not in
    /// these results.
    pub missing: Vec<u64>,
}

/// Why and when a run was stopped before the end of its plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStop {
    /// `threshold http_req_duration p(95)<300 failed (abortOnFail)`, `SIGTERM`, `SIGINT (Ctrl-C)`, …
    pub reason: String,
    /// Seconds from the start of the run to the stop.
    pub at_seconds: f64,
}

/// One endpoint with one outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSummary {
    pub scenario: String,
    pub name: String,
    pub method: String,
    /// The status code (`200`) or the error kind (`reset`).
    pub outcome: String,
    /// Whether this outcome counts as failed (an error, or a status outside 200–399).
    pub failed: bool,
    /// Latency from the intended send time to the last byte.
    pub latency: Stats,
    /// From the actual send to the last byte; equals `latency` in the closed model.
    pub service_time: Stats,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// Mean time of each request phase (ms): blocked, connecting, tls_handshaking, sending,
    /// waiting (time to first byte), receiving.
    pub phases_avg_ms: BTreeMap<String, f64>,
}

/// Figures over every request of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub requests: u64,
    pub failures: u64,
    /// failures / requests (0 when no request was sent).
    pub failure_rate: f64,
    /// Requests per second over the whole run: requests / duration_seconds.
    pub rps_avg: f64,
    /// Requests in the busiest one-second window: a whole second, or the window ending with the
    /// run (for a last, partial second: its requests and the rest of the second before it, pro
    /// rata; a run shorter than a second: its requests over its length). Never below `rps_avg`.
    pub rps_peak: f64,
    /// Which second (from 0) was the busiest (the one its window ends in).
    pub peak_second: u64,
    pub latency: Stats,
    pub service_time: Stats,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub iterations: u64,
    pub iteration_duration: Stats,
    /// Arrivals not sent because no virtual user was free (open model).
    pub dropped_iterations: u64,
    /// Open model: how far each arrival's first request was sent after its scheduled time (ms) —
    /// how exactly the schedule was kept. Absent in the closed model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_delay: Option<Stats>,
    /// The send delay of the arrivals that found a VU free at their time: the loader's own
    /// lateness (ms). The rest of `send_delay`'s arrivals found every VU busy and waited for
    /// one — with `quick -q`, for one of its connections to be answered: the target's pace when
    /// this figure is small, a backlog of the loader's own when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_delay_free: Option<Stats>,
    /// Iterations cut short when the run ended: their requests still in flight are counted as
    /// failed with the error `interrupted` (k6's "interrupted iterations").
    #[serde(default)]
    pub interrupted_iterations: u64,
    /// Requests still in flight when their iteration was interrupted. As k6 drops them, they are
    /// in no other figure: not in `requests`, `failures`, latency or any threshold.
    #[serde(default)]
    pub interrupted_requests: u64,
    /// The most virtual users running at any instant (busy ones, in the open model).
    pub max_vus: u64,
    /// The most virtual users allocated at once: running, or idle in an arrival-rate pool.
    #[serde(default)]
    pub vus_allocated: u64,
    /// The most VUs the plan holds at once as k6 plans them, each scenario from its start to its
    /// end plus `gracefulStop` (the VUs k6 initializes before the start); shards add up.
    #[serde(default)]
    pub vus_planned: u64,
    pub checks_passed: u64,
    pub checks_failed: u64,
}

impl Totals {
    /// k6's `vus_max`: the VUs it initialized before the start, and more if an arrival-rate
    /// executor added some — here the larger of the planned and the allocated at once.
    pub fn vus_max(&self) -> u64 {
        self.vus_allocated.max(self.vus_planned)
    }

    /// Open model: the arrivals that found every VU busy and waited for one — those of
    /// `send_delay` not in `send_delay_free`.
    pub fn arrivals_waited(&self) -> u64 {
        let all = self.send_delay.map_or(0, |d| d.count);
        // Saturating: a summary.json read back from disk may have been edited.
        all.saturating_sub(self.send_delay_free.map_or(0, |d| d.count))
    }
}

/// Passes and failures of one check.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSummary {
    pub name: String,
    pub passed: u64,
    pub failed: u64,
}

/// What a summary is built from: the merge of every interval, and a little per-second history.
pub struct SummaryInput<'a> {
    pub started_at: String,
    pub duration_seconds: f64,
    pub open_model: bool,
    pub endpoints: &'a [Endpoint],
    pub check_names: &'a [String],
    /// The merge of every interval of the run.
    pub total: &'a Interval,
    /// (second, requests) of every second.
    pub requests_per_second: &'a [(u64, u64)],
    pub max_vus: u64,
    pub vus_allocated: u64,
    pub thresholds: Vec<ThresholdResult>,
    pub stopped_early: Option<EarlyStop>,
}

impl Summary {
    pub fn build(input: SummaryInput<'_>) -> Self {
        let total = input.total;
        let mut latency = LatencyHistogram::default();
        let mut service_time = LatencyHistogram::default();
        let mut errors_by_kind = BTreeMap::new();
        let mut endpoints = Vec::new();
        for (key, series) in &total.series {
            latency.merge(&series.latency);
            service_time.merge(&series.service_time);
            if let crate::Outcome::Error(kind) = key.outcome {
                *errors_by_kind.entry(kind.as_str().to_owned()).or_insert(0) += series.count;
            }
            let endpoint = &input.endpoints[key.endpoint.0 as usize];
            let phase_names = [
                "blocked",
                "connecting",
                "tls_handshaking",
                "sending",
                "waiting",
                "receiving",
            ];
            let phases_avg_ms = phase_names
                .iter()
                .zip(series.phase_micros)
                .map(|(name, sum)| {
                    (
                        (*name).to_owned(),
                        sum as f64 / series.count.max(1) as f64 / 1e3,
                    )
                })
                .collect();
            endpoints.push(EndpointSummary {
                scenario: endpoint.scenario.clone(),
                name: endpoint.name.clone(),
                method: endpoint.method.clone(),
                outcome: key.outcome.to_string(),
                failed: key.outcome.is_failure(),
                latency: series.latency.stats(),
                service_time: series.service_time.stats(),
                bytes_sent: series.bytes_sent,
                bytes_received: series.bytes_received,
                phases_avg_ms,
            });
        }
        let requests = total.requests();
        let failures = total.failures();
        let (peak_second, rps_peak) = peak_rate(input.requests_per_second, input.duration_seconds);
        let checks: Vec<CheckSummary> = input
            .check_names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let (passed, failed) = total.checks.get(i).copied().unwrap_or((0, 0));
                CheckSummary {
                    name: name.clone(),
                    passed,
                    failed,
                }
            })
            .collect();
        Summary {
            schema_version: SCHEMA_VERSION,
            tool: format!("scalelab {}", env!("CARGO_PKG_VERSION")),
            started_at: input.started_at,
            duration_seconds: input.duration_seconds,
            stopped_early: input.stopped_early,
            open_model: input.open_model,
            totals: Totals {
                requests,
                failures,
                failure_rate: ratio(failures, requests),
                rps_avg: if input.duration_seconds > 0.0 {
                    requests as f64 / input.duration_seconds
                } else {
                    0.0
                },
                rps_peak,
                peak_second,
                latency: latency.stats(),
                service_time: service_time.stats(),
                bytes_sent: endpoints.iter().map(|e| e.bytes_sent).sum(),
                bytes_received: endpoints.iter().map(|e| e.bytes_received).sum(),
                iterations: total.iterations,
                iteration_duration: total.iteration_duration.stats(),
                dropped_iterations: total.dropped_iterations,
                send_delay: (total.send_delay.count() > 0).then(|| total.send_delay.stats()),
                send_delay_free: (total.send_delay_free.count() > 0)
                    .then(|| total.send_delay_free.stats()),
                interrupted_iterations: total.interrupted_iterations,
                interrupted_requests: total.interrupted_requests,
                max_vus: input.max_vus,
                vus_allocated: input.vus_allocated,
                vus_planned: 0,
                checks_passed: checks.iter().map(|c| c.passed).sum(),
                checks_failed: checks.iter().map(|c| c.failed).sum(),
            },
            endpoints,
            errors_by_kind,
            checks,
            custom_metrics: total
                .custom
                .iter()
                .map(|(name, values)| values.summarize(name, input.duration_seconds))
                .collect(),
            thresholds: input.thresholds,
            loader: None,
            shard: None,
            merged: None,
        }
    }

    /// True when every threshold passed (or there were none).
    pub fn thresholds_passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }

    /// Requests answered with an HTTP status, whatever the status: what throughput counts. A
    /// refused connection or a timeout is a request sent, not a response.
    pub fn responses(&self) -> u64 {
        self.endpoints
            .iter()
            .filter(|e| e.outcome.parse::<u16>().is_ok())
            .map(|e| e.latency.count)
            .sum()
    }

    /// Requests sent: those that ended (answered or failed) and those cut off in flight.
    pub fn requests_sent(&self) -> u64 {
        self.totals
            .requests
            .saturating_add(self.totals.interrupted_requests)
    }

    /// True when the run measured no server: requests were sent and none was answered, or none
    /// was sent and no iteration ran (a k6 script may run iterations without a request).
    pub fn nothing_answered(&self) -> bool {
        self.responses() == 0 && (self.requests_sent() > 0 || self.totals.iterations == 0)
    }
}

/// The busiest one-second window of a run of `duration` seconds and its rate, by the second it
/// ends in: each whole second, and for the last, partial second the window ending with the run —
/// that second's requests and, pro rata, the rest of the second before it (a run shorter than a
/// second has the one window, its whole length). The earliest wins a tie.
fn peak_rate(requests_per_second: &[(u64, u64)], duration: f64) -> (u64, f64) {
    let count = |second: u64| {
        requests_per_second
            .iter()
            .find(|(s, _)| *s == second)
            .map_or(0.0, |(_, count)| *count as f64)
    };
    requests_per_second
        .iter()
        .map(|&(second, requests)| {
            let covered = duration - second as f64;
            let rate = if !(0.0..1.0).contains(&covered) || covered == 0.0 {
                requests as f64
            } else if second == 0 {
                requests as f64 / covered
            } else {
                requests as f64 + (1.0 - covered) * count(second - 1)
            };
            (second, rate)
        })
        .fold(
            (0, 0.0),
            |best, this| if this.1 > best.1 { this } else { best },
        )
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn input(total: &Interval) -> SummaryInput<'_> {
        SummaryInput {
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_seconds: 1.0,
            open_model: true,
            endpoints: &[],
            check_names: &[],
            total,
            requests_per_second: &[],
            max_vus: 0,
            vus_allocated: 0,
            thresholds: Vec::new(),
            stopped_early: None,
        }
    }

    fn build(total: &Interval) -> Summary {
        Summary::build(input(total))
    }

    #[test]
    fn the_peak_rate_counts_a_partial_second_over_its_length() {
        let endpoints = [Endpoint {
            scenario: "s".into(),
            name: "ping".into(),
            method: "GET".into(),
            tags: Vec::new(),
        }];
        let rates = |duration_seconds: f64, per_second: &[(u64, u64)]| {
            let mut total = Interval::new(0);
            for _ in 0..per_second.iter().map(|(_, n)| n).sum::<u64>() {
                total.record(&crate::Sample {
                    endpoint: crate::EndpointId(0),
                    outcome: crate::Outcome::Status(200),
                    intended: Duration::ZERO,
                    sent: Duration::ZERO,
                    first_byte: None,
                    done: Duration::from_millis(1),
                    bytes_sent: 0,
                    bytes_received: 0,
                    phases: crate::Phases::default(),
                });
            }
            let summary = Summary::build(SummaryInput {
                duration_seconds,
                requests_per_second: per_second,
                endpoints: &endpoints,
                ..input(&total)
            });
            (
                summary.totals.rps_avg,
                summary.totals.rps_peak,
                summary.totals.peak_second,
            )
        };
        // 30 requests in a 0.3 s run: 100/s on average and at the peak, not a peak of 30.
        let (avg, peak, second) = rates(0.3, &[(0, 30)]);
        assert!(
            (avg - 100.0).abs() < 1e-9 && (peak - 100.0).abs() < 1e-9,
            "{avg} {peak}"
        );
        assert_eq!(second, 0);
        // 1.5 s: 100 in the first second, 100 in the last half: 133.3/s on average; the last
        // window (0.5 s to 1.5 s) holds the last half second's 100 and half the first second's.
        let (avg, peak, second) = rates(1.5, &[(0, 100), (1, 100)]);
        assert!((avg - 200.0 / 1.5).abs() < 1e-9, "{avg}");
        assert_eq!((peak, second), (150.0, 1));
        // A steady 100/s run that ends 5 ms into its third second with 1 request: no peak of
        // 200/s over those 5 ms — the last window holds 1 + 0.995 × 100.
        let (avg, peak, second) = rates(2.005, &[(0, 100), (1, 100), (2, 1)]);
        assert!(avg <= peak && (peak - 100.5).abs() < 1e-9, "{avg} {peak}");
        assert_eq!(second, 2);
        // Whole seconds: the busiest one, the earliest on a tie.
        let (_, peak, second) = rates(3.0, &[(0, 5), (1, 9), (2, 9)]);
        assert_eq!((peak, second), (9.0, 1));
        assert_eq!(rates(0.0, &[]).1, 0.0);
    }

    #[test]
    fn send_delay_is_summarized_only_when_measured_and_old_files_still_read() {
        let mut total = Interval::new(0);
        assert_eq!(build(&total).totals.send_delay, None);
        let (mut a, mut b) = (Interval::new(0), Interval::new(0));
        a.record_send_delay(Duration::from_micros(100), false);
        b.record_send_delay(Duration::from_micros(300), true);
        total.merge(&a);
        total.merge(&b);
        let summary = build(&total);
        let delay = summary.totals.send_delay.unwrap();
        // Two delays, 0.1 and 0.3 ms: mean (0.1 + 0.3) / 2 = 0.2 ms; p99 by k6's rule: rank
        // 0.99 × (2 − 1) = 0.99, so 0.1 + 0.99 × (0.3 − 0.1) = 0.298 ms.
        assert_eq!(delay.count, 2);
        assert!((delay.avg - 0.2).abs() < 1e-3 && (delay.p99 - 0.298).abs() < 1e-3);
        assert!((delay.min - 0.1).abs() < 1e-3);
        // Only the first arrival found a VU free: the loader's own lateness is its 0.1 ms alone.
        let free = summary.totals.send_delay_free.unwrap();
        assert_eq!(free.count, 1);
        assert_eq!(summary.totals.arrivals_waited(), 1);
        assert!((free.max - 0.1).abs() < 1e-3);
        // A summary.json written before the field existed still reads, without it.
        let mut json = serde_json::to_value(&summary).unwrap();
        let totals = json["totals"].as_object_mut().unwrap();
        totals.remove("send_delay");
        totals.remove("send_delay_free");
        let old: Summary = serde_json::from_value(json).unwrap();
        assert_eq!(old.totals.send_delay, None);
        assert_eq!(old.totals.send_delay_free, None);
    }
}
