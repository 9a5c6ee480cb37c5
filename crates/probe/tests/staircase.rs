//! The staircase against the embedded stress service, started in-process on 127.0.0.1:0.

use std::time::Duration;

use scalelab_probe::analysis::{Bound, Kind};
use scalelab_probe::{
    Ended, Findings, Growth, Measurement, ProbeOptions, ServerSource, Staircase, mix,
};
use scalelab_stress::{Mode, TargetConfig};
use tokio_util::sync::CancellationToken;

async fn staircase(
    mode: Mode,
    path: &str,
    staircase: Staircase,
    metrics: bool,
) -> (Measurement, Findings) {
    let target = scalelab_stress::start(TargetConfig {
        mode,
        ..TargetConfig::loopback()
    })
    .await
    .expect("the service starts");
    let url = format!("{}{path}", target.url());
    let options = ProbeOptions {
        server: metrics.then(|| ServerSource::MetricsUrl(format!("{}/metrics", target.url()))),
        vcpus: 1,
        threads: 1,
        interrupt: CancellationToken::new(),
        on_step: Box::new(|step| eprintln!("{step:?}")),
    };
    let measurement = scalelab_probe::run(&staircase, &mix::one_url(&url), &url, options)
        .await
        .expect("the staircase runs");
    target.shutdown().await.expect("the service stops");
    let findings = Findings::from(&measurement);
    eprintln!("{findings:#?}");
    (measurement, findings)
}

fn stairs(start: f64, factor: f64, max_rate: f64) -> Staircase {
    Staircase {
        start,
        growth: Growth::Factor(factor),
        step: Duration::from_secs(3),
        max_rate,
        max_duration: Duration::from_secs(30),
        ..Staircase::default()
    }
}

/// A sync server with `workers` workers and 40 ms requests plateaus at workers / 40 ms.
async fn sync_workers_are_counted(workers: usize) {
    let (m, f) = staircase(
        Mode::Sync {
            workers,
            backlog: 64,
        },
        "/timeout?ms=40",
        stairs(12.0 * workers as f64, 1.6, 1000.0),
        false,
    )
    .await;
    assert_eq!(m.ended, Ended::Limit, "{m:#?}");
    let c = f.characterization.expect("characterized");
    let Kind::Sync { workers: w, .. } = c.kind else {
        panic!("{c:#?}")
    };
    let expected = workers as f64;
    assert!((w - expected).abs() <= 0.1 * expected, "W = {w}, {c:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_server_with_two_workers_is_called_sync_with_two() {
    sync_workers_are_counted(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_server_with_six_workers_is_called_sync_with_six() {
    sync_workers_are_counted(6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_server_is_called_async() {
    let (m, f) = staircase(
        Mode::Async,
        "/timeout?ms=40",
        stairs(25.0, 2.0, 200.0),
        false,
    )
    .await;
    assert_eq!(m.ended, Ended::Schedule, "{m:#?}");
    let c = f.characterization.expect("characterized");
    assert_eq!(
        (c.kind.clone(), c.bound),
        (Kind::Async, Bound::Unknown),
        "{c:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpu_cost_of_a_request_is_recovered() {
    // /heavy?ms=50 burns 50 ms of CPU per request. The service runs in this process, so the process
    // CPU also counts the load generator's share (about 2 ms a request in a debug build).
    let (m, f) = staircase(Mode::Async, "/heavy?ms=50", stairs(3.0, 2.0, 12.0), true).await;
    assert_eq!(m.ended, Ended::Schedule, "{m:#?}");
    let model = f.capacity_file(m.vcpus).expect("a capacity model");
    let cost = model.cpu.cpu_seconds_per_request;
    assert!((cost - 0.050).abs() <= 0.005, "{model:#?}");
    assert!(model.cpu.r2 > 0.9, "{model:#?}");
    assert!(model.memory.is_some(), "{model:#?}");
}
