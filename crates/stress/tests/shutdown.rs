//! Graceful shutdown: health turns 503, new work is refused, in-flight requests finish, then the
//! listener is gone.

mod common;

use std::time::Duration;

use common::{client, parse_prometheus, start, wait_in_flight};
use scalelab_stress::TargetConfig;

#[tokio::test]
async fn shutdown_drains_in_flight_requests() {
    let target = start(TargetConfig::loopback()).await;
    let url = target.url();
    let in_flight = {
        let url = url.clone();
        tokio::spawn(async move { client().get(format!("{url}/timeout?ms=2000")).send().await })
    };
    // Seen in flight, and it has most of its 2 s to go when the shutdown begins.
    wait_in_flight(&target, 1).await;
    let handle = target.shutdown_handle();
    handle.shutdown();
    tokio::time::timeout(Duration::from_secs(5), target.wait())
        .await
        .expect("stops within the grace period")
        .unwrap();
    let response = in_flight
        .await
        .unwrap()
        .expect("in-flight request finished");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        client().get(format!("{url}/ping")).send().await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn grace_period_bounds_the_drain() {
    let target = start(TargetConfig {
        grace: Duration::from_millis(200),
        ..TargetConfig::loopback()
    })
    .await;
    let url = target.url();
    let _stuck =
        tokio::spawn(async move { client().get(format!("{url}/timeout?ms=10000")).send().await });
    wait_in_flight(&target, 1).await;
    let started = std::time::Instant::now();
    target.shutdown().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

/// Requests in flight, as `/metrics` counts them (the scrape itself included).
async fn in_flight(url: &str) -> f64 {
    let text = client()
        .get(format!("{url}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    parse_prometheus(&text)
        .iter()
        .find(|s| s.name == "http_requests_in_flight")
        .map_or(0.0, |s| s.value)
}

#[tokio::test]
async fn while_draining_health_answers_503_and_new_work_is_refused() {
    let target = start(TargetConfig::loopback()).await;
    let url = target.url();
    // Held for 5 s: the drain lasts until it is answered.
    let slow = {
        let url = url.clone();
        tokio::spawn(async move { client().get(format!("{url}/timeout?ms=5000")).send().await })
    };
    let mut polls = 0;
    while in_flight(&url).await < 2.0 {
        polls += 1;
        assert!(polls < 500, "the slow request never showed in flight");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    target.shutdown_handle().shutdown();
    // A new client each time: a pooled connection would be one the drain closes. /health says 200
    // until the service has seen the stop.
    let mut health = (0, serde_json::Value::Null);
    for _ in 0..500 {
        let response = client().get(format!("{url}/health")).send().await.unwrap();
        health = (response.status().as_u16(), response.json().await.unwrap());
        if health.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(health, (503, serde_json::json!({"status": "draining"})));
    let ping = client().get(format!("{url}/ping")).send().await.unwrap();
    assert_eq!(ping.status().as_u16(), 503);
    assert!(ping.text().await.unwrap().contains("shutting down"));
    let slow = slow
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(slow.status().as_u16(), 200);
    tokio::time::timeout(Duration::from_secs(30), target.wait())
        .await
        .expect("stops once the in-flight request is answered")
        .unwrap();
    assert!(
        client().get(format!("{url}/health")).send().await.is_err(),
        "the listener is closed once drained"
    );
}
