//! The engine against the embedded stress service: executors, checks, gauges, thresholds, stop.

mod common;

use std::time::Duration;

use common::{get, plan, run, scenario};
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
    assert!(s.totals.rps_peak >= s.totals.rps_avg && s.totals.rps_peak <= s.totals.requests as f64);
    assert!(
        s.totals.send_delay.is_none(),
        "no schedule in the closed model"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_accounts_for_every_arrival_and_drops_when_vus_run_out() {
    let target = target().await;
    // 40/s for 2 s: 81 arrivals (k6 starts one at 2.0 s too), each a 100 ms request; 8 VUs could
    // serve 80/s.
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
        81
    );
    // Each thread's first arrival finds its VU made before the start: at least 2 are sent however
    // slow the machine. (An arrival that finds every VU busy is dropped while one more is made for
    // later ones, as in k6; with 4x the VUs the rate needs, nearly all are usually sent.)
    assert!(
        outcome.summary.totals.requests >= 2,
        "{:?}",
        outcome.summary.totals
    );
    assert!(outcome.summary.open_model);
    // Every sent arrival's schedule error is measured: one per request (one request per iteration).
    let delay = outcome.summary.totals.send_delay.expect("open model");
    assert_eq!(delay.count, outcome.summary.totals.requests);
    // k6's rule drops rather than waits: every arrival sent found its VU free.
    let free = outcome.summary.totals.send_delay_free.expect("open model");
    assert_eq!(free.count, delay.count);
    // 1 VU per thread at most, each request held 200 ms by the server: over 2 s a thread sends at
    // most 2 / 0.2 + 1 = 11 of its 40 or 41 arrivals, so at least 81 - 22 = 59 are dropped, and
    // more on a slower machine.
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
    assert_eq!(t.requests + t.dropped_iterations, 81, "{t:?}");
    assert!(t.dropped_iterations >= 59, "{t:?}");
}

/// `quick -q`: an arrival that finds its connections busy waits for one (wrk2, oha) and is sent
/// late, its delay measured; what still waits when the duration ends is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_rate_arrivals_wait_for_a_busy_connection() {
    let target = target().await;
    // 40/s for 1 s over 2 connections (one per loader thread): each thread's arrivals come every
    // 50 ms, but its one connection takes 100 ms per request, so a thread's j-th arrival (due at
    // 50j ms after its first) cannot go out before 100j ms: at least 50j ms late. Those sent within
    // the second are j = 0..9 on each thread: at most 20 sent, the rest dropped at the end. A
    // slower machine sends fewer, later.
    let fixed_rate = |timeout| {
        plan(
            vec![scenario(
                Executor::FixedRate {
                    rate: 40.0,
                    duration: secs(1.0),
                    connections: 2,
                },
                vec![get("wait", "/timeout?ms=100", vec![])],
            )],
            timeout,
        )
    };
    let (outcome, _) = run(&fixed_rate(secs(5.0)), &target.url()).await;
    let t = &outcome.summary.totals;
    assert_eq!(t.requests + t.dropped_iterations, 40, "{t:?}");
    assert!((2..=22).contains(&t.requests), "{t:?}");
    let delay = t.send_delay.as_ref().expect("open model");
    assert_eq!(delay.count, t.requests);
    // Dropping (k6) would send every request on time; waiting sends them late: one thread sent at
    // least half the requests, its last j = ceil(requests / 2) - 1, at least 50j ms late.
    let last = t.requests.div_ceil(2) - 1;
    assert!(delay.max >= 50.0 * last as f64, "{delay:?}");
    assert_eq!(outcome.summary.totals.max_vus, 2);

    // Against a server that never answers, each connection's first request holds it past the
    // second (its timeout is 2 s): exactly the two first arrivals find a free connection, the 38
    // others wait, then are dropped.
    let dead = format!("http://{}", common::dead_server().await);
    let (outcome, _) = run(&fixed_rate(secs(2.0)), &dead).await;
    let t = &outcome.summary.totals;
    assert_eq!((t.requests, t.dropped_iterations), (2, 38), "{t:?}");
    let free = t
        .send_delay_free
        .as_ref()
        .expect("two arrivals found a free VU");
    assert_eq!(free.count, 2, "{free:?}");
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
    // Second 1 is the plateau at 6: its peak is 6, read within the second, not at its edge (where
    // the ramp down starts).
    assert_eq!(
        intervals[1].gauges.vus_peak,
        6,
        "{:?}",
        intervals
            .iter()
            .map(|i| i.gauges.vus_peak)
            .collect::<Vec<_>>()
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
                duration: secs(30.0),
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
    let (outcome, _) = run(&plan, &target.url()).await;
    assert!(
        matches!(outcome.interrupted, Some(Interruption::Threshold(ref t)) if t.contains("avg<10")),
        "{:?}",
        outcome.interrupted
    );
    // Every request takes 50 ms, so the first completed second fails avg<10 and stops the 30 s run.
    let stop = outcome.summary.stopped_early.as_ref().expect("recorded");
    assert_eq!(
        stop.reason,
        "threshold http_req_duration{name:slow} avg<10 failed (abortOnFail)"
    );
    assert!(stop.at_seconds >= 1.0 && stop.at_seconds < 30.0, "{stop:?}");
    assert!(outcome.summary.duration_seconds < 30.0);
    let results = &outcome.summary.thresholds;
    assert!(results[0].passed && !results[1].passed);
    assert!(results[1].observed.unwrap() >= 50.0);
    assert!(!outcome.summary.thresholds_passed());
}

/// Cancels the run once `after` requests have completed.
struct StopAfter {
    after: u64,
    stop: tokio_util::sync::CancellationToken,
    intervals: Vec<scalelab_metrics::Interval>,
}

impl scalelab_load::engine::Observer for StopAfter {
    fn on_interval(
        &mut self,
        interval: &scalelab_metrics::Interval,
        progress: &scalelab_load::engine::Progress<'_>,
    ) {
        self.intervals.push(interval.clone());
        if progress.total.requests() >= self.after {
            self.stop.cancel();
        }
    }
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
    let mut observer = StopAfter {
        after: 20,
        stop: options.stop.clone(),
        intervals: Vec::new(),
    };
    let compiled = std::sync::Arc::new(
        scalelab_load::engine::CompiledPlan::new(&plan, &target.url()).unwrap(),
    );
    let outcome = scalelab_load::engine::run(compiled, options, &mut observer)
        .await
        .unwrap();
    assert_eq!(outcome.interrupted, Some(Interruption::Stopped));
    let summary = &outcome.summary;
    assert!(summary.totals.requests >= 20);
    assert!(
        summary.duration_seconds < 30.0,
        "stopped before the plan's end"
    );
    let stop = summary.stopped_early.as_ref().expect("recorded");
    assert_eq!(stop.reason, "stopped");
    assert!(stop.at_seconds <= summary.duration_seconds);
    // 100 ms requests end well within the 1 s grace: none is interrupted, every one counted once.
    assert_eq!(summary.totals.interrupted_iterations, 0);
    assert_eq!(summary.totals.requests, summary.totals.iterations);
    assert_eq!(
        observer.intervals.iter().map(|i| i.requests()).sum::<u64>(),
        summary.totals.requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weight_0_flow_is_never_picked() {
    let target = target().await;
    let mut plan = plan(
        vec![scenario(
            Executor::SharedIterations {
                vus: 2,
                iterations: 40,
                max_duration: secs(30.0),
            },
            vec![
                get("never", "/ping", vec![]),
                get("always", "/ping", vec![]),
            ],
        )],
        secs(5.0),
    );
    plan.scenarios[0].iteration.flows[0].weight = 0;
    let (outcome, _) = run(&plan, &target.url()).await;
    let names: Vec<(&str, u64)> = outcome
        .summary
        .endpoints
        .iter()
        .map(|e| (e.name.as_str(), e.latency.count))
        .collect();
    assert_eq!(names, [("always", 40)]);
    plan.scenarios[0].iteration.flows[1].weight = 0;
    let error = scalelab_load::engine::CompiledPlan::new(&plan, &target.url()).unwrap_err();
    assert!(error.to_string().contains("has weight 0"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrival_schedules_run_to_their_end_rate_0_and_pauses_included() {
    let target = target().await;
    // ramping-arrival-rate 0 -> 10/s over 1 s (5 arrivals), 10 -> 0 over 1 s (5 more): 10 arrivals,
    // the last one before 2 s; the run still lasts the whole 2 s of its schedule.
    let ramp = plan(
        vec![scenario(
            Executor::RampingArrivalRate {
                start_rate: 0.0,
                time_unit: secs(1.0),
                stages: vec![
                    Stage {
                        duration: secs(1.0),
                        target: 10.0,
                    },
                    Stage {
                        duration: secs(1.0),
                        target: 0.0,
                    },
                ],
                pre_allocated_vus: 4,
                max_vus: 10,
            },
            vec![get("ping", "/ping", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, _) = run(&ramp, &target.url()).await;
    let t = &outcome.summary.totals;
    assert_eq!(t.requests + t.dropped_iterations, 10, "{t:?}");
    assert_eq!(t.requests, t.iterations);
    assert!(
        outcome.summary.duration_seconds >= 2.0,
        "{}",
        outcome.summary.duration_seconds
    );
    // Artillery: 10/s for 1 s, then a 1 s pause: 10 users, and a 2 s run.
    let phases = plan(
        vec![scenario(
            Executor::Phases {
                phases: vec![
                    scalelab_shape::Phase::Rate {
                        duration: secs(1.0),
                        rate: 10.0,
                        ramp_to: None,
                    },
                    scalelab_shape::Phase::Pause {
                        duration: secs(1.0),
                    },
                ],
                max_vus: None,
            },
            vec![get("ping", "/ping", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, _) = run(&phases, &target.url()).await;
    assert_eq!(outcome.summary.totals.requests, 10);
    assert_eq!(outcome.summary.totals.dropped_iterations, 0);
    assert!(
        outcome.summary.duration_seconds >= 2.0,
        "{}",
        outcome.summary.duration_seconds
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_vus_of_an_arrival_rate_run_is_the_peak_of_busy_vus() {
    let target = target().await;
    // 20/s, each request 300 ms: over the 2 loader threads (10/s each, one every 100 ms), an arrival
    // finds the previous ones of its thread still busy for 300 ms, so each thread has at least 3
    // busy at once: at least 6 in all, at most the 20 allowed. None is busy at a second's end for
    // long, so the old end-of-second sample could read far less.
    let plan = plan(
        vec![scenario(
            Executor::ConstantArrivalRate {
                rate: 20.0,
                time_unit: secs(1.0),
                duration: secs(2.0),
                pre_allocated_vus: 2,
                max_vus: 20,
            },
            vec![get("wait", "/timeout?ms=300", vec![])],
        )],
        secs(5.0),
    );
    let (outcome, _) = run(&plan, &target.url()).await;
    let t = &outcome.summary.totals;
    assert!((6..=20).contains(&t.max_vus), "{t:?}");
    assert!(
        t.vus_allocated >= t.max_vus && t.vus_allocated <= 20,
        "{t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_runs_its_steps_count_times() {
    let target = target().await;
    let mut plan = plan(
        vec![scenario(
            Executor::PerVuIterations {
                vus: 1,
                iterations: 2,
                max_duration: secs(30.0),
            },
            vec![get("ping", "/ping", vec![])],
        )],
        secs(5.0),
    );
    let flow = &mut plan.scenarios[0].iteration.flows[0];
    flow.steps = vec![scalelab_load::plan::Step::Loop {
        count: 3,
        steps: std::mem::take(&mut flow.steps),
    }];
    // 2 iterations of a 3-times loop of one request.
    let (outcome, _) = run(&plan, &target.url()).await;
    assert_eq!(outcome.summary.totals.requests, 6);
    assert_eq!(outcome.summary.totals.iterations, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn think_time_counts_in_the_iteration() {
    let target = target().await;
    let mut plan = plan(
        vec![scenario(
            Executor::PerVuIterations {
                vus: 1,
                iterations: 3,
                max_duration: secs(30.0),
            },
            vec![get("ping", "/ping", vec![])],
        )],
        secs(5.0),
    );
    let flow = &mut plan.scenarios[0].iteration.flows[0];
    flow.steps.push(scalelab_load::plan::Step::Think(
        scalelab_load::plan::Think::Fixed(secs(0.2)),
    ));
    plan.scenarios[0].iteration.think = Some(scalelab_load::plan::Think::Uniform {
        min: secs(0.1),
        max: secs(0.15),
    });
    let (outcome, _) = run(&plan, &target.url()).await;
    let t = &outcome.summary.totals;
    assert_eq!((t.requests, t.iterations), (3, 3));
    // Each iteration: a request, a 200 ms think step, then 100–150 ms of think after it.
    assert!(
        t.iteration_duration.min >= 299.0,
        "{:?}",
        t.iteration_duration
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_time_delays_a_scenario() {
    let target = target().await;
    let once = |name: &str| {
        let mut s = scenario(
            Executor::PerVuIterations {
                vus: 1,
                iterations: 1,
                max_duration: secs(30.0),
            },
            vec![get(name, "/ping", vec![])],
        );
        s.name = name.into();
        s
    };
    let mut late = once("late");
    late.start_time = secs(1.5);
    let plan = plan(vec![once("early"), late], secs(5.0));
    let (outcome, intervals) = run(&plan, &target.url()).await;
    assert_eq!(outcome.summary.totals.requests, 2);
    // The run's endpoints table is [early, late]: the late one completed no sooner than 1.5 s in.
    let second_of = |endpoint: u32| {
        intervals
            .iter()
            .find(|i| i.series.iter().any(|(k, _)| k.endpoint.0 == endpoint))
            .map(|i| i.second)
            .unwrap()
    };
    assert_eq!(second_of(0), 0);
    assert!(second_of(1) >= 1);
    assert!(outcome.summary.duration_seconds >= 1.5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_lets_an_iteration_finish_or_interrupts_it() {
    let target = target().await;
    // One VU for 1 s; its first request takes 2.5 s, past the scenario's end.
    let slow = |graceful: f64| {
        let mut s = scenario(
            Executor::ConstantVus {
                vus: 1,
                duration: secs(1.0),
            },
            vec![get("slow", "/timeout?ms=2500", vec![])],
        );
        s.graceful_stop = secs(graceful);
        plan(vec![s], secs(10.0))
    };
    // gracefulStop 5 s: it finishes, with its status.
    let (outcome, _) = run(&slow(5.0), &target.url()).await;
    let t = &outcome.summary.totals;
    assert_eq!(
        (t.requests, t.iterations, t.interrupted_iterations),
        (1, 1, 0)
    );
    assert_eq!(outcome.summary.endpoints[0].outcome, "200");
    // gracefulStop 0.5 s: at 1.5 s it is interrupted, and counted as such: its request apart, in
    // no http_req figure (as k6 drops it).
    let (outcome, _) = run(&slow(0.5), &target.url()).await;
    let t = &outcome.summary.totals;
    assert_eq!(
        (
            t.requests,
            t.interrupted_requests,
            t.iterations,
            t.interrupted_iterations
        ),
        (0, 1, 0, 1)
    );
    assert!(outcome.summary.endpoints.is_empty());
}

/// One loader thread, so that every arrival and VU is on one lane and the counts are exact.
async fn run_on_one_thread(
    plan: &scalelab_load::plan::Plan,
    base: &str,
) -> scalelab_load::engine::RunOutcome {
    let options = RunOptions {
        threads: 1,
        ..RunOptions::default()
    };
    common::run_with(plan, base, options).await.0
}

/// A `constant-arrival-rate` of 10/s for `seconds` over (`preAllocatedVUs`, `maxVUs`) to `path`.
fn ten_per_second(seconds: f64, (pre, max): (u64, u64), path: &str) -> scalelab_load::plan::Plan {
    plan(
        vec![scenario(
            Executor::ConstantArrivalRate {
                rate: 10.0,
                time_unit: secs(1.0),
                duration: secs(seconds),
                pre_allocated_vus: pre,
                max_vus: max,
            },
            vec![get("x", path, vec![])],
        )],
        secs(5.0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constant_arrival_rate_starts_an_iteration_at_its_end_as_k6_does() {
    let target = target().await;
    // 10/s for 1 s: arrivals at 0.0, 0.1, … 0.9 and, as k6 v1.1.0 runs it, 1.0 s: 11.
    let plan = ten_per_second(1.0, (5, 5), "/ping");
    let t = run_on_one_thread(&plan, &target.url()).await.summary.totals;
    assert_eq!((t.iterations, t.dropped_iterations), (11, 0), "{t:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_arrival_beyond_the_pre_allocated_vus_is_dropped_and_a_vu_made_for_later_as_k6_does() {
    let target = target().await;
    // 10/s for 0.35 s: arrivals at 0.0, 0.1, 0.2, 0.3; each iteration takes 1 s. One VU made
    // before the start takes arrival 0; arrival 1 finds it busy: dropped, VU 2 made; arrival 2
    // takes VU 2; arrival 3 finds both busy: dropped, VU 3 made (maxVUs 3).
    let plan = ten_per_second(0.35, (1, 3), "/timeout?ms=1000");
    let t = run_on_one_thread(&plan, &target.url()).await.summary.totals;
    assert_eq!(
        (t.iterations, t.dropped_iterations, t.vus_allocated),
        (2, 2, 3),
        "{t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iterations_not_started_by_max_duration_are_dropped_as_k6_counts_them() {
    let target = target().await;
    // One VU, 10 iterations of 400 ms, maxDuration 1 s: it starts iterations at 0, 0.4 and 0.8 s
    // (the third finishes in the graceful stop); the 7 never started are dropped.
    let per_vu = scenario(
        Executor::PerVuIterations {
            vus: 1,
            iterations: 10,
            max_duration: secs(1.0),
        },
        vec![get("slow", "/timeout?ms=400", vec![])],
    );
    // A shared count of 20 for 2 such VUs: 2 × 3 started, 14 dropped.
    let mut shared = scenario(
        Executor::SharedIterations {
            vus: 2,
            iterations: 20,
            max_duration: secs(1.0),
        },
        vec![get("slow", "/timeout?ms=400", vec![])],
    );
    shared.name = "shared".into();
    for (scenario, started, dropped) in [(per_vu, 3, 7), (shared, 6, 14)] {
        let plan = plan(vec![scenario], secs(5.0));
        let t = run_on_one_thread(&plan, &target.url()).await.summary.totals;
        assert_eq!(
            (t.iterations, t.dropped_iterations),
            (started, dropped),
            "{t:?}"
        );
    }
}

#[test]
fn planned_vus_are_held_to_each_scenarios_end_plus_graceful_stop_as_k6_plans_them() {
    // A: 2 VUs for 1 s; B: 3 VUs from 2 s. With A's gracefulStop of 30 s, A's VUs are still held
    // when B starts: 2 + 3 = 5. With none, A's end at 1 s comes before B's start: 3.
    let a = |graceful: f64| {
        let mut a = scenario(
            Executor::ConstantVus {
                vus: 2,
                duration: secs(1.0),
            },
            vec![get("a", "/ping", vec![])],
        );
        a.graceful_stop = secs(graceful);
        a
    };
    let mut b = scenario(
        Executor::PerVuIterations {
            vus: 3,
            iterations: 1,
            max_duration: secs(10.0),
        },
        vec![get("b", "/ping", vec![])],
    );
    b.name = "b".into();
    b.start_time = secs(2.0);
    for (graceful, planned) in [(30.0, 5), (0.0, 3)] {
        let plan = plan(vec![a(graceful), b.clone()], secs(5.0));
        let compiled =
            scalelab_load::engine::CompiledPlan::new(&plan, "http://127.0.0.1:1").unwrap();
        assert_eq!(compiled.planned_vus(scalelab_shape::Shard::WHOLE), planned);
        // Shard 0 of 2 plans its share of each: 1 + 2.
        if graceful > 0.0 {
            let half = scalelab_shape::Shard::new(0, 2).unwrap();
            assert_eq!(compiled.planned_vus(half), 3);
        }
    }
}
