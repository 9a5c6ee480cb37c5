//! The end-of-run summary: a row per endpoint and status, then the totals, checks and thresholds.

use std::fmt::Write;

use scalelab_metrics::{CustomKind, CustomSummary, Stats, Summary};

use crate::evidence::{loader_limit, nothing_answered, stopped_early};
use crate::format::{bytes, count, millis, number};

/// The summary as text for a terminal (no colour, no control characters).
pub fn summary_table(summary: &Summary) -> String {
    let mut out = String::new();
    let model = if summary.open_model {
        "open model: in arrival-rate scenarios latency counts from each request's scheduled send time"
    } else {
        "closed model: latency counts from each request's send time"
    };
    let _ = writeln!(
        out,
        "\n  {} s, {model}",
        number(summary.duration_seconds, 1)
    );
    let _ = writeln!(
        out,
        "  percentiles as k6 computes them: linear interpolation between the two nearest ranks"
    );
    for caveat in [
        stopped_early(summary),
        nothing_answered(summary),
        loader_limit(summary),
    ]
    .into_iter()
    .flatten()
    {
        let _ = writeln!(out, "  {caveat}");
    }
    let _ = writeln!(out);
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
    let responses = summary.responses();
    let throughput = if responses == t.requests {
        format!(
            "{} requests/s avg, peak {} in second {}",
            number(t.rps_avg, 1),
            number(t.rps_peak, 1),
            t.peak_second
        )
    } else {
        // Throughput counts answers: requests refused or timed out were sent, not served.
        let per_second = if summary.duration_seconds > 0.0 {
            responses as f64 / summary.duration_seconds
        } else {
            0.0
        };
        format!(
            "{} responses/s avg; {} requests/s sent, peak {} in second {}",
            number(per_second, 1),
            number(t.rps_avg, 1),
            number(t.rps_peak, 1),
            t.peak_second
        )
    };
    line(&mut out, "throughput", throughput);
    line(
        &mut out,
        "requests",
        format!(
            "{} requests, {} failed ({:.2} %)",
            count(t.requests),
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
    if t.interrupted_requests > 0 {
        line(
            &mut out,
            "  cut off",
            format!(
                "{} requests in flight when the run ended: in no other figure or threshold, as in k6",
                count(t.interrupted_requests)
            ),
        );
    }
    if let Some(delay) = &t.send_delay {
        line(&mut out, "send delay", stats_line(delay));
        let waited = t.arrivals_waited();
        if waited > 0 {
            line(
                &mut out,
                "  waited for a VU",
                format!(
                    "{} of {} arrivals ({:.2} %) found every VU busy",
                    count(waited),
                    count(delay.count),
                    100.0 * waited as f64 / delay.count as f64
                ),
            );
            if let Some(free) = &t.send_delay_free {
                line(&mut out, "  found a VU free", stats_line(free));
            }
        }
    }
    if t.iterations > 0 {
        line(
            &mut out,
            "iteration duration",
            stats_line(&t.iteration_duration),
        );
    }
    line(
        &mut out,
        "max vus",
        format!(
            "{} running at the peak, {} allocated{}",
            count(t.max_vus),
            count(t.vus_allocated),
            if t.vus_planned > t.vus_allocated {
                format!(", {} planned (k6's vus_max)", count(t.vus_planned))
            } else {
                String::new()
            }
        ),
    );
    if let Some(loader) = &summary.loader {
        line(
            &mut out,
            "load generator",
            format!(
                "{:.1} CPU-s; busiest second {:.0} % of the cores its threads could use ({} of {})",
                loader.cpu_seconds,
                loader.peak_busy * 100.0,
                loader.threads.min(loader.cores).max(1),
                loader.cores
            ),
        );
    }
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
    if !summary.custom_metrics.is_empty() {
        line(
            &mut out,
            "custom metrics",
            format!("{}", summary.custom_metrics.len()),
        );
        for metric in &summary.custom_metrics {
            let _ = writeln!(out, "    {}: {}", metric.name, custom_line(metric));
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

/// A custom metric's figures as k6 prints them: a trend's avg, min, med, max, p(90), p(95); a
/// counter's count and rate; a rate's percentage; a gauge's value, min and max.
fn custom_line(m: &CustomSummary) -> String {
    let n = |v: f64| format!("{}", (v * 1e4).round() / 1e4);
    match (m.kind, &m.trend, m.sum, m.rate, m.value) {
        (CustomKind::Trend, Some(s), ..) => format!(
            "avg={} min={} med={} max={} p(90)={} p(95)={}",
            n(s.avg),
            n(s.min),
            n(s.p50),
            n(s.max),
            n(s.p90),
            n(s.p95)
        ),
        (CustomKind::Counter, _, Some(sum), Some(rate), _) => format!("{} ({}/s)", n(sum), n(rate)),
        (CustomKind::Rate, _, _, Some(rate), _) => {
            format!("{:.2} % of {}", rate * 100.0, count(m.count))
        }
        (CustomKind::Gauge, _, _, _, Some(value)) => format!(
            "{} min={} max={}",
            n(value),
            n(m.min.unwrap_or(value)),
            n(m.max.unwrap_or(value))
        ),
        _ => "no values".to_owned(),
    }
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

/// The endpoint as a person reads it: `GET /users/1001` (the method is not repeated when the
/// name already starts with it, as default names do).
fn endpoint_label(endpoint: &scalelab_metrics::EndpointSummary) -> String {
    let prefix = format!("{} ", endpoint.method);
    if endpoint.name.starts_with(&prefix) {
        endpoint.name.clone()
    } else {
        format!("{prefix}{}", endpoint.name)
    }
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
        .map(|e| endpoint_label(e).chars().count())
        .chain([8])
        .max()
        .unwrap_or(8);
    // A scenario column when several scenarios ran, so their rows can be told apart.
    let first = summary.endpoints.first().map(|e| e.scenario.as_str());
    let scenarios = summary
        .endpoints
        .iter()
        .any(|e| Some(e.scenario.as_str()) != first);
    let scenario_width = summary
        .endpoints
        .iter()
        .map(|e| e.scenario.chars().count())
        .chain([8])
        .max()
        .unwrap_or(8);
    let scenario_cell = |text: &str| {
        if scenarios {
            format!("{text:<scenario_width$} ")
        } else {
            String::new()
        }
    };
    let _ = writeln!(out, "  {title}");
    let _ = writeln!(
        out,
        "  {}{:<width$} {:>18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        scenario_cell("scenario"),
        "endpoint",
        "status",
        "count",
        "min",
        "avg",
        "stddev",
        "p50",
        "p90",
        "p95",
        "p99",
        "max"
    );
    for endpoint in &summary.endpoints {
        let s = stats(endpoint);
        let _ = writeln!(
            out,
            "  {}{:<width$} {:>18} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            scenario_cell(&endpoint.scenario),
            endpoint_label(endpoint),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use scalelab_metrics::{Endpoint, EndpointId, Interval, Outcome, Phases, Sample, SummaryInput};

    use super::*;

    fn summary(scenarios: &[&str]) -> Summary {
        let endpoints: Vec<Endpoint> = scenarios
            .iter()
            .map(|scenario| Endpoint {
                scenario: (*scenario).into(),
                name: "GET /users/1001".into(),
                method: "GET".into(),
                tags: vec![],
            })
            .collect();
        let mut total = Interval::new(0);
        for id in 0..endpoints.len() {
            for _ in 0..1500 {
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
        }
        Summary::build(SummaryInput {
            started_at: String::new(),
            duration_seconds: 1.0,
            open_model: false,
            endpoints: &endpoints,
            check_names: &[],
            total: &total,
            requests_per_second: &[(0, total.requests())],
            max_vus: 1,
            vus_allocated: 1,
            thresholds: vec![],
            stopped_early: None,
        })
    }

    #[test]
    fn a_long_runs_seconds_are_grouped_as_every_number() {
        let mut long = summary(&["a"]);
        long.duration_seconds = 3_723.44;
        long.stopped_early = Some(scalelab_metrics::EarlyStop {
            reason: "SIGINT (Ctrl-C)".into(),
            at_seconds: 3_723.44,
        });
        let table = summary_table(&long);
        assert!(table.contains("  3,723.4 s, closed model"), "{table}");
        assert!(
            table.contains("stopped early at 3,723.4 s: SIGINT"),
            "{table}"
        );
    }

    #[test]
    fn the_method_is_shown_once_and_scenarios_get_a_column() {
        let one = summary_table(&summary(&["a"]));
        assert!(
            one.contains("  GET /users/1001 ") && !one.contains("GET GET"),
            "{one}"
        );
        assert!(!one.contains("scenario"), "{one}");
        let three = summary_table(&summary(&["browse", "buy", "search"]));
        let rows: Vec<&str> = three
            .lines()
            .filter(|l| l.contains("GET /users/1001"))
            .collect();
        assert_eq!(rows.len(), 3, "{three}");
        assert!(
            rows[0].trim_start().starts_with("browse")
                && rows[2].trim_start().starts_with("search")
        );
        assert!(three.contains("  scenario endpoint"), "{three}");
        // One thousands style everywhere.
        assert!(
            three.contains("4,500.0 requests/s avg, peak 4,500")
                && three.contains("4,500 requests, 0 failed"),
            "{three}"
        );
    }

    #[test]
    fn the_send_delay_of_arrivals_that_waited_is_told_apart() {
        let delay = |count, p99| Stats {
            count,
            p99,
            ..Stats::default()
        };
        let mut s = summary(&["a"]);
        s.totals.send_delay = Some(delay(2_000, 4.0));
        s.totals.send_delay_free = Some(delay(2_000, 0.5));
        let all_free = summary_table(&s);
        assert!(all_free.contains("p99 4.000"), "{all_free}");
        assert!(!all_free.contains("waited"), "{all_free}");
        // 30 of 2,000 arrivals found every VU busy: 1.50 %; the others' p99 is the loader's own.
        s.totals.send_delay_free = Some(delay(1_970, 0.5));
        let waited = summary_table(&s);
        assert!(
            waited.contains("30 of 2,000 arrivals (1.50 %) found every VU busy"),
            "{waited}"
        );
        let free = waited.lines().find(|l| l.contains("found a VU free"));
        assert!(free.is_some_and(|l| l.contains("p99 0.500")), "{waited}");
    }
}
