//! The live status of one scenario for the second just completed.

use scalelab_metrics::{Endpoint, Interval, LatencyHistogram};

use crate::format::{count, number, percentile};

/// VUs (or target and achieved arrival rate), requests per second, p95 and errors of one scenario
/// in `interval`. `target_rate` is the arrivals per second its schedule asked for (open model).
pub fn scenario_line(
    interval: &Interval,
    endpoints: &[Endpoint],
    scenario: (usize, &str),
    target_rate: Option<f64>,
) -> String {
    let (index, name) = scenario;
    let mut latency = LatencyHistogram::default();
    let (mut requests, mut errors) = (0, 0);
    for (key, series) in &interval.series {
        if endpoints[key.endpoint.0 as usize].scenario == name {
            latency.merge(&series.latency);
            requests += series.count;
            if key.outcome.is_failure() {
                errors += series.count;
            }
        }
    }
    let activity = interval.scenarios.get(index).copied().unwrap_or_default();
    let load = match target_rate {
        Some(rate) => format!(
            "rate {}/s → {} it/s, dropped {}",
            number(rate, 1),
            count(activity.iterations),
            count(activity.dropped_iterations)
        ),
        None => format!("vus {}", count(activity.vus)),
    };
    format!(
        "{load}  rps {}  p95 {}  errors {}",
        count(requests),
        percentile(&latency, 95.0),
        count(errors)
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use scalelab_metrics::{EndpointId, ErrorKind, Outcome, Phases, Sample};

    #[test]
    fn counts_only_the_scenarios_requests() {
        let endpoint = |scenario: &str| Endpoint {
            scenario: scenario.into(),
            name: "x".into(),
            method: "GET".into(),
            tags: vec![],
        };
        let endpoints = [endpoint("a"), endpoint("b")];
        let mut interval = Interval::new(0);
        let sample = |endpoint: u32, outcome, ms| Sample {
            endpoint: EndpointId(endpoint),
            outcome,
            intended: Duration::ZERO,
            sent: Duration::ZERO,
            first_byte: None,
            done: Duration::from_millis(ms),
            bytes_sent: 0,
            bytes_received: 0,
            phases: Phases::default(),
        };
        for ms in 1..=10 {
            interval.record(&sample(0, Outcome::Status(200), ms));
            interval.record(&sample(1, Outcome::Error(ErrorKind::Reset), 100));
        }
        interval.scenario_mut(0).vus = 3;
        interval.record_iteration(1, Duration::from_millis(5));
        interval.record_dropped(1, 1);
        // k6's p(95) of 1..=10 ms: rank 0.95 x (10 - 1) = 8.55, between the 9th and 10th values. The
        // histogram (3 significant digits: 2,048 sub-buckets) holds 8,192-16,383 µs in 8 µs buckets
        // and reports a bucket's highest value: 9,000 µs as 9,007 and 10,000 as 10,007, so
        // 9.007 + 0.55 x (10.007 - 9.007) = 9.557 ms, shown with 3 decimals below 10 ms.
        assert_eq!(
            scenario_line(&interval, &endpoints, (0, "a"), None),
            "vus 3  rps 10  p95 9.557 ms  errors 0"
        );
        // b's ten requests of 100 ms: 100,000 µs is in the 64 µs bucket 99,968-100,031 (65,536 to
        // 131,071 µs), so p(95) = 100.031 ms, shown with 1 decimal from 10 ms on.
        assert_eq!(
            scenario_line(&interval, &endpoints, (1, "b"), Some(12.5)),
            "rate 12.5/s → 1 it/s, dropped 1  rps 10  p95 100.0 ms  errors 10"
        );
        // Before its first answer a scenario has no p95 (not 0 ms); rates group their thousands.
        assert_eq!(
            scenario_line(&Interval::new(1), &endpoints, (0, "a"), Some(20_000.0)),
            "rate 20,000.0/s → 0 it/s, dropped 0  rps 0  p95 -  errors 0"
        );
    }
}
