//! Two runs side by side: requests per second, error rate and latency percentiles, in total and
//! per endpoint, with the change from the first run (A, the baseline) to the second (B), and limits
//! such as `p95>+10%` that say when the change is a regression.

use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::str::FromStr;

use scalelab_metrics::LatencyHistogram;
use scalelab_metrics::output::hlog_tag;

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

/// Runs A and B side by side: the total first, then every endpoint either run requested.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    pub rows: Vec<CompareRow>,
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
        Self { rows }
    }

    /// The total's figures in A and B.
    pub fn total(&self) -> (Figures, Figures) {
        let total = &self.rows[0];
        (total.a.unwrap_or_default(), total.b.unwrap_or_default())
    }

    /// The comparison as text: a line per row and figure with A, B and the change in percent (in
    /// percentage points for the error rate).
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
            "  {:<width$}  {:<13} {:>12} {:>12} {:>10}",
            "endpoint", "figure", "A", "B", "change"
        );
        for row in &self.rows {
            for figure in Figure::ALL {
                let a = row.a.map(|f| f.get(figure));
                let b = row.b.map(|f| f.get(figure));
                let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| figure.format(v));
                let change = match (a, b) {
                    (Some(a), Some(b)) if figure == Figure::ErrorRate => {
                        format!("{:+.2} pt", b - a)
                    }
                    (Some(a), Some(b)) => percent_text(relative_change(a, b)),
                    _ => "-".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "  {:<width$}  {:<13} {:>12} {:>12} {:>10}",
                    if figure == Figure::Rps {
                        row.label.as_str()
                    } else {
                        ""
                    },
                    figure.label(),
                    show(a),
                    show(b),
                    change
                );
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
        write!(f, "{mark} {}: change {change}, {verdict}", self.limit)
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(a: Figures, b: Figures) -> Comparison {
        Comparison {
            rows: vec![CompareRow {
                label: "total".into(),
                a: Some(a),
                b: Some(b),
            }],
        }
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
