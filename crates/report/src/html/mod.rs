//! `report.html`: one self-contained page (inline CSS and SVG, no script, no font or file to fetch)
//! with the run's charts over time and the tables of its summary.

mod against_report;
mod chart;
mod cluster_panels;
mod panels;
mod sim_report;
mod sweep_report;

pub use against_report::{against_report, against_tables};
pub use sim_report::{SimPage, sim_report};
pub use sweep_report::{SweepPage, SweepPoint, sweep_report};

use std::fmt::Write;
use std::io;
use std::path::{Path, PathBuf};

use scalelab_metrics::Summary;
use scalelab_metrics::output::write_atomic;

use crate::RunResults;
use crate::format::{bytes, count, escape, millis, number};

pub use chart::{Line, Panel};

/// The name of the report in a results directory.
pub const REPORT_FILE: &str = "report.html";

/// Reads the results in `dir` and writes `dir/report.html` atomically; returns its path.
pub fn write_html_report(dir: &Path) -> io::Result<PathBuf> {
    let results = RunResults::load(dir)?;
    let path = dir.join(REPORT_FILE);
    write_atomic(&path, html_report(&results).as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// The report page for `results`.
pub fn html_report(results: &RunResults) -> String {
    let summary = &results.summary;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>scalelab report, {}</title><style>{STYLE}</style></head><body>\n\
         <header><h1>scalelab report</h1><p>{} · started {} · {} s · {}</p></header>\n",
        escape(&summary.started_at),
        escape(&summary.tool),
        escape(&summary.started_at),
        number(summary.duration_seconds, 1),
        if summary.open_model {
            "open model: latency counts from each request's scheduled send time"
        } else {
            "closed model: latency counts from each request's send time"
        }
    );
    out.push_str(&caveats(summary));
    out.push_str(&tiles(summary));
    out.push_str("<h2>Over time</h2>\n");
    // One time axis for every chart: the load's seconds and, for a cluster run, its cool-down tail.
    let last_second = results
        .timeseries
        .iter()
        .map(|row| row.second)
        .chain(results.cluster.iter().map(|row| row.second))
        .max()
        .unwrap_or(0) as f64;
    for panel in panels::panels(results) {
        out.push_str(&chart::panel_html(&panel, last_second));
    }
    out.push_str(&endpoint_table(summary));
    out.push_str(&errors_table(summary));
    out.push_str(&thresholds_table(summary));
    out.push_str(&checks_table(summary));
    out.push_str("</body></html>\n");
    out
}

/// A table of an [`xy_page`]: a caption, the header cells and the rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// A self-contained page of charts over a quantity other than time (each with its x unit) and
/// tables, every text escaped.
pub fn xy_page(title: &str, subtitle: &str, charts: &[(Panel, &str)], tables: &[Table]) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n\
         <header><h1>{}</h1><p>{}</p></header>\n",
        escape(title),
        escape(title),
        escape(subtitle)
    );
    for (panel, x_unit) in charts {
        let x_max = panel
            .lines
            .iter()
            .flat_map(|line| line.points.iter().map(|&(x, _)| x))
            .fold(0.0, f64::max);
        out.push_str(&chart::xy_panel_html(panel, x_max, x_unit));
    }
    for table in tables {
        let _ = write!(
            out,
            "<h2>{}</h2>\n<table><thead><tr>",
            escape(&table.caption)
        );
        for cell in &table.header {
            let _ = write!(out, "<th>{}</th>", escape(cell));
        }
        out.push_str("</tr></thead><tbody>");
        for row in &table.rows {
            out.push_str("<tr>");
            for cell in row {
                let _ = write!(out, "<td>{}</td>", escape(cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// A banner per fact that limits what the figures tell: stopped early (why, at), nothing answered,
/// the load generator was a limit.
fn caveats(summary: &Summary) -> String {
    [
        crate::evidence::stopped_early(summary),
        crate::evidence::nothing_answered(summary),
        crate::evidence::loader_limit(summary),
    ]
    .into_iter()
    .flatten()
    .map(|caveat| format!("<p class=\"caveat\">{}</p>\n", escape(&caveat)))
    .collect()
}

/// The headline figures of the run.
fn tiles(summary: &Summary) -> String {
    let t = &summary.totals;
    let mut tiles = vec![
        ("requests", count(t.requests)),
        (
            "failed",
            format!("{} ({:.2} %)", count(t.failures), t.failure_rate * 100.0),
        ),
        (
            "requests/s",
            format!(
                "{} avg · {} peak",
                number(t.rps_avg, 1),
                number(t.rps_peak, 1)
            ),
        ),
        (
            "latency p50 / p95 / p99",
            format!(
                "{} / {} / {} ms",
                millis(t.latency.p50),
                millis(t.latency.p95),
                millis(t.latency.p99)
            ),
        ),
        ("max VUs", count(t.max_vus)),
        (
            "iterations",
            format!(
                "{} · {} dropped · {} interrupted{}",
                count(t.iterations),
                count(t.dropped_iterations),
                count(t.interrupted_iterations),
                if t.interrupted_requests > 0 {
                    format!(
                        " ({} requests cut off in flight)",
                        count(t.interrupted_requests)
                    )
                } else {
                    String::new()
                }
            ),
        ),
        (
            "data",
            format!(
                "{} sent · {} received",
                bytes(t.bytes_sent),
                bytes(t.bytes_received)
            ),
        ),
    ];
    if let Some(delay) = &t.send_delay {
        let mut value = format!("{} / {} ms", millis(delay.p50), millis(delay.p99));
        let waited = t.arrivals_waited();
        if waited > 0 {
            let _ = write!(
                value,
                " · {:.2} % waited for a VU",
                100.0 * waited as f64 / delay.count as f64
            );
            if let Some(free) = &t.send_delay_free {
                let _ = write!(value, " (the others' p99 {} ms)", millis(free.p99));
            }
        }
        tiles.push(("send delay p50 / p99", value));
    }
    let mut out = String::from("<div class=\"tiles\">");
    for (label, value) in tiles {
        let _ = write!(
            out,
            "<div class=\"tile\"><div class=\"label\">{label}</div><div class=\"value\">{}</div></div>",
            escape(&value)
        );
    }
    out.push_str("</div>\n");
    out
}

fn endpoint_table(summary: &Summary) -> String {
    let mut out = String::from(
        "<h2>Endpoints</h2>\n<table class=\"endpoints\"><thead><tr><th>scenario</th><th>endpoint</th>\
         <th>status</th><th>count</th><th>requests/s</th><th>p50 ms</th><th>p95 ms</th>\
         <th>p99 ms</th><th>max ms</th></tr></thead><tbody>",
    );
    for endpoint in &summary.endpoints {
        let rate = if summary.duration_seconds > 0.0 {
            endpoint.latency.count as f64 / summary.duration_seconds
        } else {
            0.0
        };
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if endpoint.failed { "failed" } else { "ok" },
            escape(&endpoint.scenario),
            escape(&endpoint.method),
            escape(&endpoint.name),
            escape(&endpoint.outcome),
            count(endpoint.latency.count),
            number(rate, 1),
            millis(endpoint.latency.p50),
            millis(endpoint.latency.p95),
            millis(endpoint.latency.p99),
            millis(endpoint.latency.max),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn errors_table(summary: &Summary) -> String {
    if summary.errors_by_kind.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<h2>Errors by kind</h2>\n<table><thead><tr><th>kind</th><th>requests</th></tr></thead><tbody>",
    );
    for (kind, n) in &summary.errors_by_kind {
        let _ = write!(
            out,
            "<tr class=\"failed\"><td>{}</td><td>{}</td></tr>",
            escape(kind),
            count(*n)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn thresholds_table(summary: &Summary) -> String {
    if summary.thresholds.is_empty() {
        return "<h2>Thresholds</h2>\n<p class=\"note\">The run had no thresholds.</p>\n".into();
    }
    let mut out = String::from(
        "<h2>Thresholds</h2>\n<table class=\"thresholds\"><thead><tr><th></th><th>metric</th>\
         <th>condition</th><th>observed</th></tr></thead><tbody>",
    );
    for threshold in &summary.thresholds {
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if threshold.passed { "ok" } else { "failed" },
            if threshold.passed { "✓" } else { "✗" },
            escape(&threshold.metric),
            escape(&threshold.condition),
            escape(&threshold.observed_text())
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

fn checks_table(summary: &Summary) -> String {
    if summary.checks.is_empty() {
        return "<h2>Checks</h2>\n<p class=\"note\">The run had no checks.</p>\n".into();
    }
    let mut out = String::from(
        "<h2>Checks</h2>\n<table class=\"checks\"><thead><tr><th></th><th>check</th><th>passed</th>\
         <th>failed</th></tr></thead><tbody>",
    );
    for check in &summary.checks {
        let ok = check.failed == 0;
        let _ = write!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            if ok { "ok" } else { "failed" },
            if ok { "✓" } else { "✗" },
            escape(&check.name),
            count(check.passed),
            count(check.failed)
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

pub(crate) const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:24px auto;\
max-width:1000px;padding:0 16px;color:#222;background:#fff}\
header p,.note{color:#555;font-size:14px}h1{margin-bottom:4px}h2{margin-top:32px}\
.caveat{border:1px solid #d33;background:#fdecea;color:#8a1c12;border-radius:6px;padding:8px 12px;\
font-weight:600}\
.tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{border:1px solid #ddd;border-radius:6px;padding:8px 12px}\
.tile .label{font-size:12px;color:#666}.tile .value{font-size:16px;font-weight:600}\
.panel{margin:16px 0 28px}.panel h3{margin:0 0 2px}.panel .note{margin:0 0 6px}\
.legend{list-style:none;padding:0;margin:0 0 4px;display:flex;flex-wrap:wrap;gap:14px;font-size:13px}\
.swatch{display:inline-block;width:14px;height:4px;margin-right:5px;vertical-align:middle}\
.chart{width:100%;height:auto;display:block}\
.chart .grid line{stroke:#e5e5e5;stroke-width:1}\
.chart text{font-size:11px;fill:#666}.chart text.y{text-anchor:end}.chart text.x{text-anchor:middle}\
.chart text.unit{text-anchor:middle}\
.chart .line{fill:none;stroke-width:2;stroke-linejoin:round}\
table{border-collapse:collapse;font-size:13px;width:100%}\
th,td{border-bottom:1px solid #eee;padding:4px 8px;text-align:right}\
th:nth-child(-n+3),td:nth-child(-n+3){text-align:left}\
tr.failed td{color:#b00020}";

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scalelab_metrics::Interval;

    use super::*;
    use crate::test_support::summary_of;

    #[test]
    fn the_send_delay_tile_says_how_many_arrivals_waited() {
        let mut total = Interval::new(0);
        for (micros, waited) in [(100, false), (200, false), (5_000, true)] {
            total.record_send_delay(Duration::from_micros(micros), waited);
        }
        let summary = summary_of(&total, None);
        // One of three waited: 33.33 %; the two that found a VU free, 0.1 and 0.2 ms, have a p99
        // of 0.1 + 0.99 × 0.1 = 0.199 ms (k6's interpolation).
        let html = tiles(&summary);
        assert!(html.contains("send delay p50 / p99"), "{html}");
        assert!(
            html.contains("33.33 % waited for a VU (the others&#39; p99 0.199 ms)"),
            "{html}"
        );
    }

    #[test]
    fn a_run_stopped_early_or_unanswered_carries_a_banner_saying_so() {
        let total = Interval::new(0);
        let mut summary = summary_of(
            &total,
            Some(scalelab_metrics::EarlyStop {
                reason: "SIGTERM".into(),
                at_seconds: 3.25,
            }),
        );
        summary.totals.interrupted_requests = 2;
        let html = caveats(&summary);
        assert_eq!(
            html,
            "<p class=\"caveat\">stopped early at 3.2 s: SIGTERM (the figures cover the run until \
             then)</p>\n<p class=\"caveat\">nothing answered: none of 2 requests got a response \
             (2 in flight when the run ended); these figures measure no server</p>\n"
        );
        // A run that ran to its end and was answered has none.
        summary.stopped_early = None;
        summary.totals.requests = 1;
        summary.endpoints.push(scalelab_metrics::EndpointSummary {
            scenario: "s".into(),
            name: "ping".into(),
            method: "GET".into(),
            outcome: "200".into(),
            failed: false,
            latency: scalelab_metrics::Stats {
                count: 1,
                ..summary.totals.latency
            },
            service_time: summary.totals.latency,
            bytes_sent: 0,
            bytes_received: 0,
            phases_avg_ms: Default::default(),
        });
        assert_eq!(caveats(&summary), "");
    }

    #[test]
    fn an_xy_page_has_its_charts_over_their_own_axis_and_escaped_tables() {
        let panel = Panel {
            title: "Throughput".into(),
            unit: "requests/s".into(),
            note: "n".into(),
            lines: vec![Line {
                label: "ok".into(),
                color: "#123456",
                dashed: false,
                points: vec![(5.0, 5.0), (40.0, 30.0)],
            }],
        };
        let page = xy_page(
            "capacity <test>",
            "sub",
            &[(panel, " /s")],
            &[Table {
                caption: "Steps".into(),
                header: vec!["step".into()],
                rows: vec![vec!["a&b".into()]],
            }],
        );
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>capacity &lt;test&gt;</title>"));
        // The x axis runs to the largest x (40), ticks every 5 with the unit.
        assert!(page.contains(">40 /s</text>") && page.contains(">5 /s</text>"));
        assert!(page.contains("<td>a&amp;b</td>"));
        assert!(!page.contains("<script"));
    }
}
