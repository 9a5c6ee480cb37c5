//! Two runs side by side: requests per second, error rate and latency percentiles, in total and
//! per endpoint, with the change from the first run (A, the baseline) to the second (B), and limits
//! such as `p95>+10%` that say when the change is a regression.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};
use std::str::FromStr;

use scalelab_metrics::output::hlog_tag;
use scalelab_metrics::{LatencyHistogram, Summary};

use crate::RunResults;
use crate::format::{millis, number};

/// A figure compared between two runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// Requests per second over the run.
    Rps,
    /// Failed requests, in percent of requests.
    ErrorRate,
    P50,
    P95,
    P99,
}

impl Figure {
    const ALL: [Figure; 5] = [
        Figure::Rps,
        Figure::ErrorRate,
        Figure::P50,
        Figure::P95,
        Figure::P99,
    ];

    /// The name a `--fail-if` limit uses.
    pub fn name(self) -> &'static str {
        match self {
            Figure::Rps => "rps",
            Figure::ErrorRate => "error_rate",
            Figure::P50 => "p50",
            Figure::P95 => "p95",
            Figure::P99 => "p99",
        }
    }

    /// The unit of an absolute change.
    fn unit(self) -> &'static str {
        match self {
            Figure::Rps => "requests/s",
            Figure::ErrorRate => "points",
            _ => "ms",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Figure::Rps => "requests/s",
            Figure::ErrorRate => "error rate %",
            Figure::P50 => "p50 ms",
            Figure::P95 => "p95 ms",
            Figure::P99 => "p99 ms",
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Figure::Rps => number(value, 1),
            Figure::ErrorRate => format!("{value:.2}"),
            _ => millis(value),
        }
    }
}

/// The compared figures of one run, in total or for one endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    pub rps: f64,
    /// Percent of requests that failed.
    pub error_rate: f64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

impl Figures {
    /// The value of `figure`.
    pub fn get(&self, figure: Figure) -> f64 {
        match figure {
            Figure::Rps => self.rps,
            Figure::ErrorRate => self.error_rate,
            Figure::P50 => self.p50,
            Figure::P95 => self.p95,
            Figure::P99 => self.p99,
        }
    }
}

/// One row of a comparison: the total, or an endpoint (by request name) with its figures in each
/// run (`None` where the run did not request it).
#[derive(Clone, Debug, PartialEq)]
pub struct CompareRow {
    pub label: String,
    pub a: Option<Figures>,
    pub b: Option<Figures>,
}

/// Runs A and B side by side: the total first, then every endpoint either run requested; with
/// each run's second-to-second noise, and what makes the runs unlike.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub rows: Vec<CompareRow>,
    /// The noise of A and of B.
    pub noise: (Noise, Noise),
    /// Why the runs may not be comparable ([`unlike`]); empty when nothing was seen.
    pub warnings: Vec<String>,
}

impl Comparison {
    pub fn new(a: &RunResults, b: &RunResults) -> Self {
        let (a_endpoints, b_endpoints) = (endpoint_figures(a), endpoint_figures(b));
        let mut rows = vec![CompareRow {
            label: "total".into(),
            a: Some(total_figures(a)),
            b: Some(total_figures(b)),
        }];
        for (name, _) in a_endpoints.iter().chain(&b_endpoints) {
            if rows.iter().skip(1).any(|row| &row.label == name) {
                continue;
            }
            let find =
                |list: &[(String, Figures)]| list.iter().find(|(n, _)| n == name).map(|(_, f)| *f);
            rows.push(CompareRow {
                label: name.clone(),
                a: find(&a_endpoints),
                b: find(&b_endpoints),
            });
        }
        Self {
            rows,
            noise: (Noise::of(a), Noise::of(b)),
            warnings: unlike(&a.summary, &b.summary),
        }
    }

    /// The total's figures in A and B.
    pub fn total(&self) -> (Figures, Figures) {
        let total = &self.rows[0];
        (total.a.unwrap_or_default(), total.b.unwrap_or_default())
    }

    /// The larger noise of the two runs for `figure` (in % of the figure), when both have one.
    pub fn noise(&self, figure: Figure) -> Option<f64> {
        let (a, b) = self.noise;
        Some(a.get(figure)?.max(b.get(figure)?))
    }

    /// The comparison as text: a line per row and figure with A, B and the change in percent (in
    /// percentage points for the error rate); on the total's lines the runs' noise, and `within
    /// noise` where the change is smaller.
    pub fn table(&self) -> String {
        let width = self
            .rows
            .iter()
            .map(|row| row.label.len())
            .chain([8])
            .max()
            .unwrap_or(8);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "  {:<width$}  {:<13} {:>12} {:>12} {:>10} {:>9}",
            "endpoint", "figure", "A", "B", "change", "noise"
        );
        for (index, row) in self.rows.iter().enumerate() {
            for figure in Figure::ALL {
                let a = row.a.map(|f| f.get(figure));
                let b = row.b.map(|f| f.get(figure));
                let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| figure.format(v));
                let relative = a.zip(b).map(|(a, b)| relative_change(a, b));
                let change = match (a, b) {
                    (Some(a), Some(b)) if figure == Figure::ErrorRate => {
                        format!("{:+.2} pt", b - a)
                    }
                    _ => relative.map_or("-".to_owned(), percent_text),
                };
                let noise = self.noise(figure).filter(|_| index == 0);
                let noise_text = noise.map_or(String::new(), |noise| format!("±{noise:.1} %"));
                let within = match (noise, relative) {
                    (Some(noise), Some(change)) if change.abs() < noise => "  within noise",
                    _ => "",
                };
                let line = format!(
                    "  {:<width$}  {:<13} {:>12} {:>12} {:>10} {:>9}{within}",
                    if figure == Figure::Rps {
                        row.label.as_str()
                    } else {
                        ""
                    },
                    figure.label(),
                    show(a),
                    show(b),
                    change,
                    noise_text
                );
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
        out
    }
}

/// The change from `a` to `b` in percent of `a` (infinite when `a` is 0 and `b` is not).
pub fn relative_change(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else if a == 0.0 {
        f64::INFINITY.copysign(b)
    } else {
        (b - a) / a.abs() * 100.0
    }
}

fn percent_text(change: f64) -> String {
    if change.is_infinite() {
        if change > 0.0 { "+inf %" } else { "-inf %" }.to_owned()
    } else {
        format!("{change:+.1} %")
    }
}

fn total_figures(results: &RunResults) -> Figures {
    let totals = &results.summary.totals;
    Figures {
        rps: totals.rps_avg,
        error_rate: totals.failure_rate * 100.0,
        p50: totals.latency.p50,
        p95: totals.latency.p95,
        p99: totals.latency.p99,
    }
}

/// Figures per request name: counts from the summary, percentiles from the latency log's
/// histograms of every outcome of that name, merged exactly.
fn endpoint_figures(results: &RunResults) -> Vec<(String, Figures)> {
    let summary = &results.summary;
    let mut names: Vec<&str> = Vec::new();
    let mut counts: BTreeMap<&str, (u64, u64, LatencyHistogram)> = BTreeMap::new();
    for endpoint in &summary.endpoints {
        let name = endpoint.name.as_str();
        if !names.contains(&name) {
            names.push(name);
        }
        let (requests, failures, latency) = counts.entry(name).or_default();
        *requests += endpoint.latency.count;
        if endpoint.failed {
            *failures += endpoint.latency.count;
        }
        if let Some(histogram) = results
            .latency
            .by_tag
            .get(&hlog_tag(name, &endpoint.outcome))
        {
            latency.merge(histogram);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let (requests, failures, latency) = &counts[name];
            let stats = latency.stats();
            let figures = Figures {
                rps: if summary.duration_seconds > 0.0 {
                    *requests as f64 / summary.duration_seconds
                } else {
                    0.0
                },
                error_rate: if *requests > 0 {
                    *failures as f64 / *requests as f64 * 100.0
                } else {
                    0.0
                },
                p50: stats.p50,
                p95: stats.p95,
                p99: stats.p99,
            };
            (name.to_owned(), figures)
        })
        .collect()
}

/// The second-to-second spread of one run: for each figure, the coefficient of variation of its
/// per-second values over the run's whole seconds (the last, partial second left out), in percent.
/// `None` where fewer than two seconds had a value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Noise {
    /// Of the requests completed in each second.
    pub rps: Option<f64>,
    /// Of each second's percentiles, over the seconds with requests.
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Noise {
    /// The spread of `results`, from its latency log's per-second histograms.
    pub fn of(results: &RunResults) -> Self {
        let whole_seconds = results.summary.duration_seconds.floor();
        let seconds: Vec<&LatencyHistogram> = results
            .latency
            .per_second
            .iter()
            .filter(|(second, _)| (*second as f64) < whole_seconds)
            .map(|(_, histogram)| histogram)
            .collect();
        let counts: Vec<f64> = seconds.iter().map(|h| h.count() as f64).collect();
        let percentile = |p: f64| {
            let values: Vec<f64> = seconds
                .iter()
                .filter(|h| h.count() > 0)
                .map(|h| h.percentile(p))
                .collect();
            coefficient_of_variation(&values)
        };
        Self {
            rps: coefficient_of_variation(&counts),
            p50: percentile(50.0),
            p95: percentile(95.0),
            p99: percentile(99.0),
        }
    }

    /// The spread of `figure`; the error rate has none (its limits are absolute).
    pub fn get(&self, figure: Figure) -> Option<f64> {
        match figure {
            Figure::Rps => self.rps,
            Figure::ErrorRate => None,
            Figure::P50 => self.p50,
            Figure::P95 => self.p95,
            Figure::P99 => self.p99,
        }
    }
}

/// The sample standard deviation of `values` (n − 1 in the denominator) in percent of their mean;
/// `None` for fewer than two values or a mean of 0.
pub fn coefficient_of_variation(values: &[f64]) -> Option<f64> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 || mean <= 0.0 {
        return None;
    }
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    Some(variance.sqrt() / mean * 100.0)
}

/// What makes runs `a` and `b` unlike, one sentence each: a comparison of them may show the
/// difference in how they ran rather than in the service.
pub fn unlike(a: &Summary, b: &Summary) -> Vec<String> {
    let mut why = Vec::new();
    for (run, summary) in [("A", a), ("B", b)] {
        if let Some(stop) = &summary.stopped_early {
            why.push(format!(
                "{run} stopped early at {:.1} s ({})",
                stop.at_seconds, stop.reason
            ));
        }
    }
    let model = |open| if open { "open" } else { "closed" };
    if a.open_model != b.open_model {
        why.push(format!(
            "A ran the {} model and B the {} model: their latencies count from different times",
            model(a.open_model),
            model(b.open_model)
        ));
    }
    let (shorter, longer) = if a.duration_seconds <= b.duration_seconds {
        (a.duration_seconds, b.duration_seconds)
    } else {
        (b.duration_seconds, a.duration_seconds)
    };
    if longer > shorter * (1.0 + UNLIKE_DURATION) {
        why.push(format!(
            "the runs lasted {:.1} s (A) and {:.1} s (B)",
            a.duration_seconds, b.duration_seconds
        ));
    }
    let plan = |s: &Summary| {
        s.merged
            .as_ref()
            .map(|m| m.plan_sha256.clone())
            .or_else(|| s.shard.as_ref().map(|s| s.plan_sha256.clone()))
    };
    let requested = |s: &Summary| {
        s.endpoints
            .iter()
            .map(|e| format!("{} {}", e.method, e.name))
            .collect::<BTreeSet<_>>()
    };
    if let (Some(pa), Some(pb)) = (plan(a), plan(b))
        && pa != pb
    {
        why.push("the runs come from different plans (their plans' SHA-256 differ)".into());
    } else if requested(a) != requested(b) {
        let (ra, rb) = (requested(a), requested(b));
        let only = |x: &BTreeSet<String>, y: &BTreeSet<String>| {
            let names: Vec<&str> = x.difference(y).map(String::as_str).collect();
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        };
        why.push(format!(
            "the runs requested different endpoints (only in A: {}; only in B: {}): different plans?",
            only(&ra, &rb),
            only(&rb, &ra)
        ));
    }
    why
}

/// Durations further apart than this share of the shorter make runs unlike.
const UNLIKE_DURATION: f64 = 0.1;

/// A `--fail-if` limit: `FIGURE>CHANGE` or `FIGURE<CHANGE` on the total, where CHANGE is signed and
/// relative with `%` (`p95>+10%`: p95 rose more than 10 %) or absolute without it, in the figure's
/// unit (`error_rate>+0.5`: the error rate rose more than 0.5 percentage points; `p99>+20`: p99
/// rose more than 20 ms).
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    text: String,
    figure: Figure,
    above: bool,
    amount: f64,
    relative: bool,
}

/// A `--fail-if` expression that could not be parsed; the message quotes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitError {
    pub text: String,
    pub why: String,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "limit '{}': {}", self.text, self.why)
    }
}

impl std::error::Error for LimitError {}

impl FromStr for Limit {
    type Err = LimitError;

    fn from_str(text: &str) -> Result<Self, LimitError> {
        let error = |why: String| LimitError {
            text: text.to_owned(),
            why,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(at) = compact.find(['>', '<']) else {
            return Err(error(
                "expected FIGURE>CHANGE or FIGURE<CHANGE, such as p95>+10%".into(),
            ));
        };
        let (name, rest) = compact.split_at(at);
        let figure = Figure::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Figure::ALL.iter().map(|f| f.name()).collect();
                error(format!(
                    "unknown figure '{name}'; known: {}",
                    known.join(", ")
                ))
            })?;
        let above = rest.starts_with('>');
        let change = &rest[1..];
        let (number, relative) = match change.strip_suffix('%') {
            Some(number) => (number, true),
            None => (change, false),
        };
        let amount = number
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| {
                error(format!(
                    "'{change}' is not a change such as +10% (relative) or +0.5 (absolute, in {})",
                    figure.unit()
                ))
            })?;
        Ok(Self {
            text: text.trim().to_owned(),
            figure,
            above,
            amount,
            relative,
        })
    }
}

/// A limit applied to a comparison: the change it saw and whether it was breached.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitResult {
    pub limit: String,
    /// The change of the limit's figure, relative (%) or absolute as the limit is written.
    pub change: f64,
    pub relative: bool,
    pub breached: bool,
    /// The runs' noise for the figure (in %), when the change is smaller than it.
    pub within_noise: Option<f64>,
}

impl fmt::Display for LimitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.breached { "✗" } else { "✓" };
        let change = if self.relative {
            percent_text(self.change)
        } else {
            format!("{:+.3}", self.change)
        };
        let verdict = if self.breached { "regression" } else { "ok" };
        write!(f, "{mark} {}: change {change}, {verdict}", self.limit)?;
        match self.within_noise {
            Some(noise) => write!(f, " (within noise, ±{noise:.1} %)"),
            None => Ok(()),
        }
    }
}

impl Limit {
    /// Tests the limit on the totals of `comparison`.
    pub fn check(&self, comparison: &Comparison) -> LimitResult {
        let (a, b) = comparison.total();
        let (a, b) = (a.get(self.figure), b.get(self.figure));
        let change = if self.relative {
            relative_change(a, b)
        } else {
            b - a
        };
        LimitResult {
            limit: self.text.clone(),
            change,
            relative: self.relative,
            breached: if self.above {
                change > self.amount
            } else {
                change < self.amount
            },
            within_noise: comparison
                .noise(self.figure)
                .filter(|noise| relative_change(a, b).abs() < *noise),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalelab_metrics::EarlyStop;

    fn comparison(a: Figures, b: Figures) -> Comparison {
        Comparison {
            rows: vec![CompareRow {
                label: "total".into(),
                a: Some(a),
                b: Some(b),
            }],
            noise: Default::default(),
            warnings: Vec::new(),
        }
    }

    /// A run of `duration` seconds requesting `names` (one request each, 2 ms), whose latency log
    /// holds `per_second` requests of the given milliseconds in seconds 0, 1, 2, ….
    fn results(
        duration: f64,
        open_model: bool,
        names: &[&str],
        stopped_early: Option<EarlyStop>,
        per_second: &[(u64, u64)],
    ) -> RunResults {
        use scalelab_metrics::{
            Endpoint, EndpointId, Interval, Outcome, Phases, Sample, SummaryInput,
        };
        use std::time::Duration;
        let endpoints: Vec<Endpoint> = names
            .iter()
            .map(|name| Endpoint {
                scenario: "s".into(),
                name: (*name).into(),
                method: "GET".into(),
                tags: vec![],
            })
            .collect();
        let mut total = Interval::new(0);
        for id in 0..endpoints.len() {
            total.record(&Sample {
                endpoint: EndpointId(id as u32),
                outcome: Outcome::Status(200),
                intended: Duration::ZERO,
                sent: Duration::ZERO,
                first_byte: None,
                done: Duration::from_millis(2),
                bytes_sent: 0,
                bytes_received: 0,
                phases: Phases::default(),
            });
        }
        let summary = Summary::build(SummaryInput {
            started_at: String::new(),
            duration_seconds: duration,
            open_model,
            endpoints: &endpoints,
            check_names: &[],
            total: &total,
            requests_per_second: &[(0, total.requests())],
            max_vus: 1,
            vus_allocated: 1,
            thresholds: vec![],
            stopped_early,
        });
        let mut latency = scalelab_metrics::output::LatencyLog::default();
        for (second, &(count, ms)) in per_second.iter().enumerate() {
            let mut histogram = LatencyHistogram::default();
            for _ in 0..count {
                histogram.record(Duration::from_millis(ms));
            }
            latency.per_second.push((second as u64, histogram));
        }
        RunResults {
            summary,
            timeseries: Vec::new(),
            latency,
            cluster: Vec::new(),
        }
    }

    #[test]
    fn the_coefficient_of_variation_is_the_sample_deviation_over_the_mean() {
        // Mean 10; squared deviations 0 + 4 + 4 + 0 = 8 over n - 1 = 3: sd √(8/3) = 1.63299.
        let cv = coefficient_of_variation(&[10.0, 12.0, 8.0, 10.0]).unwrap();
        assert!((cv - 16.329_93).abs() < 1e-4, "{cv}");
        assert_eq!(coefficient_of_variation(&[4.0, 4.0, 4.0]), Some(0.0));
        assert_eq!(coefficient_of_variation(&[5.0]), None);
        assert_eq!(coefficient_of_variation(&[0.0, 0.0]), None);
        assert_eq!(coefficient_of_variation(&[]), None);
    }

    #[test]
    fn the_noise_comes_from_the_whole_seconds_of_the_latency_log() {
        // 3.5 s: seconds 0-2 are whole, second 3 (a lone slow request) is left out.
        // Requests 10, 12, 8: mean 10, sd √((0 + 4 + 4) / 2) = 2, so 20 %.
        // Each second's p95 is its only latency, 10, 20, 30 ms: mean 20, sd 10, so 50 %.
        let run = results(
            3.5,
            false,
            &["a"],
            None,
            &[(10, 10), (12, 20), (8, 30), (1, 900)],
        );
        let noise = Noise::of(&run);
        assert!((noise.rps.unwrap() - 20.0).abs() < 1e-9, "{noise:?}");
        for p in [noise.p50, noise.p95, noise.p99] {
            // Within the histogram's 0.1 % of each value.
            assert!((p.unwrap() - 50.0).abs() < 0.2, "{noise:?}");
        }
        // A second without requests counts as 0 requests but has no percentiles.
        let run = results(3.0, false, &["a"], None, &[(10, 10), (0, 0), (20, 30)]);
        let noise = Noise::of(&run);
        assert!((noise.rps.unwrap() - 100.0).abs() < 1e-9, "{noise:?}");
        assert!((noise.p95.unwrap() - 70.710_678).abs() < 0.2, "{noise:?}");
        assert_eq!(
            Noise::of(&results(1.0, false, &["a"], None, &[(10, 10)])),
            Noise::default()
        );
    }

    #[test]
    fn a_change_smaller_than_the_noise_is_marked() {
        let a = Figures {
            rps: 100.0,
            p95: 20.0,
            ..Figures::default()
        };
        let b = Figures {
            rps: 103.0,
            p95: 30.0,
            ..Figures::default()
        };
        let mut c = comparison(a, b);
        let noisy = Noise {
            rps: Some(5.0),
            p95: Some(10.0),
            ..Noise::default()
        };
        c.noise = (
            noisy,
            Noise {
                rps: Some(2.0),
                p95: Some(12.0),
                ..noisy
            },
        );
        let table = c.table();
        let line = |figure: &str| {
            table
                .lines()
                .find(|l| l.contains(figure))
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            line("requests/s").ends_with("+3.0 %    ±5.0 %  within noise"),
            "{table}"
        );
        assert!(line("p95 ms").ends_with("+50.0 %   ±12.0 %"), "{table}");
        assert!(
            line("p50 ms").ends_with("+0.0 %"),
            "no noise without per-second values: {table}"
        );
        let check = |text: &str| text.parse::<Limit>().unwrap().check(&c).to_string();
        assert_eq!(
            check("rps<-1%"),
            "✓ rps<-1%: change +3.0 %, ok (within noise, ±5.0 %)"
        );
        assert_eq!(check("p95>+10%"), "✗ p95>+10%: change +50.0 %, regression");
    }

    #[test]
    fn unlike_runs_are_named() {
        let stop = EarlyStop {
            reason: "SIGINT (Ctrl-C)".into(),
            at_seconds: 12.0,
        };
        let a = results(30.0, false, &["home", "cart"], None, &[]).summary;
        let b = results(12.0, true, &["home", "search"], Some(stop), &[]).summary;
        assert_eq!(
            unlike(&a, &b),
            [
                "B stopped early at 12.0 s (SIGINT (Ctrl-C))",
                "A ran the closed model and B the open model: their latencies count from \
                 different times",
                "the runs lasted 30.0 s (A) and 12.0 s (B)",
                "the runs requested different endpoints (only in A: GET cart; only in B: GET \
                 search): different plans?",
            ]
        );
        assert!(unlike(&a, &a).is_empty());
        // Durations within 10 % of each other are alike.
        let c = results(32.9, false, &["cart", "home"], None, &[]).summary;
        assert!(unlike(&a, &c).is_empty(), "{:?}", unlike(&a, &c));
    }

    #[test]
    fn the_table_groups_thousands_as_every_view_does() {
        let a = Figures {
            rps: 12_345.64,
            p99: 1_234.4,
            ..Figures::default()
        };
        let table = comparison(a, a).table();
        assert!(
            table.contains("12,345.6     12,345.6") && table.contains("1,234        1,234"),
            "{table}"
        );
    }

    #[test]
    fn limits_parse_and_say_what_is_wrong() {
        let limit: Limit = "p95 > +10%".parse().unwrap();
        assert_eq!(
            (limit.figure, limit.above, limit.amount, limit.relative),
            (Figure::P95, true, 10.0, true)
        );
        let limit: Limit = "rps<-10%".parse().unwrap();
        assert_eq!((limit.above, limit.amount), (false, -10.0));
        let limit: Limit = "error_rate>+0.5".parse().unwrap();
        assert_eq!((limit.amount, limit.relative), (0.5, false));
        let error = "p96>+10%".parse::<Limit>().unwrap_err().to_string();
        assert_eq!(
            error,
            "limit 'p96>+10%': unknown figure 'p96'; known: rps, error_rate, p50, p95, p99"
        );
        let error = "p95>ten%".parse::<Limit>().unwrap_err().to_string();
        assert!(
            error.starts_with("limit 'p95>ten%': 'ten%' is not a change"),
            "{error}"
        );
        assert!("p95=10%".parse::<Limit>().is_err());
    }

    #[test]
    fn limits_test_relative_and_absolute_changes() {
        let a = Figures {
            rps: 100.0,
            error_rate: 1.0,
            p50: 10.0,
            p95: 20.0,
            p99: 40.0,
        };
        let b = Figures {
            rps: 85.0,
            error_rate: 1.4,
            p50: 10.5,
            p95: 23.0,
            p99: 41.0,
        };
        let c = comparison(a, b);
        let check = |text: &str| text.parse::<Limit>().unwrap().check(&c);
        assert!(check("p95>+10%").breached, "20 -> 23 is +15 %");
        assert!(!check("p95>+20%").breached);
        assert!(check("rps<-10%").breached, "100 -> 85 is -15 %");
        assert!(!check("rps<-20%").breached);
        assert!(!check("error_rate>+0.5").breached, "+0.4 points");
        assert!(check("error_rate>+0.3").breached);
        assert!(check("p99>+0.5").breached, "+1 ms");
        assert_eq!(
            check("p95>+10%").to_string(),
            "✗ p95>+10%: change +15.0 %, regression"
        );
        assert_eq!(relative_change(0.0, 0.0), 0.0);
        assert_eq!(relative_change(0.0, 1.0), f64::INFINITY);
    }
}
