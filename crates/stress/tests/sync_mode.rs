//! Sync mode: at most N requests at once, a FIFO backlog of M, 503 beyond.

mod common;

use std::time::{Duration, Instant};

use common::{client, get, scrape, start, value};
use scalelab_stress::{Mode, TargetConfig};

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
    let url = format!("{}/timeout?ms=400", target.url());
    let started = Instant::now();
    let requests: Vec<_> = (0..6)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move {
                let response = client().get(url).send().await.unwrap();
                (response.status().as_u16(), started.elapsed())
            })
        })
        .collect();
    // While they run, health and metrics bypass the workers.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (status, _) = get(&target, "/health").await;
    assert_eq!(status, 200);
    let metrics = scrape(&target).await;
    assert_eq!(value(&metrics, "http_queue_length", &[]), Some(2.0));

    let mut results = Vec::new();
    for request in requests {
        results.push(request.await.unwrap());
    }
    let refused: Vec<_> = results.iter().filter(|(s, _)| *s == 503).collect();
    let served: Vec<_> = results.iter().filter(|(s, _)| *s == 200).collect();
    assert_eq!(refused.len(), 2, "{results:?}");
    assert_eq!(served.len(), 4, "{results:?}");
    assert!(
        refused.iter().all(|(_, t)| *t < Duration::from_millis(300)),
        "503 at once"
    );
    // Two workers: the first two finish after one wait, the queued two after two waits.
    let first_wave = served
        .iter()
        .filter(|(_, t)| *t < Duration::from_millis(700))
        .count();
    assert_eq!(first_wave, 2, "{results:?}");
    assert!(served.iter().all(|(_, t)| *t >= Duration::from_millis(400)));
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
