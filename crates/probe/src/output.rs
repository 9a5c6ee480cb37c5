//! What a capacity test writes and prints: `steps.csv`, `capacity.json`, `capacity.yaml` (when a
//! model was fitted), `report.html`, and the terminal summary.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use scalelab_metrics::output::write_atomic;
use scalelab_report::{Line, Panel, Table, number, xy_page};

use crate::analysis::Kind;
use crate::findings::Findings;
use crate::staircase::{Ended, Measurement, Step};

/// The files written, by name.
pub const STEPS_FILE: &str = "steps.csv";
pub const RESULTS_FILE: &str = "capacity.json";
pub const MODEL_FILE: &str = "capacity.yaml";
pub const REPORT_FILE: &str = "report.html";

/// Writes the files of a capacity test into `dir` (created if needed), each atomically; returns
/// the paths written.
pub fn write(dir: &Path, m: &Measurement, f: &Findings) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> io::Result<()> {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        written.push(path);
        Ok(())
    };
    put(STEPS_FILE, steps_csv(&m.steps))?;
    let json = serde_json::json!({ "measurement": m, "findings": f });
    put(
        RESULTS_FILE,
        serde_json::to_string_pretty(&json).expect("plain data serializes") + "\n",
    )?;
    if let Some(model) = f.capacity_file(m.vcpus) {
        put(MODEL_FILE, model.to_yaml())?;
    }
    put(REPORT_FILE, report_html(m, f))?;
    Ok(written)
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or(String::new(), |v| format!("{v:.digits$}"))
}

/// One row per step.
pub fn steps_csv(steps: &[Step]) -> String {
    let mut out = String::from(
        "step,offered_rps,offered_requests_rps,throughput_rps,requests_rps,p50_ms,p95_ms,p99_ms,service_ms,\
         mean_in_flight,requests,failed,dropped,error_rate,cpu_percent,machine_cpu_percent,memory_mib,\
         kept_up,why\n",
    );
    for s in steps {
        let why: Vec<String> = s.shortfalls.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "{},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3},{:.2},{},{},{},{:.5},{},{},{},{},\"{}\"",
            s.index + 1,
            s.offered,
            s.offered_requests,
            s.throughput,
            s.requests_per_second,
            s.p50_ms,
            s.p95_ms,
            s.p99_ms,
            s.service_ms,
            s.mean_in_flight,
            s.requests,
            s.failed,
            s.dropped,
            s.error_rate,
            opt(s.cpu_percent, 3),
            opt(s.machine_cpu_percent, 1),
            opt(s.memory_bytes.map(|b| b / 1_048_576.0), 2),
            s.kept_up(),
            why.join("; ").replace('"', "'")
        );
    }
    out
}

/// The headline figures, one per line, as the terminal shows them.
pub fn summary(m: &Measurement, f: &Findings) -> String {
    let mut out = String::new();
    let rate = |r: Option<f64>| {
        r.map_or("not found".into(), |r| {
            format!("{} requests/s", number(r, 1))
        })
    };
    let bound = if f.limit_found {
        ""
    } else {
        " (a lower bound)"
    };
    let _ = writeln!(
        out,
        "max sustainable rate  {}{bound}",
        rate(f.max_sustainable_rate)
    );
    let _ = writeln!(out, "knee                  {}", rate(f.knee));
    match f.capacity_file(m.vcpus) {
        Some(model) => {
            let c = &model.cpu;
            let _ = writeln!(
                out,
                "CPU model             {:.4} % per request/s + {:.2} % idle (on {} vCPUs), R² {:.3}, {} points\n\
                 CPU per request       {:.2} ms",
                c.coefficient,
                c.base,
                model.vcpus,
                c.r2,
                c.points,
                c.cpu_seconds_per_request * 1000.0
            );
            if let Some(mem) = &model.memory {
                let _ = writeln!(
                    out,
                    "memory model          {:.4} MiB per request/s + {:.1} MiB, R² {:.3}",
                    mem.mib_per_load, mem.base_mib, mem.r2
                );
            }
        }
        None => {
            let _ = writeln!(out, "CPU model             none");
        }
    }
    if let Some(c) = &f.characterization {
        let _ = writeln!(
            out,
            "server                {} ({:?} confidence)",
            c.statement, c.confidence
        );
    }
    for note in &f.notes {
        let _ = writeln!(out, "note: {note}");
    }
    out
}

/// The page: throughput against offered rate, latency against load, CPU against load with the
/// fitted line, and the steps and findings as tables.
pub fn report_html(m: &Measurement, f: &Findings) -> String {
    let line = |label: &str, color, dashed, points: Vec<(f64, f64)>| Line {
        label: label.into(),
        color,
        dashed,
        points,
    };
    let offered: Vec<f64> = m.steps.iter().map(|s| s.offered).collect();
    let by_offered = |y: fn(&Step) -> f64| -> Vec<(f64, f64)> {
        m.steps.iter().map(|s| (s.offered, y(s))).collect()
    };
    let mut charts = vec![
        (
            Panel {
                title: "Throughput against offered rate".into(),
                unit: "requests/s".into(),
                note: "Successful requests per second on each step; the dashed line is the offered \
                       rate, which a server that keeps up follows."
                    .into(),
                lines: vec![
                    line("throughput", "#1f77b4", false, by_offered(|s| s.throughput)),
                    line(
                        "offered",
                        "#999999",
                        true,
                        offered.iter().map(|&o| (o, o)).collect(),
                    ),
                ],
            },
            " /s",
        ),
        (
            Panel {
                title: "Latency against load".into(),
                unit: "ms".into(),
                note: "Latency of the successful requests on each step, from their scheduled send \
                       time (queueing included)."
                    .into(),
                lines: vec![
                    line("p50", "#2ca02c", false, by_offered(|s| s.p50_ms)),
                    line("p95", "#ff7f0e", false, by_offered(|s| s.p95_ms)),
                    line("p99", "#d62728", false, by_offered(|s| s.p99_ms)),
                ],
            },
            " /s",
        ),
        (
            Panel {
                title: "Requests in flight against load".into(),
                unit: "requests".into(),
                note: "Mean concurrency on each step: flat latency with growing concurrency is an \
                       async server; a plateau of throughput at a fixed concurrency is a worker limit."
                    .into(),
                lines: vec![line(
                    "in flight",
                    "#9467bd",
                    false,
                    by_offered(|s| s.mean_in_flight),
                )],
            },
            " /s",
        ),
    ];
    let cpu: Vec<(f64, f64)> = m
        .steps
        .iter()
        .filter(|s| s.kept_up())
        .filter_map(|s| Some((s.offered_requests, s.cpu_percent?)))
        .collect();
    if !cpu.is_empty() {
        let mut lines = vec![line("measured", "#1f77b4", false, cpu.clone())];
        if let Some(fit) = f.cpu_fit {
            let top = cpu.iter().map(|p| p.0).fold(0.0, f64::max);
            let from = if fit.intercept < 0.0 && fit.slope > 0.0 {
                (-fit.intercept / fit.slope).min(top)
            } else {
                0.0
            };
            lines.push(line(
                &format!(
                    "fit: {:.4} × load {} {:.2} (R² {:.3})",
                    fit.slope,
                    if fit.intercept < 0.0 { '−' } else { '+' },
                    fit.intercept.abs(),
                    fit.r2
                ),
                "#d62728",
                true,
                // From where the line meets 0 % (or load 0) to the highest load measured.
                vec![
                    (from, fit.slope * from + fit.intercept),
                    (top, fit.slope * top + fit.intercept),
                ],
            ));
        }
        charts.push((
            Panel {
                title: "CPU against load".into(),
                unit: "CPU % of the machine".into(),
                note: format!(
                    "The server's CPU on each step that kept up ({} vCPUs = 100 %) against the \
                     requests per second it was offered; dashed: the fitted capacity model.",
                    m.vcpus
                ),
                lines,
            },
            " /s",
        ));
    }
    let memory: Vec<(f64, f64)> = m
        .steps
        .iter()
        .filter(|s| s.kept_up())
        .filter_map(|s| Some((s.offered_requests, s.memory_bytes? / 1_048_576.0)))
        .collect();
    if !memory.is_empty() {
        charts.push((
            Panel {
                title: "Memory against load".into(),
                unit: "MiB resident".into(),
                note: "The server's mean resident memory on each step that kept up.".into(),
                lines: vec![line("resident", "#8c564b", false, memory)],
            },
            " /s",
        ));
    }
    let header = [
        "step",
        "offered/s",
        "throughput/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "in flight",
        "errors",
        "CPU %",
        "kept up",
    ];
    let rows = m
        .steps
        .iter()
        .map(|s| {
            vec![
                (s.index + 1).to_string(),
                number(s.offered, 1),
                number(s.throughput, 1),
                format!("{:.1}", s.p50_ms),
                format!("{:.1}", s.p95_ms),
                format!("{:.1}", s.p99_ms),
                format!("{:.1}", s.mean_in_flight),
                format!("{:.2} %", s.error_rate * 100.0),
                match (s.cpu_percent, s.machine_cpu_percent) {
                    (Some(cpu), Some(machine)) => format!("{cpu:.1} (machine {machine:.0})"),
                    (cpu, _) => opt(cpu, 1),
                },
                if s.kept_up() {
                    "yes".into()
                } else {
                    s.shortfalls
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                },
            ]
        })
        .collect();
    let findings = summary(m, f)
        .lines()
        .map(|l| match l.split_once("  ") {
            Some((k, v)) if !l.starts_with("note:") => {
                vec![k.trim().to_owned(), v.trim().to_owned()]
            }
            _ => vec![String::new(), l.to_owned()],
        })
        .collect();
    let kind = match f.characterization.as_ref().map(|c| &c.kind) {
        Some(Kind::Async) => "async",
        Some(Kind::Sync { .. }) => "sync",
        _ => "undetermined",
    };
    xy_page(
        "scalelab capacity",
        &format!(
            "{} steps · ended: {} · server: {kind}",
            m.steps.len(),
            match m.ended {
                Ended::Limit => "at the limit",
                Ended::Schedule => "every step kept up",
                Ended::Interrupted => "interrupted",
            }
        ),
        &charts,
        &[
            Table {
                caption: "Findings".into(),
                header: vec!["figure".into(), "value".into()],
                rows: findings,
            },
            Table {
                caption: "Steps".into(),
                header: header.iter().map(|h| (*h).to_owned()).collect(),
                rows,
            },
        ],
    )
}
