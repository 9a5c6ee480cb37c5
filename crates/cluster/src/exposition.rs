//! The cluster's gauges for Prometheus, served at `/metrics` on `--metrics-addr`.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;
use http::{Response, header};
use http_body_util::Full;
use hyper_util::rt::{TokioExecutor, TokioIo};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::group::GroupStatus;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabel {
    group: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    group: String,
    phase: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    group: String,
    status: &'static str,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// The cluster's metrics, updated every second.
pub struct Exposition {
    replicas: Family<PhaseLabels, Gauge>,
    desired: Family<GroupLabel, Gauge>,
    cpu: Family<GroupLabel, FloatGauge>,
    memory: Family<GroupLabel, FloatGauge>,
    in_flight: Family<GroupLabel, Gauge>,
    requests: Family<GroupLabel, Counter>,
    lb_errors: Family<StatusLabels, Counter>,
    registry: Registry,
}

impl Default for Exposition {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("scalelab_cluster");
        let replicas = Family::default();
        let desired = Family::default();
        let cpu = Family::default();
        let memory = Family::default();
        let in_flight = Family::default();
        let requests = Family::default();
        let lb_errors = Family::default();
        registry.register(
            "replicas",
            "Replicas by phase (pending, in_service, draining)",
            replicas.clone(),
        );
        registry.register(
            "desired_replicas",
            "Capacity the autoscaler wants",
            desired.clone(),
        );
        registry.register(
            "cpu_utilization_percent",
            "Average CPU of the replicas in service, % of their vcpus",
            cpu.clone(),
        );
        registry.register(
            "memory_resident_bytes",
            "Average resident memory of the replicas in service",
            memory.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests the load balancer is waiting on",
            in_flight.clone(),
        );
        registry.register(
            "lb_requests",
            "Requests answered by the load balancer",
            requests.clone(),
        );
        registry.register(
            "lb_errors",
            "Answers of the load balancer itself: 502, 503 or 504",
            lb_errors.clone(),
        );
        Self {
            replicas,
            desired,
            cpu,
            memory,
            in_flight,
            requests,
            lb_errors,
            registry,
        }
    }
}

impl Exposition {
    /// Sets the gauges from the last second and adds its requests to the counters.
    pub fn update(&self, statuses: &[GroupStatus]) {
        for status in statuses {
            let group = GroupLabel {
                group: status.name.clone(),
            };
            for (phase, count) in [
                ("pending", status.pending),
                ("in_service", status.in_service),
                ("draining", status.draining),
            ] {
                let labels = PhaseLabels {
                    group: status.name.clone(),
                    phase,
                };
                self.replicas.get_or_create(&labels).set(i64::from(count));
            }
            self.desired
                .get_or_create(&group)
                .set(i64::from(status.desired));
            self.cpu
                .get_or_create(&group)
                .set(status.cpu_avg.unwrap_or(0.0));
            self.memory
                .get_or_create(&group)
                .set(status.memory_avg_bytes.unwrap_or(0.0));
            self.in_flight
                .get_or_create(&group)
                .set(status.in_flight as i64);
            self.requests.get_or_create(&group).inc_by(status.requests);
            for (code, count) in [
                ("502", status.bad_gateway),
                ("503", status.unavailable),
                ("504", status.gateway_timeout),
            ] {
                let labels = StatusLabels {
                    group: status.name.clone(),
                    status: code,
                };
                self.lb_errors.get_or_create(&labels).inc_by(count);
            }
        }
    }

    /// The exposition text (OpenMetrics).
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// Serves `exposition` on `listener` until `stop` is cancelled.
pub async fn serve(exposition: Arc<Exposition>, listener: TcpListener, stop: CancellationToken) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => {
                    // Out of file descriptors, most often: wait for connections to close.
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => return,
        };
        let exposition = exposition.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |_request| {
                let body = exposition.render();
                async move {
                    let mut response = Response::new(Full::new(Bytes::from(body)));
                    response.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static(
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        ),
                    );
                    Ok::<_, Infallible>(response)
                }
            });
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
