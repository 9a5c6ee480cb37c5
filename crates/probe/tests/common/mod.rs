//! Helpers of the staircase tests: the embedded service in-process on 127.0.0.1:0, and a short
//! staircase against it.
#![allow(dead_code)]

use std::time::Duration;

use scalelab_probe::{Findings, Growth, Measurement, ProbeOptions, ServerSource, Staircase, mix};
use scalelab_stress::{Mode, TargetConfig};
use tokio_util::sync::CancellationToken;

/// Runs `staircase` against `path` of a service in `mode`; with `metrics`, reads the service's CPU
/// from its /metrics (this process's CPU).
pub async fn staircase(
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

pub fn stairs(start: f64, factor: f64, max_rate: f64) -> Staircase {
    Staircase {
        start,
        growth: Growth::Factor(factor),
        step: Duration::from_secs(3),
        max_rate,
        max_duration: Duration::from_secs(30),
        ..Staircase::default()
    }
}
