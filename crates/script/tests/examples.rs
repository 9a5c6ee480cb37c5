//! The FinOps demo k6 scripts in examples/k6: their options load to the same executors and
//! thresholds as the k6 options files beside them, and the script itself runs.

mod common;

use std::path::Path;
use std::time::Duration;

use scalelab_load::plan::{Executor, LoadOptions, load_file};
use scalelab_script::Script;

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

#[test]
fn each_stage_set_matches_the_k6_options_file() {
    for kind in ["progressive", "dramatic-sustained", "periodic"] {
        let script = Script::load(&examples().join(format!("k6/{kind}.js")), Vec::new()).unwrap();
        let options = load_file(
            &examples().join(format!("k6-{kind}.yaml")),
            &LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(script.plan.scenarios.len(), 1, "{kind}");
        assert_eq!(
            script.plan.scenarios[0].executor, options.scenarios[0].executor,
            "{kind}"
        );
        assert_eq!(script.plan.thresholds, options.thresholds, "{kind}");
        assert!(
            script.plan.warnings.is_empty(),
            "{:?}",
            script.plan.warnings
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_script_runs_against_the_stress_service() {
    let service = scalelab_stress::start(scalelab_stress::TargetConfig::loopback())
        .await
        .unwrap();
    let mut script = Script::load(
        &examples().join("k6/progressive.js"),
        vec![("BASE_URL".into(), service.url())],
    )
    .unwrap();
    // Its stages last 4 minutes: one iteration of one VU is enough to see the code run.
    script.plan.scenarios[0].executor = Executor::PerVuIterations {
        vus: 1,
        iterations: 1,
        max_duration: Duration::from_secs(60),
    };
    let outcome = common::run(&script, &service.url()).await;
    assert_eq!(script.exceptions().first, None);
    assert_eq!(common::check(&outcome, "status is 200"), (1, 0));
    assert_eq!(outcome.summary.endpoints[0].name, "cpu");
    service.shutdown().await.unwrap();
}
