//! `sim-report.html`: a simulated timeline's charts on one time axis — offered, served and unserved
//! load; desired, in-service and pending instances; CPU per instance with the limit; cost so far.

use std::fmt::Write;

use scalelab_scaling::SimResult;

use super::STYLE;
use super::chart::{Line, Panel, panel_html};
use crate::format::escape;

/// What the page says about the run beside its timeline.
#[derive(Debug, Clone)]
pub struct SimPage<'a> {
    /// The command's verdict and settings, one line each.
    pub lines: &'a [String],
    /// The summary table: (figure, value) rows.
    pub figures: &'a [(String, String)],
    /// The load's unit, e.g. "per minute".
    pub unit: &'a str,
    /// The CPU % named in the verdict.
    pub cpu_limit: f64,
    /// Price of one instance-hour, for the cost panel.
    pub usd_per_hour: Option<f64>,
}

/// The report page of a simulation.
pub fn sim_report(result: &SimResult, page: &SimPage) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>scalelab sim</title><style>{STYLE}</style></head><body>\n\
         <header><h1>scalelab sim</h1>"
    );
    for line in page.lines.iter().filter(|l| !l.is_empty()) {
        let _ = write!(out, "<p>{}</p>", escape(line));
    }
    out.push_str("</header>\n<table><tr><th>figure</th><th>value</th></tr>");
    for (figure, value) in page.figures {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(figure),
            escape(value)
        );
    }
    out.push_str("</table>\n<h2>Over time</h2>\n");
    let last_second = result.timeline.last().map_or(0.0, |r| r.end);
    for panel in sim_panels(result, page) {
        out.push_str(&panel_html(&panel, last_second));
    }
    out.push_str("</body></html>\n");
    out
}

fn line(label: &str, color: &'static str, dashed: bool, points: Vec<(f64, f64)>) -> Line {
    Line {
        label: label.into(),
        color,
        dashed,
        points,
    }
}

/// The panels, each value drawn at the end of its step.
fn sim_panels(result: &SimResult, page: &SimPage) -> Vec<Panel> {
    let rows = &result.timeline;
    let series = |f: &dyn Fn(&scalelab_scaling::TimelineRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|r| (r.end, f(r))).collect()
    };
    let mut panels = vec![
        Panel {
            title: "Offered load".into(),
            unit: format!("requests {}", page.unit),
            note: format!(
                "Mean offered load of each step, the part the instances in service served and the \
                 part above their capacity (unserved), in requests {}.",
                page.unit
            ),
            lines: vec![
                line("offered", "#1f77b4", false, series(&|r| r.offered_load)),
                line("served", "#2ca02c", true, series(&|r| r.served_load)),
                line("unserved", "#d62728", false, series(&|r| r.unserved_load)),
            ],
        },
        Panel {
            title: "Instances".into(),
            unit: "instances".into(),
            note:
                "Desired capacity after each step's decision, instances in service and instances \
                   pending (launched, still starting: billed, serving nothing)."
                    .into(),
            lines: vec![
                line(
                    "desired",
                    "#9467bd",
                    true,
                    series(&|r| f64::from(r.desired)),
                ),
                line(
                    "in service",
                    "#2ca02c",
                    false,
                    series(&|r| f64::from(r.in_service)),
                ),
                line(
                    "pending",
                    "#ff7f0e",
                    false,
                    series(&|r| f64::from(r.pending)),
                ),
            ],
        },
        Panel {
            title: "CPU per instance".into(),
            unit: "%".into(),
            note: format!(
                "CPU % of each instance in service (capped at 100 %; no point without one in \
                 service) against the {} % limit.",
                page.cpu_limit
            ),
            lines: vec![
                line(
                    "CPU",
                    "#1f77b4",
                    false,
                    rows.iter()
                        .filter_map(|r| r.cpu_percent.map(|c| (r.end, c)))
                        .collect(),
                ),
                line(
                    &format!("limit {} %", page.cpu_limit),
                    "#d62728",
                    true,
                    vec![
                        (0.0, page.cpu_limit),
                        (rows.last().map_or(0.0, |r| r.end), page.cpu_limit),
                    ],
                ),
            ],
        },
    ];
    if let Some(price) = page.usd_per_hour {
        let mut total = 0.0;
        let points = rows
            .iter()
            .map(|r| {
                total += f64::from(r.in_service + r.pending) * (r.end - r.start) / 3600.0 * price;
                (r.end, total)
            })
            .collect();
        panels.push(Panel {
            title: "Cost so far".into(),
            unit: "USD".into(),
            note: format!(
                "Instances in service and pending × time × ${price}/h, summed up to each step; the \
                 summary's cost adds the 60 s minimum per launch."
            ),
            lines: vec![line("cost", "#8c564b", false, points)],
        });
    }
    panels
}

#[cfg(test)]
mod tests {
    use scalelab_scaling::{Summary, TimelineRow};

    use super::*;

    fn row(start: f64, in_service: u32, pending: u32, cpu: Option<f64>) -> TimelineRow {
        TimelineRow {
            start,
            end: start + 60.0,
            offered_load: 100.0,
            in_service,
            pending,
            cpu_percent: cpu,
            served_load: 100.0,
            unserved_load: 0.0,
            served_requests: 6000.0,
            unserved_requests: 0.0,
            desired: in_service + pending,
            launched: 0,
            terminated: 0,
            throttled_seconds: 0.0,
            credit_balance: None,
            event: None,
        }
    }

    #[test]
    fn cost_adds_up_instances_times_time_and_cpu_skips_steps_without_service() {
        let result = SimResult {
            timeline: vec![row(0.0, 0, 3, None), row(60.0, 3, 0, Some(40.0))],
            summary: Summary::default(),
        };
        let page = SimPage {
            lines: &[],
            figures: &[],
            unit: "per second",
            cpu_limit: 50.0,
            usd_per_hour: Some(0.36),
        };
        let panels = sim_panels(&result, &page);
        assert_eq!(panels.len(), 4);
        // 3 instances x 60 s / 3600 x $0.36 = $0.018 per step.
        let cost = &panels[3].lines[0].points;
        assert!((cost[0].1 - 0.018).abs() < 1e-12 && (cost[1].1 - 0.036).abs() < 1e-12);
        assert_eq!(panels[2].lines[0].points, vec![(120.0, 40.0)]);
        assert_eq!(panels[2].lines[1].points, vec![(0.0, 50.0), (120.0, 50.0)]);
        let without_price = SimPage {
            usd_per_hour: None,
            ..page
        };
        assert_eq!(sim_panels(&result, &without_price).len(), 3);
    }
}
