//! One status line per completed second: elapsed of total, VUs (or the open model's target and
//! achieved rate), requests per second, p95, errors.

use std::time::Duration;

use scalelab_metrics::{Interval, LatencyHistogram};

use crate::format::{count, number, percentile};

/// The status line for the second `interval` just completed, `elapsed` of `total` (the plan's
/// length, graceful stops excluded) into the run. `target_rate` is the arrivals per second the
/// open-model scenarios' schedules ask for now; `so_far` the requests and failures of the run.
pub fn progress_line(
    interval: &Interval,
    elapsed: Duration,
    total: Duration,
    target_rate: Option<f64>,
    so_far: (u64, u64),
) -> String {
    let mut latency = LatencyHistogram::default();
    for (_, series) in &interval.series {
        latency.merge(&series.latency);
    }
    let stage = if elapsed > total {
        " graceful stop"
    } else {
        ""
    };
    // The most VUs running in the second: in the open model they are busy only briefly, so the
    // count at the second's end would mostly read 0.
    let vus = interval.gauges.vus_peak.max(interval.gauges.vus);
    let mut line = format!(
        "[{:>4.0}s/{:.0}s{stage}] vus {:>4}",
        elapsed.as_secs_f64(),
        total.as_secs_f64(),
        count(vus)
    );
    if let Some(rate) = target_rate {
        line += &format!(
            "  rate {}/s → {} it/s",
            number(rate, 1),
            count(interval.iterations)
        );
    }
    line += &format!(
        "  rps {:>7}  p95 {:>11}  requests {}  errors {}",
        count(interval.requests()),
        percentile(&latency, 95.0),
        count(so_far.0),
        count(so_far.1),
    );
    if interval.dropped_iterations > 0 {
        line += &format!("  dropped {}", count(interval.dropped_iterations));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalelab_metrics::{EndpointId, Outcome, Phases, Sample};

    #[test]
    fn shows_the_seconds_figures() {
        let mut interval = Interval::new(4);
        for ms in 1..=20 {
            interval.record(&Sample {
                endpoint: EndpointId(0),
                outcome: Outcome::Status(200),
                intended: Duration::ZERO,
                sent: Duration::ZERO,
                first_byte: None,
                done: Duration::from_millis(ms),
                bytes_sent: 0,
                bytes_received: 0,
                phases: Phases::default(),
            });
        }
        interval.gauges.vus = 0;
        interval.gauges.vus_peak = 7;
        interval.dropped_iterations = 3;
        interval.iterations = 20;
        let line = progress_line(
            &interval,
            Duration::from_secs(5),
            Duration::from_secs(20),
            None,
            (1500, 2),
        );
        // k6's p(95) of 1..=20 ms: rank 0.95 × 19 = 18.05, so 19 + 0.05 = 19.05 ms.
        assert!(
            line.starts_with("[   5s/20s] vus    7  rps      20  p95     19.1 ms"),
            "{line}"
        );
        assert!(
            line.ends_with("requests 1,500  errors 2  dropped 3"),
            "{line}"
        );
        let open = progress_line(
            &interval,
            Duration::from_secs(23),
            Duration::from_secs(20),
            Some(25.0),
            (1500, 2),
        );
        assert!(
            open.starts_with(
                "[  23s/20s graceful stop] vus    7  rate 25.0/s → 20 it/s  rps      20"
            ),
            "{open}"
        );
        let quiet = progress_line(
            &Interval::new(0),
            Duration::from_secs(1),
            Duration::from_secs(20),
            Some(12_500.0),
            (0, 0),
        );
        assert!(
            quiet.contains("rate 12,500.0/s → 0 it/s  rps       0  p95           -  requests 0"),
            "{quiet}"
        );
    }
}
