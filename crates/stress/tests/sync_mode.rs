//! Sync mode: at most N requests at once, a FIFO backlog of M, 503 beyond.

mod common;

use std::time::{Duration, Instant};

use common::{client, get, scrape, start, value};
use scalelab_stress::{Mode, TargetConfig};

/// Generous bound of every wait: the condition is what the test checks, not the speed.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn serves_at_most_n_at_once_and_refuses_past_the_backlog() {
    let target = start(TargetConfig {
        mode: Mode::Sync {
            workers: 2,
            backlog: 2,
        },
        ..TargetConfig::loopback()
    })
    .await;
    let wait = Duration::from_millis(1500);
    let url = format!("{}/timeout?ms={}", target.url(), wait.as_millis());
    let started = Instant::now();
    let send = |url: String| {
        tokio::spawn(async move {
            let response = client().get(url).send().await.unwrap();
            (response.status().as_u16(), started.elapsed())
        })
    };
    let admitted: Vec<_> = (0..4).map(|_| send(url.clone())).collect();
    // Two hold the workers and two wait in the backlog, as the service itself reports.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let metrics = scrape(&target).await;
        if value(&metrics, "http_queue_length", &[]) == Some(2.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the backlog never held 2 requests"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // While they run, health and metrics bypass the workers, and the backlog is full: 503.
    let (status, _) = get(&target, "/health").await;
    assert_eq!(status, 200);
    for _ in 0..2 {
        let (status, _) = send(url.clone()).await.unwrap();
        assert_eq!(status, 503);
    }
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
