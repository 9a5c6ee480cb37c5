//! /heavy burns CPU time, /timeout does not. One test in its own process, so no other test's CPU
//! use muddies the process CPU clock. Bounds are loose: they prove the behaviour, not a speed.

mod common;

use std::time::Duration;

use common::{get, start};
use scalelab_stress::{TargetConfig, process_usage};

#[tokio::test]
async fn heavy_uses_cpu_time_and_timeout_does_not() {
    let target = start(TargetConfig::loopback()).await;
    get(&target, "/ping").await;

    let before = process_usage().cpu;
    let (status, body) = get(&target, "/heavy?ms=300").await;
    let used = process_usage().cpu - before;
    assert_eq!(status, 200);
    assert!(body["cpu_ms"].as_f64().unwrap() >= 300.0);
    assert!(
        used >= Duration::from_millis(280),
        "heavy used only {used:?} of CPU"
    );
    assert!(
        used < Duration::from_millis(1500),
        "heavy used {used:?} of CPU"
    );

    let before = process_usage().cpu;
    let (status, _) = get(&target, "/timeout?ms=300").await;
    let used = process_usage().cpu - before;
    assert_eq!(status, 200);
    assert!(
        used < Duration::from_millis(100),
        "timeout used {used:?} of CPU"
    );

    // Background CPU stress: 50 % of each core for 1 s is about cores x 0.5 s of CPU.
    let cores = std::thread::available_parallelism().unwrap().get() as f64;
    let before = process_usage().cpu;
    let (status, _) = get(&target, "/stress/cpu?percent=50&seconds=1").await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let used = (process_usage().cpu - before).as_secs_f64();
    // Loose lower bound: on a busy machine the burner threads share the cores with others.
    assert!(
        used > cores * 0.5 * 0.25,
        "stress used {used:.2}s on {cores} cores"
    );
    assert!(
        used < cores * 0.5 * 1.6,
        "stress used {used:.2}s on {cores} cores"
    );
}
