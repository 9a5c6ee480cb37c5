//! The end-of-run summary: a row per endpoint and status, then the totals, checks and thresholds.

use std::fmt::Write;

use scalelab_metrics::{Stats, Summary};

use crate::format::{bytes, count, millis};

/// The summary as text for a terminal (no colour, no control characters).
pub fn summary_table(summary: &Summary) -> String {
    let mut out = String::new();
    let model = if summary.open_model {
        "open model: in arrival-rate scenarios latency counts from each request's scheduled send time"
    } else {
        "closed model: latency counts from each request's send time"
    };
    let _ = writeln!(out, "\n  {:.1} s, {model}", summary.duration_seconds);
    let _ = writeln!(
        out,
        "  percentiles as k6 computes them: linear interpolation between the two nearest ranks\n"
    );
    latency_block(&mut out, summary, "latency (ms)", |e| &e.latency);
    if summary.open_model
        && summary
            .endpoints
            .iter()
            .any(|e| e.latency != e.service_time)
    {
        let _ = writeln!(out);
        latency_block(
            &mut out,
            summary,
            "service time (ms), from the actual send: what a closed-loop tool would report",
            |e| &e.service_time,
        );
    }
    let t = &summary.totals;
    let _ = writeln!(out);
    let line = |out: &mut String, label: &str, value: String| {
        let _ = writeln!(out, "  {label:.<20} {value}");
    };
    // Plain digits here (no separators), so scripts can read "N requests/s" and, on the last line
    // that has it, "N requests".
    line(
        &mut out,
        "throughput",
        format!(
            "{:.1} requests/s avg, peak {} in second {}",
            t.rps_avg, t.rps_peak, t.peak_second
        ),
    );
    line(
        &mut out,
        "requests",
        format!(
            "{} requests, {} failed ({:.2} %)",
            t.requests,
            count(t.failures),
            t.failure_rate * 100.0
        ),
    );
    if !summary.errors_by_kind.is_empty() {
        let kinds: Vec<String> = summary
            .errors_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {}", count(*n)))
            .collect();
        line(&mut out, "errors", kinds.join(", "));
    }
    line(&mut out, "latency", stats_line(&t.latency));
    line(
        &mut out,
        "data",
        format!(
            "sent {}   received {}",
            bytes(t.bytes_sent),
            bytes(t.bytes_received)
        ),
    );
    line(
        &mut out,
        "iterations",
        format!(
            "{} complete   {} interrupted   dropped {}",
            count(t.iterations),
            count(t.interrupted_iterations),
            count(t.dropped_iterations)
        ),
    );
    if let Some(delay) = &t.send_delay {
        line(&mut out, "send delay", stats_line(delay));
    }
    if t.iterations > 0 {
        line(
            &mut out,
            "iteration duration",
            stats_line(&t.iteration_duration),
        );
    }
    line(&mut out, "max vus", count(t.max_vus));
    if !summary.checks.is_empty() {
        line(
            &mut out,
            "checks",
            format!(
                "{} passed, {} failed",
                count(t.checks_passed),
                count(t.checks_failed)
            ),
        );
        for check in &summary.checks {
            let mark = if check.failed == 0 { "✓" } else { "✗" };
            let _ = writeln!(
                out,
                "    {mark} {}: {} passed, {} failed",
                check.name,
                count(check.passed),
                count(check.failed)
            );
        }
    }
    if !summary.thresholds.is_empty() {
        let failed = summary.thresholds.iter().filter(|t| !t.passed).count();
        line(
            &mut out,
            "thresholds",
            format!(
                "{} passed, {failed} failed",
                summary.thresholds.len() - failed
            ),
        );
        for threshold in &summary.thresholds {
            let _ = writeln!(out, "    {threshold}");
        }
    }
    out
}

fn stats_line(s: &Stats) -> String {
    format!(
        "avg {}   p50 {}   p95 {}   p99 {}   max {} ms",
        millis(s.avg),
        millis(s.p50),
        millis(s.p95),
        millis(s.p99),
        millis(s.max)
    )
}

fn latency_block(
    out: &mut String,
    summary: &Summary,
    title: &str,
    stats: impl Fn(&scalelab_metrics::EndpointSummary) -> &Stats,
) {
    let width = summary
        .endpoints
        .iter()
        .map(|e| e.method.len() + 1 + e.name.len())
        .chain([8])
        .max()
        .unwrap_or(8);
    let _ = writeln!(out, "  {title}");
    let _ = writeln!(
        out,
        "  {:<width$} {:>18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "endpoint", "status", "count", "min", "avg", "stddev", "p50", "p90", "p95", "p99", "max"
    );
    for endpoint in &summary.endpoints {
        let s = stats(endpoint);
        let _ = writeln!(
            out,
            "  {:<width$} {:>18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            format!("{} {}", endpoint.method, endpoint.name),
            endpoint.outcome,
            count(s.count),
            millis(s.min),
            millis(s.avg),
            millis(s.stddev),
            millis(s.p50),
            millis(s.p90),
            millis(s.p95),
            millis(s.p99),
            millis(s.max),
        );
    }
}
