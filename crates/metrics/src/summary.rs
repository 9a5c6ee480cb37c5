//! The whole run in figures: per endpoint and status, totals, checks and thresholds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::threshold::ThresholdResult;
use crate::{Endpoint, Interval, LatencyHistogram, Stats};

/// Version of the `summary.json` schema; bumped on any incompatible change (2: a threshold's
/// `observed` is `null` when its metric had no samples; `interrupted_iterations`; `stopped_early`).
pub const SCHEMA_VERSION: u32 = 2;

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
    pub thresholds: Vec<ThresholdResult>,
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
    /// requests / duration_seconds.
    pub rps_avg: f64,
    /// Requests completed in the busiest whole second.
    pub rps_peak: u64,
    /// Which second (from 0) was the busiest.
    pub peak_second: u64,
    pub latency: Stats,
    pub service_time: Stats,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub iterations: u64,
    pub iteration_duration: Stats,
    /// Arrivals not sent because no virtual user was free (open model).
    pub dropped_iterations: u64,
    /// Iterations cut short when the run ended: their requests still in flight are counted as
    /// failed with the error `interrupted` (k6's "interrupted iterations").
    #[serde(default)]
    pub interrupted_iterations: u64,
    /// The most virtual users running at any instant (busy ones, in the open model).
    pub max_vus: u64,
    /// The most virtual users allocated at once: running, or idle in an arrival-rate pool (k6's
    /// `vus_max`).
    #[serde(default)]
    pub vus_allocated: u64,
    pub checks_passed: u64,
    pub checks_failed: u64,
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
        let (peak_second, rps_peak) = input
            .requests_per_second
            .iter()
            .copied()
            .max_by_key(|&(second, count)| (count, std::cmp::Reverse(second)))
            .unwrap_or((0, 0));
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
                interrupted_iterations: total.interrupted_iterations,
                max_vus: input.max_vus,
                vus_allocated: input.vus_allocated,
                checks_passed: checks.iter().map(|c| c.passed).sum(),
                checks_failed: checks.iter().map(|c| c.failed).sum(),
            },
            endpoints,
            errors_by_kind,
            checks,
            thresholds: input.thresholds,
        }
    }

    /// True when every threshold passed (or there were none).
    pub fn thresholds_passed(&self) -> bool {
        self.thresholds.iter().all(|t| t.passed)
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
