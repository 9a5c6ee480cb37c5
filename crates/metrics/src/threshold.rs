//! k6 thresholds: `http_req_duration{name:cpu}` with conditions like `p(95)<300`, parsed and
//! evaluated against a run's totals.
//!
//! Metrics: trends `http_req_duration`, `http_req_waiting`, `iteration_duration` (in ms: `avg`,
//! `min`, `med`, `max`, `p(N)`); rates `http_req_failed`, `checks` (`rate`); counters `http_reqs`,
//! `iterations`, `dropped_iterations`, `data_sent`, `data_received` (`count`, `rate` per second).
//! Tag filters on HTTP metrics: `name`, `method`, `status`, `scenario`, `expected_response` and any
//! request tag; on
//! `checks`: `check`. A script's custom metrics (`k6/metrics`): trends as above, counters `count` and
//! `rate`, rates `rate`, gauges `value`; a tag filter makes a sub-metric (the values added
//! with those tags), kept only when a threshold names it, as in k6.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{CustomKind, CustomValues, Endpoint, Interval, LatencyHistogram, SeriesKey};

/// A threshold that could not be parsed; the message quotes it and says what is expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("threshold '{text}': {why}")]
pub struct ThresholdError {
    pub text: String,
    pub why: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Metric {
    HttpReqDuration,
    HttpReqWaiting,
    IterationDuration,
    HttpReqFailed,
    Checks,
    HttpReqs,
    Iterations,
    DroppedIterations,
    DataSent,
    DataReceived,
    /// A script's custom metric of this type.
    Custom(CustomKind),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Trend,
    Rate,
    Counter,
    Gauge,
}

impl Metric {
    const NAMES: [(&'static str, Metric); 10] = [
        ("http_req_duration", Metric::HttpReqDuration),
        ("http_req_waiting", Metric::HttpReqWaiting),
        ("iteration_duration", Metric::IterationDuration),
        ("http_req_failed", Metric::HttpReqFailed),
        ("checks", Metric::Checks),
        ("http_reqs", Metric::HttpReqs),
        ("iterations", Metric::Iterations),
        ("dropped_iterations", Metric::DroppedIterations),
        ("data_sent", Metric::DataSent),
        ("data_received", Metric::DataReceived),
    ];

    fn kind(self) -> Kind {
        match self {
            Metric::HttpReqDuration | Metric::HttpReqWaiting | Metric::IterationDuration => {
                Kind::Trend
            }
            Metric::HttpReqFailed | Metric::Checks => Kind::Rate,
            Metric::Custom(CustomKind::Trend) => Kind::Trend,
            Metric::Custom(CustomKind::Rate) => Kind::Rate,
            Metric::Custom(CustomKind::Gauge) => Kind::Gauge,
            _ => Kind::Counter,
        }
    }

    /// Whether samples of this metric can be filtered by `tag`: HTTP metrics by any request tag,
    /// `checks` by check name, the iteration counters by nothing.
    fn filterable_by(self, tag: &str) -> bool {
        match self {
            Metric::HttpReqDuration
            | Metric::HttpReqWaiting
            | Metric::HttpReqFailed
            | Metric::HttpReqs
            | Metric::DataSent
            | Metric::DataReceived => tag != "check",
            Metric::Checks => tag == "check",
            // A custom metric's sub-metric: the tags passed to `add()`.
            Metric::Custom(_) => true,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Aggregation {
    Avg,
    Min,
    Med,
    Max,
    Percentile(f64),
    Rate,
    Count,
    Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
    NotEqual,
}

impl Comparison {
    fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Comparison::Less => observed < limit,
            Comparison::LessOrEqual => observed <= limit,
            Comparison::Greater => observed > limit,
            Comparison::GreaterOrEqual => observed >= limit,
            Comparison::Equal => observed == limit,
            Comparison::NotEqual => observed != limit,
        }
    }
}

/// A parsed threshold condition on a (filtered) metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The metric as written, filters included.
    pub metric_text: String,
    /// The condition as written.
    pub condition_text: String,
    pub abort_on_fail: bool,
    /// The metric's name, without filters.
    name: String,
    metric: Metric,
    filters: Vec<(String, String)>,
    aggregation: Aggregation,
    comparison: Comparison,
    limit: f64,
}

/// A threshold's verdict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdResult {
    pub metric: String,
    pub condition: String,
    /// The value the condition was tested on, in `unit`; `None` when the metric has no samples (no
    /// request, iteration or check to measure), which fails the threshold: a pass never seen is no pass.
    pub observed: Option<f64>,
    /// The unit of `observed`: `ms` for trends, `rate` for a fraction (0–1), `count`, `/s`, `B` or `B/s`.
    #[serde(default)]
    pub unit: String,
    pub passed: bool,
    pub abort_on_fail: bool,
}

impl ThresholdResult {
    /// What was observed, with its unit: `observed 95.0500 ms`, `observed 0.0100 = 1.00 %`, or
    /// `no samples: nothing was measured`.
    pub fn observed_text(&self) -> String {
        match self.observed {
            None => "no samples: nothing was measured".to_owned(),
            Some(value) => match self.unit.as_str() {
                "rate" => format!("observed {value:.4} = {:.2} %", value * 100.0),
                "count" => format!("observed {value}"),
                "B" => format!("observed {value} B"),
                "" => format!("observed {value:.4}"),
                unit => format!("observed {value:.4} {unit}"),
            },
        }
    }
}

impl fmt::Display for ThresholdResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.passed { "✓" } else { "✗" };
        write!(
            f,
            "{mark} {} {} ({})",
            self.metric,
            self.condition,
            self.observed_text()
        )
    }
}

impl Threshold {
    /// Parses `metric` (e.g. `http_req_duration{name:cpu}`) and one `condition` (e.g. `p(95)<300`).
    pub fn parse(
        metric: &str,
        condition: &str,
        abort_on_fail: bool,
    ) -> Result<Self, ThresholdError> {
        Self::parse_with(metric, condition, abort_on_fail, &[])
    }

    /// As [`Threshold::parse`], where `custom` are a script's custom metrics and their types.
    pub fn parse_with(
        metric: &str,
        condition: &str,
        abort_on_fail: bool,
        custom: &[(String, CustomKind)],
    ) -> Result<Self, ThresholdError> {
        let error = |why: String| ThresholdError {
            text: format!("{metric}: {condition}"),
            why,
        };
        let (name, filters) = parse_metric(metric).map_err(error)?;
        let metric_kind = Metric::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
            .or_else(|| {
                custom
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, kind)| Metric::Custom(*kind))
            })
            .ok_or_else(|| {
                let known: Vec<&str> = Metric::NAMES
                    .iter()
                    .map(|(n, _)| *n)
                    .chain(custom.iter().map(|(n, _)| n.as_str()))
                    .collect();
                error(format!(
                    "unknown metric '{name}'; known: {}",
                    known.join(", ")
                ))
            })?;
        for (key, _) in &filters {
            if !metric_kind.filterable_by(key) {
                return Err(error(format!("'{name}' cannot be filtered by '{key}'")));
            }
        }
        let (aggregation, comparison, limit) = parse_condition(condition).map_err(error)?;
        let allowed = match (metric_kind.kind(), aggregation) {
            (Kind::Trend, Aggregation::Rate | Aggregation::Count | Aggregation::Value) => false,
            (Kind::Trend, _) => true,
            (Kind::Rate, Aggregation::Rate) => true,
            (Kind::Counter, Aggregation::Count | Aggregation::Rate) => true,
            (Kind::Gauge, Aggregation::Value) => true,
            _ => false,
        };
        if !allowed {
            let expected = match metric_kind.kind() {
                Kind::Trend => "avg, min, med, max or p(N)",
                Kind::Rate => "rate",
                Kind::Counter => "count or rate",
                Kind::Gauge => "value",
            };
            return Err(error(format!("'{name}' takes {expected}")));
        }
        Ok(Self {
            metric_text: metric.to_owned(),
            condition_text: condition.to_owned(),
            abort_on_fail,
            name,
            metric: metric_kind,
            filters,
            aggregation,
            comparison,
            limit,
        })
    }

    /// Tests the threshold on the totals of a run so far. A metric without samples fails.
    pub fn evaluate(&self, run: &RunView<'_>) -> ThresholdResult {
        let observed = self.observe(run);
        ThresholdResult {
            metric: self.metric_text.clone(),
            condition: self.condition_text.clone(),
            observed,
            unit: self.unit().to_owned(),
            passed: observed.is_some_and(|value| self.comparison.holds(value, self.limit)),
            abort_on_fail: self.abort_on_fail,
        }
    }

    fn unit(&self) -> &'static str {
        match (self.metric.kind(), self.aggregation, self.metric) {
            // A custom trend or gauge is in the script's own unit.
            (Kind::Trend | Kind::Gauge, _, Metric::Custom(_)) => "",
            (Kind::Trend, ..) => "ms",
            (Kind::Rate, ..) => "rate",
            (_, Aggregation::Rate, Metric::DataSent | Metric::DataReceived) => "B/s",
            (_, Aggregation::Rate, _) => "/s",
            (_, _, Metric::DataSent | Metric::DataReceived) => "B",
            _ => "count",
        }
    }

    /// The observed value; `None` for a trend or rate with no samples (a counter's 0 is a value).
    fn observe(&self, run: &RunView<'_>) -> Option<f64> {
        let matching = || {
            run.total
                .series
                .iter()
                .filter(|(key, _)| self.matches(key, run.endpoints))
        };
        let per_second = |count: f64| {
            if run.duration_seconds > 0.0 {
                count / run.duration_seconds
            } else {
                0.0
            }
        };
        let counted = |count: f64| {
            Some(match self.aggregation {
                Aggregation::Rate => per_second(count),
                _ => count,
            })
        };
        match self.metric {
            Metric::HttpReqDuration => {
                let mut histogram = LatencyHistogram::default();
                matching().for_each(|(_, s)| histogram.merge(&s.latency));
                self.aggregate(&histogram)
            }
            Metric::HttpReqWaiting => {
                // Only the mean of the waiting phase is kept per series.
                let (sum, count) = matching().fold((0u64, 0u64), |(sum, n), (_, s)| {
                    (sum + s.phase_micros[4], n + s.count)
                });
                (count > 0).then(|| sum as f64 / count as f64 / 1e3)
            }
            Metric::IterationDuration => self.aggregate(&run.total.iteration_duration),
            Metric::HttpReqFailed => {
                let (failed, all) = matching().fold((0, 0), |(f, a), (k, s)| {
                    (
                        f + if k.outcome.is_failure() { s.count } else { 0 },
                        a + s.count,
                    )
                });
                (all > 0).then(|| failed as f64 / all as f64)
            }
            Metric::Checks => {
                let wanted = self
                    .filters
                    .iter()
                    .find(|(k, _)| k == "check")
                    .map(|(_, v)| v.as_str());
                let (passed, failed) = run
                    .total
                    .checks
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| {
                        wanted
                            .is_none_or(|w| run.check_names.get(*i).map(String::as_str) == Some(w))
                    })
                    .fold((0, 0), |(p, f), (_, (cp, cf))| (p + cp, f + cf));
                (passed + failed > 0).then(|| passed as f64 / (passed + failed) as f64)
            }
            Metric::HttpReqs => counted(matching().map(|(_, s)| s.count).sum::<u64>() as f64),
            Metric::DataSent => counted(matching().map(|(_, s)| s.bytes_sent).sum::<u64>() as f64),
            Metric::DataReceived => {
                counted(matching().map(|(_, s)| s.bytes_received).sum::<u64>() as f64)
            }
            Metric::Iterations => counted(run.total.iterations as f64),
            Metric::DroppedIterations => counted(run.total.dropped_iterations as f64),
            Metric::Custom(kind) => match run.total.custom.get(&self.custom_key()) {
                Some(CustomValues::Trend(histogram)) => self.aggregate(histogram),
                Some(CustomValues::Counter { sum, .. }) => counted(*sum),
                Some(CustomValues::Rate { nonzero, total }) => {
                    (*total > 0).then(|| *nonzero as f64 / *total as f64)
                }
                Some(CustomValues::Gauge { last, .. }) => Some(*last),
                // A counter never added to counts 0, as k6's does; the others were not measured.
                None => (kind == CustomKind::Counter)
                    .then(|| counted(0.0))
                    .flatten(),
            },
        }
    }

    /// For a threshold on a custom metric with tag filters: the sub-metric it needs kept.
    pub fn submetric(&self) -> Option<Submetric> {
        (matches!(self.metric, Metric::Custom(_)) && !self.filters.is_empty()).then(|| Submetric {
            metric: self.name.clone(),
            filters: self.filters.clone(),
            key: self.custom_key(),
        })
    }

    fn custom_key(&self) -> String {
        if self.filters.is_empty() {
            return self.name.clone();
        }
        let mut filters = self.filters.clone();
        filters.sort();
        let pairs: Vec<String> = filters.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{}{{{}}}", self.name, pairs.join(","))
    }

    fn aggregate(&self, histogram: &LatencyHistogram) -> Option<f64> {
        if histogram.count() == 0 {
            return None;
        }
        let stats = histogram.stats();
        Some(match self.aggregation {
            Aggregation::Avg => stats.avg,
            Aggregation::Min => stats.min,
            Aggregation::Med => stats.p50,
            Aggregation::Max => stats.max,
            Aggregation::Percentile(p) => histogram.percentile(p),
            Aggregation::Rate | Aggregation::Count | Aggregation::Value => {
                unreachable!("rejected at parse time")
            }
        })
    }

    fn matches(&self, key: &SeriesKey, endpoints: &[Endpoint]) -> bool {
        let endpoint = &endpoints[key.endpoint.0 as usize];
        self.filters.iter().all(|(tag, value)| match tag.as_str() {
            "name" => endpoint.name == *value,
            "method" => endpoint.method.eq_ignore_ascii_case(value),
            "scenario" => endpoint.scenario == *value,
            "status" => key.outcome.to_string() == *value,
            "expected_response" => (value == "true") != key.outcome.is_failure(),
            tag => endpoint.tags.iter().any(|(k, v)| k == tag && v == value),
        })
    }
}

/// A custom metric's values added with some tags (`my_trend{kind:x}`), kept under `key` (the
/// filters sorted).
#[derive(Debug, Clone, PartialEq)]
pub struct Submetric {
    pub metric: String,
    pub filters: Vec<(String, String)>,
    pub key: String,
}

impl Submetric {
    /// Whether a value added to `metric` with `tags` belongs to this sub-metric.
    pub fn selects(&self, metric: &str, tags: &[(String, String)]) -> bool {
        self.metric == metric && self.filters.iter().all(|f| tags.contains(f))
    }
}

/// What thresholds are evaluated on: the merge of the run's intervals so far.
pub struct RunView<'a> {
    pub endpoints: &'a [Endpoint],
    pub check_names: &'a [String],
    pub total: &'a Interval,
    pub duration_seconds: f64,
}

fn parse_metric(text: &str) -> Result<(String, Vec<(String, String)>), String> {
    let text = text.trim();
    let Some((name, rest)) = text.split_once('{') else {
        return Ok((text.to_owned(), Vec::new()));
    };
    let body = rest
        .strip_suffix('}')
        .ok_or("a tag filter must end with '}'")?;
    let filters = body
        .split(',')
        .map(|pair| {
            let (key, value) = pair
                .split_once(':')
                .ok_or_else(|| format!("tag filter '{pair}' is not key:value"))?;
            Ok((
                key.trim().to_owned(),
                value.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect::<Result<_, String>>()?;
    Ok((name.trim().to_owned(), filters))
}

fn parse_condition(text: &str) -> Result<(Aggregation, Comparison, f64), String> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let operators = [
        ("===", Comparison::Equal),
        ("==", Comparison::Equal),
        ("!=", Comparison::NotEqual),
        ("<=", Comparison::LessOrEqual),
        (">=", Comparison::GreaterOrEqual),
        ("<", Comparison::Less),
        (">", Comparison::Greater),
    ];
    let (position, operator, comparison) = operators
        .iter()
        .filter_map(|(op, cmp)| compact.find(op).map(|pos| (pos, *op, *cmp)))
        .min_by_key(|(pos, op, _)| (*pos, std::cmp::Reverse(op.len())))
        .ok_or("expected a condition like 'p(95)<300' or 'rate<0.01'")?;
    let (left, right) = (&compact[..position], &compact[position + operator.len()..]);
    let limit: f64 = right
        .parse()
        .map_err(|_| format!("'{right}' is not a number"))?;
    if !limit.is_finite() {
        return Err(format!("'{right}' is not a finite number"));
    }
    let aggregation = match left {
        "avg" => Aggregation::Avg,
        "min" => Aggregation::Min,
        "med" => Aggregation::Med,
        "max" => Aggregation::Max,
        "rate" => Aggregation::Rate,
        "count" => Aggregation::Count,
        "value" => Aggregation::Value,
        _ => {
            let p = left
                .strip_prefix("p(")
                .and_then(|r| r.strip_suffix(')'))
                .and_then(|p| p.parse::<f64>().ok())
                .filter(|p| (0.0..=100.0).contains(p))
                .ok_or_else(|| {
                    format!("'{left}' is not avg, min, med, max, p(N), rate, count or value")
                })?;
            Aggregation::Percentile(p)
        }
    };
    Ok((aggregation, comparison, limit))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{EndpointId, ErrorKind, Outcome, Phases, Sample};

    fn run() -> (Vec<Endpoint>, Vec<String>, Interval) {
        let endpoints = vec![
            Endpoint {
                scenario: "s".into(),
                name: "cpu".into(),
                method: "GET".into(),
                tags: vec![("type".into(), "API".into())],
            },
            Endpoint {
                scenario: "s".into(),
                name: "ping".into(),
                method: "POST".into(),
                tags: vec![],
            },
        ];
        let mut total = Interval::new(0);
        // cpu: 1..=100 ms, all 200; ping: 10 × 5 ms with status 500 and 10 resets.
        let mut record = |endpoint: u32, outcome, ms: u64| {
            total.record(&Sample {
                endpoint: EndpointId(endpoint),
                outcome,
                intended: Duration::ZERO,
                sent: Duration::ZERO,
                first_byte: None,
                done: Duration::from_millis(ms),
                bytes_sent: 10,
                bytes_received: 100,
                phases: Phases {
                    waiting: Duration::from_millis(ms / 2),
                    ..Phases::default()
                },
            })
        };
        for ms in 1..=100 {
            record(0, Outcome::Status(200), ms);
        }
        for _ in 0..10 {
            record(1, Outcome::Status(500), 5);
            record(1, Outcome::Error(ErrorKind::Reset), 5);
        }
        total.record_check(0, true);
        total.record_check(0, true);
        total.record_check(0, true);
        total.record_check(1, false);
        total.iterations = 120;
        total.dropped_iterations = 6;
        (
            endpoints,
            vec!["status is 200".into(), "body".into()],
            total,
        )
    }

    fn check(metric: &str, condition: &str) -> ThresholdResult {
        let (endpoints, check_names, total) = run();
        let view = RunView {
            endpoints: &endpoints,
            check_names: &check_names,
            total: &total,
            duration_seconds: 10.0,
        };
        Threshold::parse(metric, condition, false)
            .unwrap()
            .evaluate(&view)
    }

    #[test]
    fn trends_rates_and_counters_against_hand_computed_values() {
        let observed = |metric: &str, condition: &str| check(metric, condition).observed.unwrap();
        // k6's rule on 1..=100 ms: p(95) at rank 0.95 × 99 = 94.05 -> 95.05; med at 49.5 -> 50.5.
        let r = check("http_req_duration{name:cpu}", "p(95)<96");
        assert!(
            (r.observed.unwrap() - 95.05).abs() < 0.1 && r.passed,
            "{r:?}"
        );
        assert!(!check("http_req_duration{name:cpu}", "p(95)<95").passed);
        assert!((observed("http_req_duration{name:cpu}", "avg<100") - 50.5).abs() < 0.1);
        assert!((observed("http_req_duration{name:cpu}", "med<100") - 50.5).abs() < 0.1);
        // The verdict k6 gives: med<50.4 fails (nearest rank would say 50 and pass).
        assert!(!check("http_req_duration{name:cpu}", "med<50.4").passed);
        assert!((check("http_req_duration", "max<=100").observed.unwrap() - 100.0).abs() < 0.1);
        // 20 of 120 failed.
        assert!(
            (check("http_req_failed", "rate<0.2").observed.unwrap() - 20.0 / 120.0).abs() < 1e-12
        );
        assert!(!check("http_req_failed{method:POST}", "rate<0.5").passed);
        assert_eq!(
            check("http_req_failed{name:cpu}", "rate==0")
                .observed
                .unwrap(),
            0.0
        );
        assert_eq!(check("http_reqs", "count>=120").observed.unwrap(), 120.0);
        assert_eq!(check("http_reqs", "rate>11.9").observed.unwrap(), 12.0);
        assert_eq!(
            check("http_reqs{status:500}", "count==10")
                .observed
                .unwrap(),
            10.0
        );
        assert_eq!(
            check("http_reqs{type:API}", "count==100").observed.unwrap(),
            100.0
        );
        assert_eq!(
            check("http_reqs{type:other}", "count==0").observed.unwrap(),
            0.0
        );
        assert_eq!(
            check("http_reqs{expected_response:true}", "count==100")
                .observed
                .unwrap(),
            100.0
        );
        assert_eq!(check("checks", "rate>0.7").observed.unwrap(), 0.75);
        assert_eq!(
            check("checks{check:body}", "rate==0").observed.unwrap(),
            0.0
        );
        assert_eq!(
            check("dropped_iterations", "count<10").observed.unwrap(),
            6.0
        );
        assert_eq!(
            check("data_received", "count==12000").observed.unwrap(),
            12_000.0
        );
        assert!(
            (check("http_req_waiting{name:cpu}", "avg<100")
                .observed
                .unwrap()
                - 25.0)
                .abs()
                < 0.1
        );
    }

    #[test]
    fn a_metric_without_samples_fails_and_says_so() {
        let empty = Interval::new(0);
        let view = RunView {
            endpoints: &[],
            check_names: &[],
            total: &empty,
            duration_seconds: 3.0,
        };
        let eval = |metric: &str, condition: &str| {
            Threshold::parse(metric, condition, false)
                .unwrap()
                .evaluate(&view)
        };
        for (metric, condition) in [
            ("http_req_duration", "p(95)<100"),
            ("http_req_failed", "rate<0.01"),
            ("checks", "rate>0.9"),
            ("iteration_duration", "avg<100"),
            ("http_req_waiting", "avg<100"),
        ] {
            let result = eval(metric, condition);
            assert_eq!(result.observed, None, "{metric}");
            assert!(
                !result.passed,
                "{metric} {condition} passed with no samples"
            );
            assert!(result.to_string().contains("no samples"), "{result}");
        }
        // A counter's zero is a measurement: nothing dropped passes.
        let dropped = eval("dropped_iterations", "count<10");
        assert_eq!((dropped.observed, dropped.passed), (Some(0.0), true));
        assert_eq!(
            dropped.to_string(),
            "✓ dropped_iterations count<10 (observed 0)"
        );
    }

    #[test]
    fn values_carry_their_units() {
        assert_eq!(
            check("http_req_failed", "rate<0.2").to_string(),
            "✓ http_req_failed rate<0.2 (observed 0.1667 = 16.67 %)"
        );
        assert!(
            check("http_req_duration", "max<=100")
                .to_string()
                .ends_with(" ms)")
        );
        assert!(
            check("http_reqs", "rate>11.9")
                .to_string()
                .ends_with("observed 12.0000 /s)")
        );
        assert!(
            check("data_received", "count>1")
                .to_string()
                .ends_with("observed 12000 B)")
        );
    }

    #[test]
    fn k6_spellings_parse() {
        for condition in [
            "p(90) <600",
            "p(95) < 700",
            "p(99.9)<1500",
            "avg<200",
            "rate<0.01",
            "count>=60",
            "p(100)<2000",
            "med===5",
        ] {
            let metric = if condition.starts_with("rate") {
                "http_req_failed"
            } else if condition.starts_with("count") {
                "http_reqs"
            } else {
                "http_req_duration"
            };
            Threshold::parse(metric, condition, false)
                .unwrap_or_else(|e| panic!("{condition}: {e}"));
        }
    }

    #[test]
    fn bad_thresholds_say_why() {
        let err = |m: &str, c: &str| Threshold::parse(m, c, false).unwrap_err().to_string();
        assert!(err("http_req_duraton", "p(95)<1").contains("unknown metric 'http_req_duraton'"));
        assert!(err("http_req_duration", "rate<1").contains("avg, min, med, max or p(N)"));
        assert!(err("http_req_failed", "p(95)<1").contains("takes rate"));
        assert!(err("http_req_duration", "p(95)<fast").contains("'fast' is not a number"));
        assert!(err("http_req_duration", "p95").contains("expected a condition"));
        assert!(err("http_req_duration{name}", "p(95)<1").contains("key:value"));
        assert!(err("iterations{name:x}", "count<1").contains("cannot be filtered"));
        assert!(err("http_req_duration", "p(101)<1").contains("p(N)"));
        for (metric, condition, value) in [
            ("http_req_duration", "p(95)<NaN", "NaN"),
            ("http_req_failed", "rate<inf", "inf"),
            ("http_reqs", "count>-infinity", "-infinity"),
        ] {
            assert_eq!(
                err(metric, condition),
                format!("threshold '{metric}: {condition}': '{value}' is not a finite number")
            );
        }
    }
}
