//! `sim --against`: the simulation of a cluster run beside the run — the figures and scaling events
//! side by side (the same tables the command prints) and both timelines overlaid on one time axis.

use scalelab_metrics::ClusterRow;
use scalelab_scaling::{Figures, ScalingEvent, SideBySide};

use super::chart::{Line, Panel};
use super::{Table, xy_page};
use crate::format::usd;

const SIMULATED: &str = "#1f77b4";
const MEASURED: &str = "#ff7f0e";

/// The figures side by side and the scaling events paired, as tables; `cpu_limit` names the "time
/// above" row, `price` (e.g. "t3.micro at $0.0104/h") the cost row.
pub fn against_tables(comparison: &SideBySide, cpu_limit: f64, price: Option<&str>) -> Vec<Table> {
    let (s, m) = (&comparison.simulated, &comparison.measured);
    let row = |figure: &str, value: &dyn Fn(&Figures) -> f64, decimals: usize| {
        let (a, b) = (value(s), value(m));
        vec![
            figure.to_owned(),
            format!("{a:.decimals$}"),
            format!("{b:.decimals$}"),
            format!("{:+.decimals$}", a - b),
        ]
    };
    let mut figures = vec![
        row("max replicas", &|f| f64::from(f.max_replicas), 0),
        row("scale-outs", &|f| f64::from(f.scale_outs), 0),
        row("scale-ins", &|f| f64::from(f.scale_ins), 0),
        row("mean CPU per replica (%)", &|f| f.mean_cpu, 1),
        row("max CPU per replica (%)", &|f| f.max_cpu, 1),
        row(
            &format!("time above {cpu_limit} % CPU (s)"),
            &|f| f.seconds_above_limit,
            0,
        ),
        row("instance-seconds", &|f| f.instance_seconds, 0),
        row("instance-hours (billed)", &|f| f.instance_hours, 4),
    ];
    if let (Some(price), Some(a), Some(b)) = (price, s.cost, m.cost) {
        figures.push(vec![
            format!("cost ({price})"),
            usd(a),
            usd(b),
            match usd((a - b).abs()) {
                zero if zero == usd(0.0) => zero,
                difference => format!("{}{difference}", if a < b { "-" } else { "+" }),
            },
        ]);
    }
    let tolerance = comparison.tolerance();
    let event = |e: Option<ScalingEvent>| {
        e.map_or("-".to_owned(), |e| {
            format!("{:.0} s: {} -> {}", e.at, e.from, e.to)
        })
    };
    let events = comparison
        .events
        .iter()
        .map(|pair| {
            let verdict = match pair.lag() {
                Some(lag) if lag.abs() <= tolerance => "on time",
                Some(_) => "late or early",
                None => "missing",
            };
            vec![
                if pair.is_out() {
                    "scale-out"
                } else {
                    "scale-in"
                }
                .to_owned(),
                event(pair.simulated),
                event(pair.measured),
                pair.lag()
                    .map_or("-".to_owned(), |lag| format!("{lag:+.0} s")),
                verdict.to_owned(),
            ]
        })
        .collect();
    let header = |cells: &[&str]| cells.iter().map(|c| (*c).to_owned()).collect();
    vec![
        Table {
            caption: "Figures".into(),
            header: header(&["figure", "simulated", "measured", "difference"]),
            rows: figures,
        },
        Table {
            caption: format!(
                "Scaling events (on time: within {tolerance:.1} s, one evaluation period plus \
                 start-up)"
            ),
            header: header(&["event", "simulated", "measured", "lag", "verdict"]),
            rows: events,
        },
    ]
}

/// The page: `lines` under the title, then the charts and the tables.
pub fn against_report(
    comparison: &SideBySide,
    rows: &[ClusterRow],
    lines: &[String],
    tables: &[Table],
    cpu_limit: f64,
) -> String {
    let timeline = &comparison.simulation.timeline;
    let simulated = |f: &dyn Fn(&scalelab_scaling::TimelineRow) -> f64| -> Vec<(f64, f64)> {
        timeline.iter().map(|r| (r.end, f(r))).collect()
    };
    let measured = |f: &dyn Fn(&ClusterRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter().map(|r| ((r.second + 1) as f64, f(r))).collect()
    };
    let line = |label: &str, color, dashed, points| Line {
        label: label.into(),
        color,
        dashed,
        points,
    };
    let end = timeline.last().map_or(0.0, |r| r.end);
    let panels = [
        Panel {
            title: "Load".into(),
            unit: "requests per second".into(),
            note: "The offered load the simulator replayed (mean of each second) and the requests \
                   the load balancer answered in each second of the run."
                .into(),
            lines: vec![
                line(
                    "offered (simulated)",
                    SIMULATED,
                    false,
                    simulated(&|r| r.offered_load),
                ),
                line(
                    "answered (measured)",
                    MEASURED,
                    false,
                    measured(&|r| r.requests as f64),
                ),
            ],
        },
        Panel {
            title: "Replicas".into(),
            unit: "replicas".into(),
            note:
                "Desired capacity after each second's decision (dashed) and replicas in service, \
                   simulated and measured."
                    .into(),
            lines: vec![
                line(
                    "desired (simulated)",
                    SIMULATED,
                    true,
                    simulated(&|r| f64::from(r.desired)),
                ),
                line(
                    "desired (measured)",
                    MEASURED,
                    true,
                    measured(&|r| f64::from(r.desired)),
                ),
                line(
                    "in service (simulated)",
                    SIMULATED,
                    false,
                    simulated(&|r| f64::from(r.in_service)),
                ),
                line(
                    "in service (measured)",
                    MEASURED,
                    false,
                    measured(&|r| f64::from(r.in_service)),
                ),
            ],
        },
        Panel {
            title: "CPU per replica".into(),
            unit: "%".into(),
            note: format!(
                "Mean CPU % of the replicas in service each second (the model caps a simulated \
                 replica at 100 %; a real one may use more than its vcpus share), against the \
                 {cpu_limit} % limit."
            ),
            lines: vec![
                line(
                    "simulated",
                    SIMULATED,
                    false,
                    timeline
                        .iter()
                        .filter_map(|r| Some((r.end, r.cpu_percent?)))
                        .collect(),
                ),
                line(
                    "measured",
                    MEASURED,
                    false,
                    rows.iter()
                        .filter_map(|r| Some(((r.second + 1) as f64, r.cpu_avg_pct?)))
                        .collect(),
                ),
                line(
                    &format!("limit {cpu_limit} %"),
                    "#d62728",
                    true,
                    vec![(0.0, cpu_limit), (end, cpu_limit)],
                ),
            ],
        },
    ];
    let charts: Vec<(Panel, &str)> = panels.into_iter().map(|p| (p, "s")).collect();
    xy_page(
        "scalelab sim --against",
        &lines.join(" · "),
        &charts,
        tables,
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scalelab_scaling::{EventPair, SimResult, TimelineRow};

    use super::*;

    #[test]
    fn tables_give_both_sides_their_difference_and_each_events_verdict() {
        let figures = |max_replicas, mean_cpu, cost| Figures {
            max_replicas,
            mean_cpu,
            cost: Some(cost),
            ..Figures::default()
        };
        let event = |at, from, to| Some(ScalingEvent { at, from, to });
        let comparison = SideBySide {
            simulated: figures(3, 41.25, 0.5),
            measured: figures(3, 44.0, 0.75),
            events: vec![
                EventPair {
                    simulated: event(25.0, 1, 3),
                    measured: event(24.0, 1, 3),
                },
                EventPair {
                    simulated: event(80.0, 3, 2),
                    measured: event(90.0, 3, 2),
                },
                EventPair {
                    simulated: None,
                    measured: event(95.0, 2, 1),
                },
            ],
            simulation: SimResult {
                timeline: vec![TimelineRow {
                    end: 1.0,
                    cpu_percent: Some(12.5),
                    ..TimelineRow::default()
                }],
                summary: Default::default(),
            },
            evaluation_period: Duration::from_secs(5),
            startup: Duration::from_millis(2500),
        };
        let tables = against_tables(&comparison, 60.0, Some("t3.micro at $0.0104/h"));
        let rows = &tables[0].rows;
        assert_eq!(rows[0], ["max replicas", "3", "3", "+0"]);
        assert_eq!(
            rows[3],
            ["mean CPU per replica (%)", "41.2", "44.0", "-2.8"]
        );
        assert_eq!(rows[5][0], "time above 60 % CPU (s)");
        assert_eq!(rows[8][0], "cost (t3.micro at $0.0104/h)");
        assert_eq!(rows[8][3], "-$0.25");
        // Tolerance 5 + 2.5 = 7.5 s: +1 s is on time, -10 s is not, a missing one is missing.
        let events = &tables[1].rows;
        assert_eq!(
            events[0],
            [
                "scale-out",
                "25 s: 1 -> 3",
                "24 s: 1 -> 3",
                "+1 s",
                "on time"
            ]
        );
        assert_eq!(events[1][3..], ["-10 s", "late or early"]);
        assert_eq!(events[2][1..], ["-", "95 s: 2 -> 1", "-", "missing"]);
        let page = against_report(&comparison, &[], &["a run".into()], &tables, 60.0);
        for text in [
            "Replicas",
            "CPU per replica",
            "scale-out",
            "on time",
            "limit 60 %",
        ] {
            assert!(page.contains(text), "{text}");
        }
    }
}
