//! Success and error paths of every endpoint, the token, and /metrics.

mod common;

use common::{get, scrape, start, value};
use scalelab_stress::TargetConfig;

#[tokio::test]
async fn ping_answers_json() {
    let target = start(TargetConfig::loopback()).await;
    let (status, body) = get(&target, "/ping").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn timeout_waits_the_asked_time() {
    let target = start(TargetConfig::loopback()).await;
    let started = std::time::Instant::now();
    let (status, body) = get(&target, "/timeout?ms=150").await;
    assert_eq!(status, 200);
    assert_eq!(body["waited_ms"], 150);
    assert!(started.elapsed().as_millis() >= 150);
}

#[tokio::test]
async fn bad_parameters_get_400_naming_the_parameter_and_range() {
    let target = start(TargetConfig::loopback()).await;
    for (path, parameter) in [
        ("/timeout?ms=abc", "ms"),
        ("/timeout?ms=-5", "ms"),
        ("/heavy?ms=999999999", "ms"),
        ("/stress/cpu?percent=250", "percent"),
        ("/stress/cpu?percent=10&seconds=0", "seconds"),
        ("/stress/cpu?percent=10&seconds=601", "seconds"),
        ("/stress/memory?percent=x", "percent"),
        ("/stress/memory?percent=1&seconds=9999", "seconds"),
    ] {
        let (status, body) = get(&target, path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["parameter"], parameter, "{path}");
        assert!(
            body["min"].is_number() && body["max"].is_number(),
            "{path}: {body}"
        );
        assert!(
            body["error"].as_str().unwrap().contains(parameter),
            "{path}"
        );
    }
}

#[tokio::test]
async fn unknown_path_is_404_json() {
    let target = start(TargetConfig::loopback()).await;
    let (status, body) = get(&target, "/nowhere").await;
    assert_eq!(status, 404);
    assert!(body["error"].as_str().unwrap().contains("/nowhere"));
}

#[tokio::test]
async fn cpu_stress_starts_in_background_and_caps_at_100_percent() {
    let target = start(TargetConfig::loopback()).await;
    // A job of 10 minutes (the most): the answer (within the client's 20 s timeout) comes while it
    // runs, and the checks below see it running whatever the machine's speed. Shutdown stops it.
    let (status, body) = get(&target, "/stress/cpu?percent=60&seconds=600").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["percent"], 60.0);
    assert!(body["id"].as_u64().is_some());
    let (status, body) = get(&target, "/stress/cpu?percent=50&seconds=1").await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].as_str().unwrap().contains("100%"));
    let metrics = scrape(&target).await;
    assert_eq!(value(&metrics, "stress_cpu_jobs_active", &[]), Some(1.0));
    target.shutdown().await.unwrap();

    // A job of a second ends on its own and frees its share.
    let target = start(TargetConfig::loopback()).await;
    let (status, body) = get(&target, "/stress/cpu?percent=60&seconds=1").await;
    assert_eq!(status, 200, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (status, _) = get(&target, "/stress/cpu?percent=50&seconds=1").await;
        if status == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "CPU job did not end");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn random_percent_is_one_of_the_documented_values_and_reproducible() {
    let mut picks = Vec::new();
    for _ in 0..2 {
        let target = start(TargetConfig {
            seed: Some(7),
            ..TargetConfig::loopback()
        })
        .await;
        let mut run = Vec::new();
        for _ in 0..3 {
            let (status, body) = get(&target, "/stress/memory?seconds=0&percent=0.01").await;
            assert_eq!(status, 200);
            assert_eq!(body["random_percent"], false);
            let (status, body) = get(&target, "/stress/cpu?seconds=1").await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["random_percent"], true);
            let percent = body["percent"].as_f64().unwrap();
            assert!([5.0, 10.0, 15.0, 20.0].contains(&percent), "{percent}");
            run.push(percent);
        }
        target.shutdown().await.unwrap();
        picks.push(run);
    }
    assert_eq!(picks[0], picks[1], "the same seed picks the same percents");
}

#[tokio::test]
async fn token_guards_stress_endpoints_only() {
    let target = start(TargetConfig {
        token: Some("s3cret".into()),
        ..TargetConfig::loopback()
    })
    .await;
    let (status, _) = get(&target, "/stress/cpu?percent=1&seconds=1").await;
    assert_eq!(status, 401);
    let (status, _) = get(&target, "/ping").await;
    assert_eq!(status, 200);
    let response = common::client()
        .get(format!("{}/stress/cpu?percent=1&seconds=1", target.url()))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_parse_and_counters_move() {
    let target = start(TargetConfig::loopback()).await;
    let before = scrape(&target).await;
    let pings = |samples: &[common::PromSample]| {
        value(
            samples,
            "http_requests_total",
            &[("endpoint", "/ping"), ("status", "200")],
        )
        .unwrap_or(0.0)
    };
    for _ in 0..3 {
        get(&target, "/ping").await;
    }
    get(&target, "/heavy?ms=nope").await;
    let after = scrape(&target).await;
    assert_eq!(pings(&after) - pings(&before), 3.0);
    assert_eq!(
        value(
            &after,
            "http_requests_total",
            &[("endpoint", "/heavy"), ("status", "400")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &after,
            "http_request_duration_seconds_count",
            &[("endpoint", "/ping")]
        ),
        Some(3.0)
    );
    assert!(value(&after, "process_cpu_seconds_total", &[]).unwrap() > 0.0);
    assert!(value(&after, "process_resident_memory_bytes", &[]).unwrap() > 1e6);
    for gauge in [
        "http_requests_in_flight",
        "http_queue_length",
        "stress_memory_held_bytes",
    ] {
        assert!(value(&after, gauge, &[]).is_some(), "{gauge} missing");
    }
}
