//! Prometheus metrics of the service: requests, durations, in-flight, queue, stress jobs, process usage.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::stress::StressGauges;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabel {
    endpoint: String,
}

/// Latency buckets in seconds, from 1 ms to 60 s.
const BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// Live metrics of one service; cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<EndpointLabel, Histogram>,
    in_flight: Gauge,
    pub queue_length: Gauge,
    registry: Arc<Registry>,
}

impl Metrics {
    pub fn new(stress: Arc<StressGauges>) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let durations =
            Family::<EndpointLabel, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        let in_flight = Gauge::default();
        let queue_length = Gauge::default();
        let mut registry = Registry::default();
        registry.register(
            "http_requests",
            "Requests answered, by endpoint and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time from receiving a request to answering it, by endpoint",
            durations.clone(),
        );
        registry.register(
            "http_requests_in_flight",
            "Requests received and not yet answered (queued ones included)",
            in_flight.clone(),
        );
        registry.register(
            "http_queue_length",
            "Requests waiting for a free worker (sync mode)",
            queue_length.clone(),
        );
        registry.register_collector(Box::new(UsageCollector(stress)));
        Self {
            requests,
            durations,
            in_flight,
            queue_length,
            registry: Arc::new(registry),
        }
    }

    /// The exposition text of every metric, process and stress gauges read now.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// Middleware: counts and times every request by the route it matched.
pub async fn record(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let metrics = &state.metrics;
    metrics.in_flight.inc();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.in_flight.dec();
    metrics
        .durations
        .get_or_create(&EndpointLabel {
            endpoint: endpoint.clone(),
        })
        .observe(started.elapsed().as_secs_f64());
    metrics
        .requests
        .get_or_create(&RequestLabels {
            endpoint,
            status: response.status().as_u16(),
        })
        .inc();
    response
}

/// Gauges read at scrape time: stress jobs and the process's CPU and memory.
#[derive(Debug)]
struct UsageCollector(Arc<StressGauges>);

impl Collector for UsageCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let usage = crate::process::process_usage();
        let cpu = ConstCounter::new(usage.cpu.as_secs_f64());
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time of the process",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory of the process",
                usage.resident_bytes as i64,
            ),
            (
                "stress_cpu_jobs_active",
                "CPU stress jobs running",
                self.0.cpu_jobs.load(Ordering::Relaxed) as i64,
            ),
            (
                "stress_memory_jobs_active",
                "Memory stress jobs holding memory",
                self.0.memory_jobs.load(Ordering::Relaxed) as i64,
            ),
            (
                "stress_memory_held_bytes",
                "Memory held by memory stress jobs",
                self.0.memory_held_bytes.load(Ordering::Relaxed) as i64,
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}
