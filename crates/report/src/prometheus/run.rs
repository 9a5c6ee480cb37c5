//! The run's metrics while it lasts, updated once per completed second.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use scalelab_metrics::{Endpoint, Interval};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    scenario: String,
    name: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    scenario: String,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    check: String,
    result: String,
}

/// Request-duration buckets in seconds, from 1 ms to 60 s.
const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// The run's metrics in Prometheus form (`scalelab_*`). Counters and histograms advance by each
/// completed second, so a scrape sees the run up to the last full second.
pub struct RunMetrics {
    endpoints: Vec<Endpoint>,
    check_names: Vec<String>,
    requests: Family<RequestLabels, Counter>,
    durations: Family<EndpointLabels, Histogram>,
    checks: Family<CheckLabels, Counter>,
    vus: Gauge,
    in_flight: Gauge,
    iterations: Counter,
    dropped: Counter,
}

impl RunMetrics {
    /// The metrics of a run over `endpoints` and checks, registered into `registry`.
    pub(super) fn register(
        registry: &mut Registry,
        endpoints: Vec<Endpoint>,
        check_names: Vec<String>,
    ) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations =
            Family::<EndpointLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        let checks = Family::<CheckLabels, Counter>::default();
        let (vus, in_flight) = (Gauge::default(), Gauge::default());
        let (iterations, dropped) = (Counter::default(), Counter::default());
        registry.register(
            "http_requests",
            "HTTP requests completed, by scenario, name and status (or error kind)",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Request latency (from the scheduled send time in the open model)",
            durations.clone(),
        );
        registry.register(
            "checks",
            "Check results, by check and result (pass or fail)",
            checks.clone(),
        );
        registry.register("vus", "Virtual users running", vus.clone());
        registry.register(
            "http_requests_in_flight",
            "Requests sent and not yet answered",
            in_flight.clone(),
        );
        registry.register("iterations", "Iterations completed", iterations.clone());
        registry.register(
            "dropped_iterations",
            "Arrivals not sent because no virtual user was free",
            dropped.clone(),
        );
        Self {
            endpoints,
            check_names,
            requests,
            durations,
            checks,
            vus,
            in_flight,
            iterations,
            dropped,
        }
    }

    /// Adds a completed second.
    pub fn update(&self, interval: &Interval) {
        for (key, series) in &interval.series {
            let endpoint = &self.endpoints[key.endpoint.0 as usize];
            let labels = RequestLabels {
                scenario: endpoint.scenario.clone(),
                name: endpoint.name.clone(),
                status: key.outcome.to_string(),
            };
            self.requests.get_or_create(&labels).inc_by(series.count);
            let histogram = self.durations.get_or_create(&EndpointLabels {
                scenario: labels.scenario,
                name: labels.name,
            });
            for value in series.latency.inner().iter_recorded() {
                let seconds = value.value_iterated_to() as f64 / 1e6;
                for _ in 0..value.count_at_value() {
                    histogram.observe(seconds);
                }
            }
        }
        for (check, (passed, failed)) in interval.checks.iter().enumerate() {
            let name = self.check_names.get(check).cloned().unwrap_or_default();
            for (result, n) in [("pass", *passed), ("fail", *failed)] {
                if n > 0 {
                    let labels = CheckLabels {
                        check: name.clone(),
                        result: result.into(),
                    };
                    self.checks.get_or_create(&labels).inc_by(n);
                }
            }
        }
        self.vus.set(interval.gauges.vus as i64);
        self.in_flight.set(interval.gauges.in_flight as i64);
        self.iterations.inc_by(interval.iterations);
        self.dropped.inc_by(interval.dropped_iterations);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::prometheus::Exposition;
    use scalelab_metrics::{EndpointId, Outcome, Phases, Sample};

    #[test]
    fn counters_and_histograms_follow_the_intervals() {
        let endpoints = vec![Endpoint {
            scenario: "s".into(),
            name: "ping".into(),
            method: "GET".into(),
            tags: vec![],
        }];
        let exposition = Exposition::default();
        let exporter = exposition.run_metrics(endpoints, vec!["status is 200".into()]);
        for second in 0..2 {
            let mut interval = Interval::new(second);
            for ms in [2, 20, 200] {
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
                interval.record_check(0, ms < 100);
            }
            interval.gauges.vus = 4;
            exporter.update(&interval);
        }
        let text = exposition.render();
        assert!(
            text.contains(
                r#"scalelab_http_requests_total{scenario="s",name="ping",status="200"} 6"#
            ),
            "{text}"
        );
        assert!(text.contains(
            r#"scalelab_http_request_duration_seconds_count{scenario="s",name="ping"} 6"#
        ));
        assert!(text.contains(r#"scalelab_http_request_duration_seconds_bucket{le="0.025",scenario="s",name="ping"} 4"#));
        assert!(text.contains(r#"scalelab_checks_total{check="status is 200",result="fail"} 2"#));
        assert!(text.contains("scalelab_vus 4"));
    }
}
