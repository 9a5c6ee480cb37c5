//! The plans shipped in `examples/` load and have the shapes their names promise.

use std::path::Path;
use std::time::Duration;

use scalelab_load::plan::{Executor, LoadOptions, Plan, Step, Think, load_file};
use scalelab_shape::Phase;

fn load(name: &str) -> Plan {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples")).join(name);
    let plan = load_file(&path, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    plan
}

/// `(seconds, target)` of each stage of the single ramping-vus scenario, and its start.
fn stages(plan: &Plan) -> (u64, Vec<(u64, f64)>) {
    let Executor::RampingVus {
        start_vus, stages, ..
    } = &plan.scenarios[0].executor
    else {
        panic!("{plan:?}")
    };
    (
        *start_vus,
        stages
            .iter()
            .map(|s| (s.duration.as_secs(), s.target))
            .collect(),
    )
}

#[test]
fn k6_stage_examples() {
    for (name, expected) in [
        (
            "k6-progressive.yaml",
            vec![(90, 3.0), (60, 10.0), (90, 3.0)],
        ),
        (
            "k6-dramatic-sustained.yaml",
            vec![(30, 5.0), (60, 20.0), (30, 5.0), (60, 20.0), (30, 5.0)],
        ),
        (
            "k6-periodic.yaml",
            vec![(60, 10.0), (30, 18.0), (60, 10.0), (30, 18.0), (60, 10.0)],
        ),
    ] {
        let plan = load(name);
        assert_eq!(stages(&plan), (1, expected), "{name}");
        let iteration = &plan.scenarios[0].iteration;
        assert_eq!(
            iteration.think,
            Some(Think::Uniform {
                min: Duration::ZERO,
                max: Duration::from_secs(5)
            })
        );
        let Step::Request(request) = &iteration.flows[0].steps[0] else {
            panic!()
        };
        assert_eq!(request.url, "/stress/cpu?percent=1&seconds=1");
        assert_eq!(plan.target, None);
    }
}

#[test]
fn artillery_ramp_example() {
    let plan = load("artillery-ramp.yaml");
    let Executor::Phases { phases, .. } = &plan.scenarios[0].executor else {
        panic!()
    };
    assert_eq!(
        phases,
        &[Phase::Rate {
            duration: Duration::from_secs(600),
            rate: 5.0,
            ramp_to: Some(150.0)
        }]
    );
    assert_eq!(plan.thresholds[0].conditions, ["p(95)<=1000"]);
    assert_eq!(plan.thresholds[1].conditions, ["rate<=0.01"]);
    assert_eq!(
        plan.target, None,
        "examples aim at the embedded service or --target"
    );
}

#[test]
fn basic_five_phase_example() {
    let plan = load("basic-five-phases.yaml");
    assert_eq!(
        stages(&plan),
        (
            0,
            vec![(60, 5.0), (120, 5.0), (60, 20.0), (180, 20.0), (60, 0.0)]
        )
    );
    assert!(plan.thresholds[1].abort_on_fail);
    assert_eq!(plan.target, None);
    assert_eq!(plan.scenarios[0].iteration.flows[0].name, "ping");
}
