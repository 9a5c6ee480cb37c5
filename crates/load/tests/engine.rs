//! The engine against the embedded stress service: executors, checks, gauges, thresholds, stop.

mod common;

use std::time::Duration;

use common::{get, plan, run, run_with, scenario};
use scalelab_load::engine::{Interruption, RunOptions};
use scalelab_load::plan::{Check, Executor, Threshold};
use scalelab_shape::Stage;
use scalelab_stress::TargetConfig;

async fn target() -> scalelab_stress::RunningTarget {
    scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_vus_loop_and_every_request_is_counted_once() {
    let target = target().await;
    let checks = vec![
        Check::Status(vec![200]),
        Check::BodyContains("ok".into()),
        Check::Header {
            name: "content-type".into(),
            contains: "json".into(),
        },
    ];
    let plan = plan(
        vec![scenario(
            Executor::ConstantVus {
                vus: 4,
                duration: secs(1.5),
            },
            vec![
                get("ping", "/ping", checks),
                get("missing", "/nope", vec![]),
            ],
        )],
        secs(5.0),
    );
    let (outcome, intervals) = run(&plan, &target.url()).await;
    let s = &outcome.summary;
    assert!(outcome.interrupted.is_none());
    assert!(s.totals.requests > 100, "{:?}", s.totals);
    // One request per iteration: every started iteration finished and was counted.
    assert_eq!(s.totals.requests, s.totals.iterations);
    assert_eq!(
        intervals.iter().map(|i| i.requests()).sum::<u64>(),
        s.totals.requests
    );
    let ping = s.endpoints.iter().find(|e| e.name == "ping").unwrap();
    let missing = s.endpoints.iter().find(|e| e.name == "missing").unwrap();
    assert_eq!(
        (ping.outcome.as_str(), missing.outcome.as_str()),
        ("200", "404")
    );
    assert_eq!(s.totals.failures, missing.latency.count);
    assert_eq!(s.totals.max_vus, 4);
    // Three checks on every ping, all passing.
    assert_eq!(s.totals.checks_passed, 3 * ping.latency.count);
    assert_eq!(s.totals.checks_failed, 0);
    assert!(
        ping.bytes_received > ping.latency.count * 50,
        "wire bytes are counted"
    );
    assert!(s.totals.rps_peak > 0 && s.totals.rps_peak <= s.totals.requests);
    assert!(
        s.totals.send_delay.is_none(),
        "no schedule in the closed model"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_is_paced_and_drops_when_vus_run_out() {
    let target = target().await;
    // 40/s for 2 s = 80 arrivals, each a 100 ms request; 8 VUs could serve 80/s.
    let paced = plan(
        vec![scenario(
            Executor::ConstantArrivalRate {
                rate: 40.0,
                time_unit: secs(1.0),
                duration: secs(2.0),
                pre_allocated_vus: 2,
                max_vus: 8,
            },
            vec![get("wait", "/timeout?ms=100", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, _) = run(&paced, &target.url()).await;
    assert_eq!(
        outcome.summary.totals.requests + outcome.summary.totals.dropped_iterations,
        80
    );
    // With 4x the VUs the rate needs, (nearly) every arrival is sent; a starved machine may drop a few.
    assert!(
        outcome.summary.totals.dropped_iterations <= 8,
        "{:?}",
        outcome.summary.totals
    );
    assert!(outcome.summary.open_model);
    // Every sent arrival's schedule error is measured: one per request (one request per iteration).
    let delay = outcome.summary.totals.send_delay.expect("open model");
    assert_eq!(delay.count, outcome.summary.totals.requests);
    assert!(delay.min >= 0.0 && delay.max >= delay.p99);
    // 1 VU per thread at most, 200 ms requests: each thread sends at most ~5/s of its 20/s.
    let starved = plan(
        vec![scenario(
            Executor::ConstantArrivalRate {
                rate: 40.0,
                time_unit: secs(1.0),
                duration: secs(2.0),
                pre_allocated_vus: 2,
                max_vus: 2,
            },
            vec![get("wait", "/timeout?ms=200", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, _) = run(&starved, &target.url()).await;
    let t = &outcome.summary.totals;
    assert_eq!(t.requests + t.dropped_iterations, 80, "{t:?}");
    assert!(t.dropped_iterations >= 50, "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ramping_vus_follow_the_stages() {
    let target = target().await;
    let plan = plan(
        vec![scenario(
            Executor::RampingVus {
                start_vus: 0,
                stages: vec![
                    Stage {
                        duration: secs(1.0),
                        target: 6.0,
                    },
                    Stage {
                        duration: secs(1.0),
                        target: 6.0,
                    },
                    Stage {
                        duration: secs(1.0),
                        target: 0.0,
                    },
                ],
                graceful_ramp_down: secs(1.0),
            },
            vec![get("wait", "/timeout?ms=20", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, intervals) = run(&plan, &target.url()).await;
    assert_eq!(outcome.summary.totals.max_vus, 6);
    assert_eq!(
        intervals[1].gauges.vus,
        6,
        "{:?}",
        intervals.iter().map(|i| i.gauges.vus).collect::<Vec<_>>()
    );
    assert!(intervals.last().unwrap().gauges.vus == 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iteration_executors_run_their_counts() {
    let target = target().await;
    let per_vu = plan(
        vec![scenario(
            Executor::PerVuIterations {
                vus: 3,
                iterations: 5,
                max_duration: secs(10.0),
            },
            vec![get("ping", "/ping", vec![])],
        )],
        secs(5.0),
    );
    assert_eq!(
        run(&per_vu, &target.url()).await.0.summary.totals.requests,
        15
    );
    let shared = plan(
        vec![scenario(
            Executor::SharedIterations {
                vus: 4,
                iterations: 37,
                max_duration: secs(10.0),
            },
            vec![get("ping", "/ping", vec![])],
        )],
        secs(5.0),
    );
    assert_eq!(
        run(&shared, &target.url()).await.0.summary.totals.requests,
        37
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_pass_fail_and_abort() {
    let target = target().await;
    let mut plan = plan(
        vec![scenario(
            Executor::ConstantVus {
                vus: 2,
                duration: secs(3.0),
            },
            vec![get("slow", "/timeout?ms=50", vec![])],
        )],
        secs(5.0),
    );
    plan.thresholds = vec![
        Threshold {
            metric: "http_req_duration".into(),
            conditions: vec!["p(95)<5000".into()],
            abort_on_fail: false,
            delay_abort_eval: Duration::ZERO,
        },
        Threshold {
            metric: "http_req_duration{name:slow}".into(),
            conditions: vec!["avg<10".into()],
            abort_on_fail: true,
            delay_abort_eval: Duration::ZERO,
        },
    ];
    let started = std::time::Instant::now();
    let (outcome, _) = run(&plan, &target.url()).await;
    assert!(
        matches!(outcome.interrupted, Some(Interruption::Threshold(ref t)) if t.contains("avg<10")),
        "{:?}",
        outcome.interrupted
    );
    assert!(started.elapsed() < secs(2.9), "aborted early");
    let results = &outcome.summary.thresholds;
    assert!(results[0].passed && !results[1].passed);
    assert!(results[1].observed.unwrap() >= 50.0);
    assert!(!outcome.summary.thresholds_passed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_ends_the_run_early_with_complete_results() {
    let target = target().await;
    let plan = plan(
        vec![scenario(
            Executor::ConstantVus {
                vus: 3,
                duration: secs(30.0),
            },
            vec![get("wait", "/timeout?ms=100", vec![])],
        )],
        secs(5.0),
    );
    let options = RunOptions {
        threads: 2,
        stop_grace: secs(1.0),
        ..RunOptions::default()
    };
    let stop = options.stop.clone();
    tokio::spawn(async move {
        tokio::time::sleep(secs(1.2)).await;
        stop.cancel();
    });
    let started = std::time::Instant::now();
    let (outcome, intervals) = run_with(&plan, &target.url(), options).await;
    assert!(started.elapsed() < secs(4.0));
    assert_eq!(outcome.interrupted, Some(Interruption::Stopped));
    assert!(outcome.summary.totals.requests >= 20);
    assert_eq!(
        intervals.iter().map(|i| i.requests()).sum::<u64>(),
        outcome.summary.totals.requests
    );
}
