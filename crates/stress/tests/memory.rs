//! Memory stress really raises resident memory and gives it back; the cap answers 429.
//! In its own test process, so resident memory is not moved by other tests.

mod common;

use std::time::{Duration, Instant};

use common::{client, get, start};
use scalelab_stress::{TargetConfig, process_usage};

#[tokio::test]
async fn memory_stress_raises_rss_then_frees_it_and_respects_the_cap() {
    let cap = 400 * 1024 * 1024;
    let target = start(TargetConfig {
        memory_cap: Some(cap),
        ..TargetConfig::loopback()
    })
    .await;
    let total = procfs_total();
    // About 150 MiB, whatever the machine's memory.
    let percent = 150.0 * 1024.0 * 1024.0 / total as f64 * 100.0;
    let baseline = process_usage().resident_bytes;
    let url = format!(
        "{}/stress/memory?percent={percent}&seconds=1.5",
        target.url()
    );
    let request = tokio::spawn(async move { client().get(url).send().await.unwrap() });

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut peak = baseline;
    while Instant::now() < deadline && !request.is_finished() {
        peak = peak.max(process_usage().resident_bytes);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let response = request.await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let bytes = response.json::<serde_json::Value>().await.unwrap()["bytes"]
        .as_u64()
        .unwrap();
    let grown = peak.saturating_sub(baseline);
    assert!(
        grown as f64 >= bytes as f64 * 0.9,
        "RSS grew {grown} for {bytes} held"
    );

    let after = process_usage().resident_bytes;
    assert!(
        (after.saturating_sub(baseline) as f64) < bytes as f64 * 0.2,
        "RSS {after} did not come back near {baseline}"
    );

    // Over the cap: 429 with a JSON error, nothing allocated.
    let over = (cap as f64 * 1.5) / total as f64 * 100.0;
    let (status, body) = get(&target, &format!("/stress/memory?percent={over}&seconds=1")).await;
    assert_eq!(status, 429);
    assert!(body["error"].as_str().unwrap().contains("cap"));
}

fn procfs_total() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let line = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}
