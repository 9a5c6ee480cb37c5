//! The charts of a report, in order, built from the time series and the latency log. A numeric
//! column the time series gains later (replicas, CPU, memory of a cluster run) gets a panel of its
//! own, so new gauges show up without a change here.

use std::collections::BTreeMap;

use scalelab_metrics::output::TimeseriesRow;

use super::chart::{Line, Panel};
use crate::RunResults;

/// Every chart of the report: requests, latency, VUs, arrivals (open model), failures, then one per
/// extra column of the time series.
pub fn panels(results: &RunResults) -> Vec<Panel> {
    let seconds = Seconds::new(&results.timeseries);
    let mut panels = vec![
        requests_by_status(&seconds),
        latency(results),
        users(&seconds),
    ];
    if results.summary.open_model {
        panels.push(arrivals(&seconds));
    }
    panels.push(failures_by_cause(&seconds));
    panels.extend(extra_columns(&seconds));
    panels.extend(super::cluster_panels::cluster_panels(&results.cluster));
    panels
}

/// The rows of the time series grouped by second (0 to the last second written).
struct Seconds<'a> {
    rows: Vec<Vec<&'a TimeseriesRow>>,
}

impl<'a> Seconds<'a> {
    fn new(timeseries: &'a [TimeseriesRow]) -> Self {
        let last = timeseries.iter().map(|row| row.second).max();
        let mut rows = vec![Vec::new(); last.map_or(0, |last| last as usize + 1)];
        for row in timeseries {
            rows[row.second as usize].push(row);
        }
        Self { rows }
    }

    /// A gauge of each second: every row of a second repeats it, so the largest value is taken.
    fn gauge(&self, value: impl Fn(&TimeseriesRow) -> Option<f64>) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(second, rows)| {
                let values = rows.iter().filter_map(|row| value(row));
                values.reduce(f64::max).map(|max| (second as f64, max))
            })
            .collect()
    }

    /// A count of each second summed over rows, per group (`None` leaves a row out).
    fn sums_by(
        &self,
        group: impl Fn(&TimeseriesRow) -> Option<String>,
        value: impl Fn(&TimeseriesRow) -> u64,
    ) -> BTreeMap<String, Vec<(f64, f64)>> {
        let mut sums: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for (second, rows) in self.rows.iter().enumerate() {
            for row in rows {
                if let Some(key) = group(row) {
                    let points = sums
                        .entry(key)
                        .or_insert_with(|| (0..self.rows.len()).map(|s| (s as f64, 0.0)).collect());
                    points[second].1 += value(row) as f64;
                }
            }
        }
        sums
    }
}

fn requests_by_status(seconds: &Seconds<'_>) -> Panel {
    let by_status = seconds.sums_by(
        |row| (!row.status.is_empty()).then(|| row.status.clone()),
        |row| row.count,
    );
    let mut lines: Vec<Line> = by_status
        .iter()
        .enumerate()
        .map(|(i, (status, points))| Line {
            label: status.clone(),
            color: outcome_color(status, i),
            dashed: false,
            points: points.clone(),
        })
        .collect();
    if lines.len() != 1 {
        let all = seconds.sums_by(|_| Some(String::new()), |row| row.count);
        lines.insert(
            0,
            Line {
                label: "all".into(),
                color: "#333333",
                dashed: false,
                points: all.into_values().next().unwrap_or_default(),
            },
        );
    }
    Panel {
        title: "Requests per second by status".into(),
        unit: "requests/s".into(),
        note: "Requests completed in each second, by HTTP status or error kind.".into(),
        lines,
    }
}

fn latency(results: &RunResults) -> Panel {
    let line = |label: &str, color, percentile: f64| Line {
        label: label.into(),
        color,
        dashed: false,
        points: results
            .latency
            .per_second
            .iter()
            .filter(|(_, histogram)| histogram.count() > 0)
            .map(|(second, histogram)| (*second as f64, histogram.percentile(percentile)))
            .collect(),
    };
    let from = if results.summary.open_model {
        "from each request's scheduled send time"
    } else {
        "from each request's send"
    };
    Panel {
        title: "Latency".into(),
        unit: "ms".into(),
        note: format!(
            "p50, p95 and p99 of the requests completed in each second (all endpoints), {from} to its last byte."
        ),
        lines: vec![
            line("p50", "#1f77b4", 50.0),
            line("p95", "#ff7f0e", 95.0),
            line("p99", "#d62728", 99.0),
        ],
    }
}

fn users(seconds: &Seconds<'_>) -> Panel {
    Panel {
        title: "Virtual users".into(),
        unit: "VUs".into(),
        note: "Virtual users running, and requests sent but not yet answered, at the end of each second."
            .into(),
        lines: vec![
            Line {
                label: "VUs".into(),
                color: "#17becf",
                dashed: false,
                points: seconds.gauge(|row| Some(row.vus as f64)),
            },
            Line {
                label: "in flight".into(),
                color: "#7f7f7f",
                dashed: true,
                points: seconds.gauge(|row| Some(row.in_flight as f64)),
            },
        ],
    }
}

fn arrivals(seconds: &Seconds<'_>) -> Panel {
    Panel {
        title: "Arrival rate: target vs achieved".into(),
        unit: "iterations/s".into(),
        note:
            "Open model. Target: arrivals due in each second (iterations completed plus arrivals \
               dropped for want of a free VU). Achieved: iterations completed. A gap means the \
               loader could not keep the schedule."
                .into(),
        lines: vec![
            Line {
                label: "target".into(),
                color: "#9467bd",
                dashed: false,
                points: seconds
                    .gauge(|row| Some(row.iterations as f64 + row.dropped_iterations as f64)),
            },
            Line {
                label: "achieved".into(),
                color: "#2ca02c",
                dashed: true,
                points: seconds.gauge(|row| Some(row.iterations as f64)),
            },
        ],
    }
}

fn failures_by_cause(seconds: &Seconds<'_>) -> Panel {
    let by_cause = seconds.sums_by(
        |row| {
            (row.errors > 0).then(|| match row.status.parse::<u16>() {
                Ok(status) => format!("HTTP {status}"),
                Err(_) => row.status.clone(),
            })
        },
        |row| row.errors,
    );
    let mut lines: Vec<Line> = by_cause
        .into_iter()
        .enumerate()
        .map(|(i, (cause, points))| Line {
            color: outcome_color(cause.trim_start_matches("HTTP "), i),
            dashed: false,
            label: cause,
            points,
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line {
            label: "failed (none)".into(),
            color: "#2ca02c",
            dashed: false,
            points: seconds.gauge(|_| Some(0.0)),
        });
    }
    Panel {
        title: "Failed requests per second by cause".into(),
        unit: "requests/s".into(),
        note: "Errors by kind (reset, request_timeout, …) and responses with a status outside 200–399."
            .into(),
        lines,
    }
}

fn extra_columns(seconds: &Seconds<'_>) -> Vec<Panel> {
    let mut names: Vec<&str> = Vec::new();
    for rows in &seconds.rows {
        for row in rows {
            for (name, _) in &row.extra {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
    }
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Panel {
            title: name.to_owned(),
            unit: name.to_owned(),
            note: format!("The '{name}' column of timeseries.csv in each second."),
            lines: vec![Line {
                label: name.to_owned(),
                color: PALETTE[i % PALETTE.len()],
                dashed: false,
                points: seconds.gauge(|row| {
                    row.extra
                        .iter()
                        .find(|(column, _)| column == name)
                        .map(|(_, value)| *value)
                }),
            }],
        })
        .collect()
}

const PALETTE: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
];

/// A colour that says what an outcome is: greens for 2xx, blue for 3xx, amber for 4xx, red for
/// 5xx, purples and browns for error kinds; `index` tells apart outcomes of one class.
fn outcome_color(outcome: &str, index: usize) -> &'static str {
    let shades: &[&'static str] = match outcome.as_bytes().first() {
        Some(b'2') => &["#2ca02c", "#98df8a", "#1a6b1a"],
        Some(b'3') => &["#1f77b4", "#aec7e8"],
        Some(b'4') => &["#e6a100", "#ffbb78", "#b8860b"],
        Some(b'5') => &["#d62728", "#ff9896", "#8b0000"],
        _ => &["#9467bd", "#8c564b", "#e377c2", "#c5b0d5", "#7f7f7f"],
    };
    shades[index % shades.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(second: u64, status: &str, count: u64, vus: u64) -> TimeseriesRow {
        let failed = status.parse::<u16>().map_or(true, |s| s >= 400);
        TimeseriesRow {
            second,
            scenario: "s".into(),
            name: "ping".into(),
            method: "GET".into(),
            status: status.into(),
            count,
            errors: if failed { count } else { 0 },
            vus,
            iterations: count,
            ..TimeseriesRow::default()
        }
    }

    #[test]
    fn seconds_sum_counts_by_status_and_take_gauges_once() {
        let rows = vec![
            row(0, "200", 5, 2),
            row(0, "503", 1, 2),
            row(2, "200", 7, 3),
            row(2, "reset", 2, 3),
        ];
        let seconds = Seconds::new(&rows);
        let panel = requests_by_status(&seconds);
        let labels: Vec<&str> = panel.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["all", "200", "503", "reset"]);
        assert_eq!(panel.lines[0].points, [(0.0, 6.0), (1.0, 0.0), (2.0, 9.0)]);
        assert_eq!(users(&seconds).lines[0].points, [(0.0, 2.0), (2.0, 3.0)]);
        let failures = failures_by_cause(&seconds);
        let causes: Vec<&str> = failures.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(causes, ["HTTP 503", "reset"]);
        assert_eq!(failures.lines[1].points[2], (2.0, 2.0));
    }

    #[test]
    fn extra_columns_get_a_panel_each() {
        let mut first = row(0, "200", 1, 1);
        first.extra = vec![("replicas".into(), 2.0), ("cpu".into(), 0.5)];
        let mut second = row(1, "200", 1, 1);
        second.extra = vec![("replicas".into(), 3.0)];
        let rows = [first, second];
        let panels = extra_columns(&Seconds::new(&rows));
        assert_eq!(panels.len(), 2);
        assert_eq!(panels[0].title, "replicas");
        assert_eq!(panels[0].lines[0].points, [(0.0, 2.0), (1.0, 3.0)]);
        assert_eq!(panels[1].lines[0].points, [(0.0, 0.5)]);
    }
}
