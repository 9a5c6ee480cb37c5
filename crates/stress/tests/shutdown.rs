//! Graceful shutdown: health turns 503, in-flight requests finish, then the listener is gone.

mod common;

use std::time::Duration;

use common::{client, start, wait_in_flight};
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
