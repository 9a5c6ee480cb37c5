//! A target that refuses, resets, stalls or answers garbage is counted and classified, never fatal;
//! and the open model's latency shows a stall that the closed model hides.

mod common;

use std::time::Duration;

use common::{
    Fault, dead_server, fault_server, get, plan, refusing, run, scenario, stalling_server,
};
use scalelab_load::plan::{Executor, Threshold};

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

async fn run_against(base: &str, timeout: Duration) -> scalelab_metrics::Summary {
    let plan = plan(
        vec![scenario(
            Executor::ConstantVus {
                vus: 2,
                duration: secs(1.0),
            },
            vec![get("x", "/x", vec![])],
        )],
        timeout,
    );
    run(&plan, base).await.0.summary
}

fn only_outcome(summary: &scalelab_metrics::Summary) -> &str {
    assert_eq!(summary.endpoints.len(), 1, "{:?}", summary.endpoints);
    &summary.endpoints[0].outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_is_classified_and_every_request_accounted_for() {
    let (refused, _held) = refusing();
    let cases = [
        (format!("http://{refused}"), "connection_refused"),
        (
            format!("http://{}", fault_server(Fault::Reset).await),
            "reset",
        ),
        (
            format!("http://{}", fault_server(Fault::Garbage).await),
            "malformed",
        ),
        (
            format!("http://{}", fault_server(Fault::Silent).await),
            "request_timeout",
        ),
    ];
    for (base, kind) in cases {
        let summary = run_against(&base, secs(0.3)).await;
        assert_eq!(only_outcome(&summary), kind, "{base}");
        let t = &summary.totals;
        assert!(t.requests > 0, "{base}");
        // Sent = succeeded + failed by kind: every request is one failure of this kind, and every
        // iteration that started ended with its request counted.
        assert_eq!(t.failures, t.requests, "{base}");
        assert_eq!(summary.errors_by_kind[kind], t.requests, "{base}");
        assert_eq!(t.iterations, t.requests, "{base}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_model_latency_shows_a_stall_that_the_closed_model_hides() {
    // The server stalls from 2 s to 3 s of every 5-second cycle. Over 5 s, an open model at 200/s
    // schedules 200 arrivals into the stall, each waiting until it ends (up to a second): the 180
    // due before 2.9 s wait at least 100 ms, so p99 (the 10 slowest of 1,000) is ~1 s and p90 (the
    // 100 slowest) at least 0.5 s, by the schedule alone. A closed loop of 4 users sends only 4
    // requests into it.
    let base = format!("http://{}", stalling_server().await);
    let open = plan(
        vec![scenario(
            Executor::ConstantArrivalRate {
                rate: 200.0,
                time_unit: secs(1.0),
                duration: secs(5.0),
                // VUs for every arrival of the stall, made before the start: none is dropped
                // (an arrival finding every VU busy would be, as in k6).
                pre_allocated_vus: 300,
                max_vus: 400,
            },
            vec![get("x", "/x", vec![])],
        )],
        secs(5.0),
    );
    let outcome = run(&open, &base).await;
    let totals = &outcome.0.summary.totals;
    // 200/s for 5 s, and one more at 5.0 s as k6's constant-arrival-rate starts.
    assert_eq!(totals.requests + totals.dropped_iterations, 1001);
    assert!(
        totals.latency.p99 >= 800.0,
        "open p99 {} ms",
        totals.latency.p99
    );
    assert!(
        totals.latency.p90 >= 100.0,
        "open p90 {} ms",
        totals.latency.p90
    );

    let (open_slow, _) = slow_requests(&outcome.1);
    assert!(
        open_slow >= 150,
        "open model: {open_slow} requests waited >= 100 ms"
    );

    let base = format!("http://{}", stalling_server().await);
    let closed = plan(
        vec![scenario(
            Executor::ConstantVus {
                vus: 4,
                duration: secs(5.0),
            },
            vec![get("x", "/x", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, intervals) = run(&closed, &base).await;
    // Whatever the machine's speed, each of the 4 users is caught by the 1 s stall at most once (its
    // request waits until the stall ends, the next stall is 5 s after the run's first request): the
    // closed model sends at most 4 requests into it (the server answers those 203), where the open
    // model scheduled 200. Its max still saw it.
    let held: u64 = intervals
        .iter()
        .flat_map(|interval| &interval.series)
        .filter(|(key, _)| key.outcome == scalelab_metrics::Outcome::Status(203))
        .map(|(_, series)| series.count)
        .sum();
    assert!(held <= 4, "{held} requests held by the stall");
    assert!(
        outcome.summary.totals.latency.max >= 800.0,
        "but its max saw it"
    );
}

/// Requests that took at least 100 ms, and all requests, over every interval.
fn slow_requests(intervals: &[scalelab_metrics::Interval]) -> (u64, u64) {
    let mut all = scalelab_metrics::LatencyHistogram::default();
    for interval in intervals {
        for (_, series) in &interval.series {
            all.merge(&series.latency);
        }
    }
    (all.inner().count_between(100_000, u64::MAX), all.count())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_server_measures_nothing_and_its_requests_are_counted_as_interrupted() {
    let base = format!("http://{}", dead_server().await);
    let mut open = plan(
        vec![scenario(
            Executor::ConstantArrivalRate {
                rate: 10.0,
                time_unit: secs(1.0),
                duration: secs(1.0),
                pre_allocated_vus: 5,
                max_vus: 5,
            },
            vec![get("x", "/x", vec![])],
        )],
        secs(60.0),
    );
    open.scenarios[0].graceful_stop = secs(1.0);
    open.thresholds = [
        ("http_req_failed", "rate<0.01"),
        ("http_req_duration", "p(95)<100"),
    ]
    .map(|(metric, condition)| Threshold {
        metric: metric.into(),
        conditions: vec![condition.into()],
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
    })
    .into();
    let (outcome, _) = run(&open, &base).await;
    let s = &outcome.summary;
    let t = &s.totals;
    // 11 arrivals at 0.0, 0.1, … 1.0 s (k6 starts one at the end too). The 5 VUs each take one and
    // wait for an answer that never comes; the 6 later arrivals find no free VU. At 1 s + gracefulStop 1 s the 5 requests
    // still in flight are interrupted: counted apart (k6 drops them from its metrics), their
    // iterations interrupted. Nothing answered, so the run measured no server.
    assert_eq!(
        (t.requests, t.interrupted_requests, t.dropped_iterations),
        (0, 5, 6),
        "{t:?}"
    );
    assert_eq!((t.iterations, t.interrupted_iterations), (0, 5), "{t:?}");
    assert!(s.errors_by_kind.is_empty() && s.endpoints.is_empty());
    assert_eq!(s.requests_sent(), 5);
    assert!(s.nothing_answered());
    // No sample for either threshold: each fails, saying so.
    assert!(
        s.thresholds
            .iter()
            .all(|t| !t.passed && t.observed.is_none())
    );
}
