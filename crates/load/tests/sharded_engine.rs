//! The engine runs a shard's part of each scenario by the split rule (`scalelab_shape::Shard`):
//! iteration-count executors, whose totals are exact, add up over the shards to the plan's.

mod common;

use std::time::Duration;

use common::{get, plan, run_with, scenario};
use scalelab_load::engine::RunOptions;
use scalelab_load::plan::Executor;
use scalelab_shape::Shard;
use scalelab_stress::TargetConfig;

/// Iterations each of `shards` shards completes of a plan with one scenario run by `executor`.
async fn iterations_per_shard(executor: Executor, shards: u64, base: &str) -> Vec<u64> {
    let plan = plan(
        vec![scenario(executor, vec![get("ping", "/ping", vec![])])],
        Duration::from_secs(5),
    );
    let mut counts = Vec::new();
    for index in 0..shards {
        let options = RunOptions {
            threads: 2,
            shard: Shard::new(index, shards).unwrap(),
            ..RunOptions::default()
        };
        let (outcome, _) = run_with(&plan, base, options).await;
        assert_eq!(
            outcome.summary.totals.requests,
            outcome.summary.totals.iterations
        );
        counts.push(outcome.summary.totals.iterations);
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iteration_counts_split_over_shards_without_loss() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    let max_duration = Duration::from_secs(10);
    // 10 shared iterations over 3 VUs: VU 0 takes 4, VUs 1 and 2 take 3; shard 0 of 2 has VUs 0
    // and 2 (7 iterations), shard 1 has VU 1 (3).
    let shared = Executor::SharedIterations {
        vus: 3,
        iterations: 10,
        max_duration,
    };
    assert_eq!(iterations_per_shard(shared, 2, &target.url()).await, [7, 3]);
    // One VU over three shards: shard 0 runs it and all 5 iterations, the others nothing.
    let lone = Executor::SharedIterations {
        vus: 1,
        iterations: 5,
        max_duration,
    };
    assert_eq!(
        iterations_per_shard(lone, 3, &target.url()).await,
        [5, 0, 0]
    );
    // 5 VUs × 2 iterations each over 2 shards: 3 VUs and 2 VUs.
    let per_vu = Executor::PerVuIterations {
        vus: 5,
        iterations: 2,
        max_duration,
    };
    assert_eq!(iterations_per_shard(per_vu, 2, &target.url()).await, [6, 4]);
}
