//! Active health checks of one backend, as an ALB target group runs them: every `interval`, a GET of
//! `path` that must answer 2xx within `timeout`; `healthy_threshold` passes in a row put the backend
//! in rotation, `unhealthy_threshold` failures in a row take it out.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use tokio_util::sync::CancellationToken;

use crate::balancer::{Backend, BackendClient, Health, body_of};
use crate::config::HealthCheck;
use crate::events::{EventKind, EventLog};

/// Checks `backend` until `stop` is cancelled.
pub async fn check_until_stopped(
    group: String,
    backend: Arc<Backend>,
    check: HealthCheck,
    client: BackendClient,
    events: Arc<EventLog>,
    stop: CancellationToken,
) {
    let uri = format!("http://{}{}", backend.addr, check.path);
    let (mut passes, mut failures) = (0u32, 0u32);
    let mut ticker = tokio::time::interval(check.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.cancelled() => return,
        }
        let request = Request::get(uri.as_str())
            .body(body_of(Bytes::new()))
            .expect("a valid health check request");
        let passed = matches!(
            tokio::time::timeout(check.timeout, client.request(request)).await,
            Ok(Ok(response)) if response.status().is_success()
        );
        if passed {
            (passes, failures) = (passes + 1, 0);
        } else {
            (passes, failures) = (0, failures + 1);
        }
        let health = backend.health();
        let back_in = health != Health::Healthy || backend.refused();
        if passed && back_in && passes >= check.healthy_threshold {
            backend.set_health(Health::Healthy);
            let kind = match health {
                Health::Initial => EventKind::InService,
                _ => EventKind::Healthy,
            };
            let detail = format!("passed {passes} health checks in a row");
            events.record(&group, Some(backend.replica), kind, detail);
        } else if !passed && health == Health::Healthy && failures >= check.unhealthy_threshold {
            backend.set_health(Health::Unhealthy);
            let detail = format!("failed {failures} health checks in a row");
            events.record(&group, Some(backend.replica), EventKind::Unhealthy, detail);
        }
    }
}
