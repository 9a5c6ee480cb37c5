//! Prometheus: one registry per process, served at `/metrics`. The run's metrics and a live
//! cluster's gauges register into it, so one scrape returns both in one exposition.

mod cluster;
mod run;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use cluster::{ClusterMetrics, GroupGauges};
pub use run::RunMetrics;

/// The metrics a process serves. Metrics can be added while it is served (a cluster's first, then
/// the run that drives it).
#[derive(Default)]
pub struct Exposition {
    registry: Mutex<Registry>,
}

impl Exposition {
    /// Registers a run's metrics (`scalelab_*`) over its `endpoints` and checks.
    pub fn run_metrics(
        &self,
        endpoints: Vec<scalelab_metrics::Endpoint>,
        check_names: Vec<String>,
    ) -> RunMetrics {
        let mut registry = self.registry();
        RunMetrics::register(
            registry.sub_registry_with_prefix("scalelab"),
            endpoints,
            check_names,
        )
    }

    /// Registers a cluster's gauges (`scalelab_cluster_*`).
    pub fn cluster_metrics(&self) -> ClusterMetrics {
        ClusterMetrics::register(self.registry().sub_registry_with_prefix("scalelab_cluster"))
    }

    /// The exposition text (OpenMetrics), ending in one `# EOF`.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry())
            .expect("writing to a String cannot fail");
        text
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while registering leaves the registry usable: every metric is added whole.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Serves `exposition` at `/metrics` on `listener` until `stop` is cancelled.
pub async fn serve_metrics(
    exposition: Arc<Exposition>,
    listener: TcpListener,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || async move {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                exposition.render(),
            )
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use scalelab_metrics::{Endpoint, Interval};

    #[tokio::test]
    async fn one_scrape_returns_the_run_and_the_cluster_in_one_exposition() {
        let exposition = Arc::new(Exposition::default());
        // As `cluster --plan` does it: the cluster's gauges first, then the run's metrics.
        let cluster = exposition.cluster_metrics();
        let run = exposition.run_metrics(
            vec![Endpoint {
                scenario: "s".into(),
                name: "ping".into(),
                method: "GET".into(),
                tags: vec![],
            }],
            vec![],
        );
        let mut second = Interval::new(0);
        second.gauges.vus = 3;
        run.update(&second);
        cluster.update(&[GroupGauges {
            group: "web".into(),
            in_service: 2,
            desired: 3,
            cpu_percent: Some(42.5),
            requests: 7,
            unavailable: 1,
            ..GroupGauges::default()
        }]);

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve_metrics(exposition, listener, stop.clone()));
        let text = scrape(addr).await;
        stop.cancel();
        server.await.unwrap().unwrap();

        for line in [
            "scalelab_vus 3",
            r#"scalelab_cluster_replicas{group="web",phase="in_service"} 2"#,
            r#"scalelab_cluster_replicas{group="web",phase="pending"} 0"#,
            r#"scalelab_cluster_desired_replicas{group="web"} 3"#,
            r#"scalelab_cluster_cpu_utilization_percent{group="web"} 42.5"#,
            r#"scalelab_cluster_lb_requests_total{group="web"} 7"#,
            r#"scalelab_cluster_lb_errors_total{group="web",status="503"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert_eq!(text.matches("# EOF").count(), 1, "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    /// One HTTP/1.0 GET of `/metrics`; the body.
    async fn scrape(addr: std::net::SocketAddr) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        assert!(head.contains("application/openmetrics-text"), "{head}");
        body.to_string()
    }
}
