//! Every plan in the real-plan corpus (see `corpus/mod.rs`) loads as its original tool would run it, or is refused
//! with a precise message where that tool refuses it too.

use std::path::PathBuf;
use std::time::Duration;

use scalelab_load::plan::{Check, Executor, LoadOptions, Plan, Step, Think, load_file};
use scalelab_shape::Phase;

mod corpus;

fn path(name: &str) -> PathBuf {
    corpus::dir().join(name)
}

fn load(name: &str) -> Plan {
    load_file(&path(name), &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn refused(name: &str) -> String {
    load_file(&path(name), &LoadOptions::default())
        .unwrap_err()
        .to_string()
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn warned(plan: &Plan, needle: &str) -> bool {
    plan.warnings.iter().any(|w| w.contains(needle))
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn every_wild_plan_is_covered() {
    let mut names: Vec<String> = std::fs::read_dir(path(""))
        .expect("the corpus folder lists")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    assert_eq!(names.len(), 21);
    let refused = ["artillery-04.yaml", "k6-05.json", "k6-06.json"];
    for name in names {
        let result = load_file(&path(&name), &LoadOptions::default());
        assert_eq!(
            result.is_err(),
            refused.contains(&name.as_str()),
            "{name}: {result:?}"
        );
    }
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_stages_shortcut_starts_at_one_vu() {
    let plan = load("k6-01.json");
    let Executor::RampingVus {
        start_vus,
        stages,
        graceful_ramp_down,
    } = &plan.scenarios[0].executor
    else {
        panic!("{plan:?}")
    };
    assert_eq!(
        (*start_vus, stages.len(), *graceful_ramp_down),
        (1, 4, secs(30))
    );
    assert_eq!(stages[0].duration, secs(40));
    assert_eq!(
        plan.thresholds[1].conditions,
        ["p(90) <600", "p(95) < 700", "p(99) < 1500"]
    );
    assert_eq!(
        plan.scenarios[0].iteration.think,
        Some(Think::Fixed(secs(1)))
    );
    let Step::Request(request) = &plan.scenarios[0].iteration.flows[0].steps[0] else {
        panic!()
    };
    assert_eq!(
        (request.method.as_str(), request.url.as_str()),
        ("GET", "/user/")
    );
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_vus_and_duration_are_constant_vus() {
    let plan = load("k6-02.json");
    assert_eq!(
        plan.scenarios[0].executor,
        Executor::ConstantVus {
            vus: 50,
            duration: secs(60)
        }
    );
    assert_eq!(plan.thresholds[0].conditions, ["p(95)<300"]);
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_scenarios_keep_their_executors() {
    let plan = load("k6-03.json");
    let names: Vec<_> = plan.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["constant_load", "ramping_load", "arrival_rate"]);
    assert_eq!(
        plan.scenarios[2].executor,
        Executor::ConstantArrivalRate {
            rate: 10.0,
            time_unit: secs(1),
            duration: secs(20),
            pre_allocated_vus: 5,
            max_vus: 20
        }
    );
    assert!(plan.scenarios.iter().all(|s| s.iteration.flows.len() == 1));
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_ramping_arrival_rate_defaults_max_vus_and_reads_discard_response_bodies() {
    let plan = load("k6-04.json");
    let scenario = &plan.scenarios[0];
    assert_eq!(scenario.start_time, secs(20));
    let Executor::RampingArrivalRate {
        start_rate,
        time_unit,
        stages,
        pre_allocated_vus,
        max_vus,
    } = &scenario.executor
    else {
        panic!()
    };
    assert_eq!(
        (
            *start_rate,
            *time_unit,
            stages.len(),
            *pre_allocated_vus,
            *max_vus
        ),
        (300.0, secs(60), 5, 50, 50)
    );
    // Read, as k6 reads it (a script's responses then have no body), not warned about.
    assert!(plan.defaults.discard_response_bodies);
    assert!(!warned(&plan, "'discardResponseBodies'"));
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_files_without_a_default_function_are_refused_like_k6() {
    for name in ["k6-05.json", "k6-06.json"] {
        let message = refused(name);
        assert!(
            message.contains(&format!("{name}:4:16: '_requests' is empty")),
            "{message}"
        );
        assert!(message.contains("k6 refuses to run it too"), "{message}");
    }
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_arrival_rates_and_described_queries() {
    let plan = load("k6-07.json");
    assert!(matches!(
        plan.scenarios[0].executor,
        Executor::ConstantArrivalRate {
            rate: 100.0,
            max_vus: 200,
            ..
        }
    ));
    assert_eq!(plan.scenarios[0].iteration.think, None);
    let plan = load("k6-08.json");
    assert_eq!(plan.thresholds.len(), 3);
    let Step::Request(request) = &plan.scenarios[0].iteration.flows[0].steps[0] else {
        panic!()
    };
    assert_eq!(request.url, "/reviews/");
    assert!(warned(&plan, "k6-08.json:3:65: the query"));
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_threshold_objects_abort_on_fail() {
    let plan = load("k6-09.json");
    let Executor::RampingArrivalRate {
        start_rate,
        time_unit,
        max_vus,
        ..
    } = &plan.scenarios[0].executor
    else {
        panic!()
    };
    assert_eq!((*start_rate, *time_unit, *max_vus), (0.0, secs(1), 100_000));
    assert_eq!(plan.thresholds[0].metric, "http_req_failed");
    assert!(plan.thresholds[0].abort_on_fail);
    assert!(!plan.thresholds[1].abort_on_fail);
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_without_execution_options_runs_one_iteration_of_every_call() {
    let plan = load("k6-10.json");
    assert_eq!(
        plan.scenarios[0].executor,
        Executor::PerVuIterations {
            vus: 1,
            iterations: 1,
            max_duration: secs(600)
        }
    );
    let flow = &plan.scenarios[0].iteration.flows[0];
    assert_eq!(flow.steps.len(), 4);
    let Step::Request(request) = &flow.steps[2] else {
        panic!()
    };
    assert_eq!(
        request.tags,
        [("type".to_string(), "staticContent".to_string())]
    );
    assert_eq!(plan.thresholds[0].metric, "http_req_duration{type:API}");
    assert!(warned(&plan, "k6-10.json:6:89: 'batch'"));
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn k6_top_level_executor_is_ignored_with_a_warning() {
    let plan = load("k6-11.json");
    assert!(
        matches!(&plan.scenarios[0].executor, Executor::RampingVus { start_vus: 1, stages, .. } if stages[0].duration == secs(7200))
    );
    assert!(warned(
        &plan,
        "k6-11.json:6:3: 'executor' in k6 options is ignored"
    ));
}

fn phases(plan: &Plan) -> &[Phase] {
    let Executor::Phases { phases, .. } = &plan.scenarios[0].executor else {
        panic!("{plan:?}")
    };
    phases
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn artillery_rates_ramps_counts_and_pauses() {
    assert_eq!(
        phases(&load("artillery-01.yaml"))[1],
        Phase::Rate {
            duration: secs(15),
            rate: 1000.0,
            ramp_to: None
        }
    );
    assert_eq!(
        phases(&load("artillery-02.yaml"))[0],
        Phase::Rate {
            duration: secs(30),
            rate: 1.0,
            ramp_to: Some(10.0)
        }
    );
    assert_eq!(
        phases(&load("artillery-05.yaml")),
        [Phase::Count {
            duration: secs(1),
            count: 100
        }]
    );
    assert_eq!(
        phases(&load("artillery-06.yaml"))[1],
        Phase::Pause { duration: secs(5) }
    );
    assert_eq!(
        phases(&load("artillery-08.yaml"))[0],
        Phase::Rate {
            duration: secs(600),
            rate: 25.0,
            ramp_to: None
        }
    );
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn artillery_functions_and_templates_are_warned_about() {
    let plan = load("artillery-02.yaml");
    let flows = &plan.scenarios[0].iteration.flows;
    assert_eq!(
        flows.iter().map(|f| f.weight).collect::<Vec<_>>(),
        [3, 2, 2, 1]
    );
    assert_eq!(flows[0].steps.len(), 1, "the function step is skipped");
    let Step::Request(request) = &flows[0].steps[0] else {
        panic!()
    };
    assert_eq!(request.url, "/api/orders/{{ orderId }}");
    assert_eq!(request.checks, [Check::Status(vec![200])]);
    assert_eq!(
        plan.defaults.headers,
        [("Content-Type".to_string(), "application/json".to_string())]
    );
    assert!(warned(
        &plan,
        "artillery-02.yaml:28:19: 'function: generateRandomId'"
    ));
    assert!(warned(
        &plan,
        "artillery-02.yaml:30:16: 'get' in step 2 of scenario 'Get Order' uses the template variable(s) '{{ orderId }}'"
    ));
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn artillery_misplaced_environments_are_ignored_as_artillery_does() {
    let plan = load("artillery-03.yaml");
    assert_eq!(plan.defaults.timeout, secs(3));
    assert_eq!(
        phases(&plan)[1],
        Phase::Rate {
            duration: secs(40),
            rate: 5.0,
            ramp_to: None
        }
    );
    assert!(warned(
        &plan,
        "artillery-03.yaml:40:1: 'environments' at the top level is ignored"
    ));
    let local = LoadOptions {
        environment: Some("local".into()),
        ..LoadOptions::default()
    };
    let message = load_file(&path("artillery-03.yaml"), &local)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("environment 'local' not found") && message.contains("line 40"),
        "{message}"
    );
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn artillery_environments_are_chosen_with_e() {
    let message = refused("artillery-04.yaml");
    assert_eq!(
        message,
        "artillery-04.yaml:4:3: the phases are given only per environment; choose one with -e \
         (environments: smoke, load, pure, stepped, stress)"
            .replace(
                "artillery-04.yaml",
                &path("artillery-04.yaml").display().to_string()
            )
    );
    let stepped = LoadOptions {
        environment: Some("stepped".into()),
        ..LoadOptions::default()
    };
    let plan = load_file(&path("artillery-04.yaml"), &stepped).unwrap();
    assert_eq!(phases(&plan).len(), 10);
    assert_eq!(plan.scenarios[0].iteration.flows.len(), 6);
    let typo = LoadOptions {
        environment: Some("stres".into()),
        ..LoadOptions::default()
    };
    let message = load_file(&path("artillery-04.yaml"), &typo)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("unknown environment 'stres' (did you mean 'stress'?)"),
        "{message}"
    );
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn artillery_think_steps_and_weights() {
    let plan = load("artillery-07.yaml");
    let steps = &plan.scenarios[0].iteration.flows[0].steps;
    assert_eq!(steps.len(), 23);
    assert_eq!(steps[1], Step::Think(Think::Fixed(secs(5))));
    let plan = load("artillery-09.yaml");
    let flows = &plan.scenarios[0].iteration.flows;
    assert_eq!(
        flows.iter().map(|f| f.weight).collect::<Vec<_>>(),
        [100, 0, 100]
    );
    assert!(plan.thresholds.is_empty());
    assert!(warned(&plan, "artillery-09.yaml:10:5: 'ensure' is ignored"));
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn artillery_target_template_and_ensure_thresholds() {
    let plan = load("artillery-10.yaml");
    let Step::Request(request) = &plan.scenarios[0].iteration.flows[0].steps[0] else {
        panic!()
    };
    assert_eq!(request.url, "http://127.0.0.1:8080/get");
    assert_eq!(plan.thresholds[0].metric, "http_req_duration");
    assert_eq!(plan.thresholds[0].conditions, ["p(95)<1000"]);
    assert!(warned(&plan, "'conditions' in config.ensure is ignored"));
}
