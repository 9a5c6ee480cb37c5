//! Sync mode: at most N requests at once, a FIFO backlog of M, 503 beyond.

mod common;

use std::time::{Duration, Instant};

use common::{client, get, scrape, start, value};
use scalelab_stress::{Mode, TargetConfig};

/// Generous bound of every wait: the condition is what the test checks, not the speed.
const PATIENCE: Duration = Duration::from_secs(30);

/// Two workers and a backlog of two, with the service's grace at 0 so that shutting it down ends
/// what it holds.
async fn two_workers_two_waiting() -> scalelab_stress::RunningTarget {
    start(TargetConfig {
        mode: Mode::Sync {
            workers: 2,
            backlog: 2,
        },
        grace: Duration::ZERO,
        ..TargetConfig::loopback()
    })
    .await
}

/// Sends GET `url` in its own task: the status and when it came, from `started`.
fn send(url: String, started: Instant) -> tokio::task::JoinHandle<(u16, Duration)> {
    tokio::spawn(async move {
        let response = client().get(url).send().await.unwrap();
        (response.status().as_u16(), started.elapsed())
    })
}

/// Waits until the service reports `waiting` requests in its backlog.
async fn wait_for_backlog(target: &scalelab_stress::RunningTarget, waiting: f64) {
    let deadline = Instant::now() + PATIENCE;
    while value(&scrape(target).await, "http_queue_length", &[]) != Some(waiting) {
        assert!(
            Instant::now() < deadline,
            "the backlog never held {waiting} requests"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn serves_at_most_n_at_once() {
    let target = two_workers_two_waiting().await;
    let wait = Duration::from_millis(1500);
    let url = format!("{}/timeout?ms={}", target.url(), wait.as_millis());
    let started = Instant::now();
    let admitted: Vec<_> = (0..4).map(|_| send(url.clone(), started)).collect();
    let mut served = Vec::new();
    for request in admitted {
        let (status, elapsed) = tokio::time::timeout(PATIENCE, request)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status, 200);
        served.push(elapsed);
    }
    served.sort();
    // Two workers: whatever the machine's speed, the queued two cannot finish before two waits.
    assert!(served.iter().all(|t| *t >= wait), "{served:?}");
    assert!(served[2..].iter().all(|t| *t >= wait * 2), "{served:?}");
}

#[tokio::test]
async fn refuses_past_the_backlog_while_health_and_metrics_bypass_the_workers() {
    let target = two_workers_two_waiting().await;
    // Requests of 10 minutes (the most) hold both workers and the backlog for the whole test,
    // whatever the machine's speed; the shutdown ends them.
    let url = format!("{}/timeout?ms=600000", target.url());
    let started = Instant::now();
    let held: Vec<_> = (0..4).map(|_| send(url.clone(), started)).collect();
    // Two hold the workers and two wait in the backlog, as the service itself reports.
    wait_for_backlog(&target, 2.0).await;
    let (status, _) = get(&target, "/health").await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, _) = send(url.clone(), started).await.unwrap();
        assert_eq!(status, 503);
    }
    for request in held {
        request.abort();
    }
    target.shutdown().await.unwrap();
}

#[tokio::test]
async fn sync_mode_with_no_workers_is_a_config_error() {
    let error = scalelab_stress::start(TargetConfig {
        mode: Mode::Sync {
            workers: 0,
            backlog: 1,
        },
        ..TargetConfig::loopback()
    })
    .await
    .err()
    .expect("refused");
    assert!(error.to_string().contains("worker"));
}
