//! One status line per completed second: elapsed of total, VUs, requests per second, p95, errors.

use std::time::Duration;

use scalelab_metrics::{Interval, LatencyHistogram};

use crate::format::{count, millis};

/// The status line for the second `interval` just completed, `elapsed` of `total` into the run.
pub fn progress_line(
    interval: &Interval,
    elapsed: Duration,
    total: Duration,
    requests_so_far: u64,
    failures_so_far: u64,
) -> String {
    let mut latency = LatencyHistogram::default();
    for (_, series) in &interval.series {
        latency.merge(&series.latency);
    }
    let mut line = format!(
        "[{:>4.0}s/{:.0}s] vus {:>4}  rps {:>7}  p95 {:>8} ms  requests {}  errors {}",
        elapsed.as_secs_f64(),
        total.as_secs_f64(),
        interval.gauges.vus,
        count(interval.requests()),
        millis(latency.percentile(95.0)),
        count(requests_so_far),
        count(failures_so_far),
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
        interval.gauges.vus = 7;
        interval.dropped_iterations = 3;
        let line = progress_line(
            &interval,
            Duration::from_secs(5),
            Duration::from_secs(20),
            1500,
            2,
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
    }
}
