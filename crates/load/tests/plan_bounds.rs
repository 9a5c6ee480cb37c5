//! Every quantity a plan configures — VUs, rates, iterations, durations, counts, weights, timeouts —
//! is checked against what one process can do when the plan loads: an absurd value is refused with
//! its field named, before the run allocates anything for it; what loads is within the limits of
//! `plan::limits`, which bound the memory a run takes.

use proptest::prelude::*;
use scalelab_load::engine::CompiledPlan;
use scalelab_load::plan::limits::{MAX_DURATION, MAX_RATE, MAX_SCENARIOS, MAX_VUS};
use scalelab_load::plan::{Executor, LoadOptions, Plan, load_str};

/// Loads and compiles `text`; a loaded plan must be within the limits.
fn load(text: &str, origin: &str) -> Result<Plan, String> {
    let plan = load_str(text, origin, &LoadOptions::default()).map_err(|e| e.to_string())?;
    assert_bounded(&plan);
    let _ = CompiledPlan::new(&plan, "http://127.0.0.1:1");
    Ok(plan)
}

/// What a loaded plan may ask of the process.
fn assert_bounded(plan: &Plan) {
    assert!(plan.scenarios.len() <= MAX_SCENARIOS);
    for scenario in &plan.scenarios {
        let executor = &scenario.executor;
        assert!(executor.max_vus().unwrap_or(0) <= MAX_VUS, "{executor:?}");
        let shape = executor.shape().expect("a loaded plan's shape is valid");
        if let Some(shape) = shape.filter(|_| executor.is_open_model()) {
            let peak = shape.points().iter().map(|p| p.1).fold(0.0, f64::max);
            assert!(peak <= MAX_RATE * 1.000_001, "{executor:?}");
            assert!(shape.duration() <= MAX_DURATION, "{executor:?}");
        }
        assert!(scenario.start_time <= MAX_DURATION, "{scenario:?}");
        if let Executor::PerVuIterations { max_duration, .. }
        | Executor::SharedIterations { max_duration, .. } = executor
        {
            assert!(*max_duration <= MAX_DURATION, "{executor:?}");
        }
    }
    let _ = plan.offered_load();
}

/// Plans with one quantity replaced by `@`, and the name the error must give when it is absurd.
const FIELDS: &[(&str, &str, &str)] = &[
    (
        "p.yaml",
        "vus: @\nduration: 10s\nrequests: [{path: /}]\n",
        "'vus'",
    ),
    (
        "p.yaml",
        "vus: 2\nduration: @\nrequests: [{path: /}]\n",
        "'duration'",
    ),
    (
        "p.yaml",
        "vus: 2\niterations: @\nrequests: [{path: /}]\n",
        "'iterations'",
    ),
    (
        "p.yaml",
        "stages: [{duration: @, target: 2}]\nrequests: [{path: /}]\n",
        "'duration'",
    ),
    (
        "p.yaml",
        "stages: [{duration: 1s, target: @}]\nrequests: [{path: /}]\n",
        "'target'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: @\n    duration: 1s\n    preAllocatedVUs: 1\n    requests: [{path: /}]\n",
        "'rate'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 1\n    timeUnit: @\n    duration: 1s\n    preAllocatedVUs: 1\n    requests: [{path: /}]\n",
        "'timeUnit'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 1\n    duration: 1s\n    preAllocatedVUs: @\n    requests: [{path: /}]\n",
        "'preAllocatedVUs'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 1\n    duration: 1s\n    preAllocatedVUs: 1\n    maxVUs: @\n    requests: [{path: /}]\n",
        "'maxVUs'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: ramping-arrival-rate\n    startRate: @\n    preAllocatedVUs: 1\n    stages: [{duration: 1s, target: 1}]\n    requests: [{path: /}]\n",
        "'startRate'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: ramping-vus\n    startVUs: @\n    stages: [{duration: 1s, target: 1}]\n    requests: [{path: /}]\n",
        "'startVUs'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: per-vu-iterations\n    vus: 1\n    iterations: @\n    requests: [{path: /}]\n",
        "'iterations'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: shared-iterations\n    vus: 1\n    iterations: @\n    requests: [{path: /}]\n",
        "'iterations'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: shared-iterations\n    maxDuration: @\n    requests: [{path: /}]\n",
        "'maxDuration'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: constant-vus\n    duration: 1s\n    startTime: @\n    requests: [{path: /}]\n",
        "'startTime'",
    ),
    (
        "p.yaml",
        "scenarios:\n  s:\n    executor: constant-vus\n    duration: 1s\n    gracefulStop: @\n    requests: [{path: /}]\n",
        "'gracefulStop'",
    ),
    (
        "p.yaml",
        "vus: 1\nduration: 1s\nrequests: [{path: /, weight: @}, {path: /b}]\n",
        "'weight'",
    ),
    (
        "p.yaml",
        "vus: 1\nduration: 1s\ndefaults: {timeout: @}\nrequests: [{path: /}]\n",
        "'timeout'",
    ),
    (
        "p.yaml",
        "vus: 1\nduration: 1s\nrequests: [{path: /}]\nthink: {min: 0s, max: @}\n",
        "'max'",
    ),
    (
        "p.json",
        r#"{"vus": @, "duration": "10s", "_requests": [{"method": "GET", "url": "http://127.0.0.1:1/"}]}"#,
        "'vus'",
    ),
    (
        "p.json",
        r#"{"scenarios": {"s": {"executor": "constant-arrival-rate", "rate": @, "duration": "1s", "preAllocatedVUs": 1}}, "_requests": [{"method": "GET", "url": "http://127.0.0.1:1/"}]}"#,
        "'rate'",
    ),
    (
        "p.json",
        r#"{"scenarios": {"s": {"executor": "shared-iterations", "iterations": @}}, "_requests": [{"method": "GET", "url": "http://127.0.0.1:1/"}]}"#,
        "'iterations'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: @, arrivalRate: 1}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "'duration'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalRate: @}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "'arrivalRate'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalRate: 1, rampTo: @}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "'rampTo'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalCount: @}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "'arrivalCount'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{pause: @}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "'pause'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalRate: 1, maxVusers: @}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "'maxVusers'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{flow: [{loop: [{get: {url: /}}], count: @}]}]\n",
        "'count'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{flow: [{get: {url: /}}, {think: @}]}]\n",
        "'think'",
    ),
    (
        "a.yaml",
        "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{weight: @, flow: [{get: {url: /}}]}, {flow: [{get: {url: /b}}]}]\n",
        "'weight'",
    ),
];

/// Values no process can run, each in a form plans write.
const ABSURD: &[&str] = &[
    "1e15",
    "1e20",
    "1000000000000000",
    "18446744073709551616",
    "-1",
    "-1e300",
    ".nan",
    ".inf",
];

/// Durations no process can run.
const ABSURD_DURATIONS: &[&str] = &["1e20s", "99999999999h", "\"1e20s\"", "1e20", "-5s", ".inf"];

#[test]
fn absurd_quantities_are_refused_naming_their_field() {
    let mut failures = Vec::new();
    for (origin, template, field) in FIELDS {
        let durations = [
            "duration",
            "timeUnit",
            "maxDuration",
            "startTime",
            "gracefulStop",
            "timeout",
            "max",
            "pause",
            "think",
        ]
        .iter()
        .any(|d| field.trim_matches('\'') == *d);
        let values = if durations { ABSURD_DURATIONS } else { ABSURD };
        for value in values {
            let value = if origin.ends_with(".json") {
                // JSON has no NaN (a syntax error, at its position); 1e999 is its infinity.
                value.replace(".nan", "-1e999").replace(".inf", "1e999")
            } else {
                (*value).to_owned()
            };
            let text = template.replace('@', &value);
            match load(&text, origin) {
                Ok(plan) => failures.push(format!(
                    "{field} = {value}: accepted as {:?}",
                    plan.scenarios[0].executor
                )),
                Err(error) if !error.contains(field) => failures.push(format!(
                    "{field} = {value}: the error does not name it: {error}"
                )),
                Err(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A number as a plan may write it: any integer or float, in plain or exponent form, or a
/// duration of any such number with a unit.
fn any_quantity() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n}")),
        any::<f64>().prop_map(|n| format!("{n:e}")),
        (0u32..400, any::<bool>())
            .prop_map(|(e, neg)| format!("{}1e{e}", if neg { "-" } else { "" })),
        (0u64..2_000_000).prop_map(|n| n.to_string()),
    ];
    prop_oneof![
        number.clone(),
        (
            number,
            prop::sample::select(vec!["ms", "s", "m", "h", "d", "us"])
        )
            .prop_map(|(n, unit)| format!("{n}{unit}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Any value in any quantity of any dialect: a plan within the limits, or an error naming the
    /// field — never a panic, never an unnamed refusal.
    #[test]
    fn any_quantity_loads_bounded_or_is_refused_by_name(which in 0..FIELDS.len(), value in any_quantity()) {
        let (origin, template, field) = FIELDS[which];
        let text = template.replace('@', &value);
        if let Err(error) = load(&text, origin) {
            prop_assert!(
                error.contains(field) || error.contains("invalid JSON"),
                "{field} = {value}: {error}"
            );
        }
    }
}

#[test]
fn a_json_body_without_a_json_number_is_refused_by_name() {
    for (origin, template) in [
        (
            "p.yaml",
            "vus: 1\nduration: 1s\nrequests: [{path: /, json: {a: [1, @]}}]\n",
        ),
        (
            "a.yaml",
            "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{flow: [{post: {url: /, json: {a: @}}}]}]\n",
        ),
    ] {
        for value in [".nan", ".inf", "-.inf", "1e999"] {
            let error = load(&template.replace('@', value), origin).unwrap_err();
            assert!(
                error.contains("'json' in") && error.contains("must be JSON: a finite number"),
                "{value}: {error}"
            );
        }
        assert!(load(&template.replace('@', "1e300"), origin).is_ok());
    }
}
