//! The plan loaders (native, k6 options, Artillery; YAML and JSON) under arbitrary and mutated
//! input: they never panic, and whatever they accept stays within what one process can run (so
//! memory stays proportional to what is configured, which is bounded). The number of cases is
//! bounded (`PROPTEST_CASES` raises it for a longer run).

use proptest::prelude::*;
use scalelab_load::engine::CompiledPlan;
use scalelab_load::plan::limits::{MAX_RATE, MAX_SCENARIOS, MAX_VUS};
use scalelab_load::plan::{Executor, LoadOptions, Plan, load_str};

/// Real plans of each dialect, the seeds mutations start from.
const SEEDS: [(&str, &str); 5] = [
    (
        "k6-progressive.yaml",
        include_str!("../../../examples/k6-progressive.yaml"),
    ),
    (
        "artillery-ramp.yaml",
        include_str!("../../../examples/artillery-ramp.yaml"),
    ),
    (
        "native.yaml",
        "target: http://127.0.0.1:1\nscenarios:\n  a:\n    executor: ramping-arrival-rate\n    startRate: 1\n    timeUnit: 1s\n    preAllocatedVUs: 2\n    maxVUs: 4\n    stages: [{duration: 2s, target: 5}, {duration: 1s, target: 0}]\n    flow: [{path: /a, checks: {status: 200}}, {think: {min: 1ms, max: 2ms}}]\n  b:\n    executor: per-vu-iterations\n    vus: 2\n    iterations: 3\n    startTime: 1s\n    requests: [{path: /b, weight: 2}, {path: /c, method: POST, json: {x: [1, 2]}}]\nthresholds:\n  http_req_duration: [\"p(95)<300\", {threshold: \"med<5\", abortOnFail: true}]\n",
    ),
    (
        "k6.json",
        r#"{"_requests": [{"method": "GET", "url": "http://127.0.0.1:1/x"}], "_sleep_s": 1, "scenarios": {"s": {"executor": "constant-arrival-rate", "rate": 10, "timeUnit": "1s", "duration": "2s", "preAllocatedVUs": 3}}, "thresholds": {"http_req_failed": ["rate<0.01"]}}"#,
    ),
    (
        "loops.yaml",
        "config:\n  target: http://127.0.0.1:1\n  phases: [{duration: 2, arrivalRate: 1, rampTo: 3}, {pause: 1}, {duration: 1, arrivalCount: 4}]\nscenarios:\n  - weight: 2\n    flow: [{loop: [{get: {url: \"/{{ target }}\"}}, {think: 1}], count: 3}]\n  - weight: 0\n    flow: [{post: {url: /p, json: {a: 1}}}]\n",
    ),
];

/// Values that probe the edges of every number and duration.
const EXTREMES: [&str; 14] = [
    "0",
    "-1",
    "1e12",
    "1e300",
    "-1e300",
    ".nan",
    ".inf",
    "NaN",
    "18446744073709551616",
    "99999999999h",
    "0.0000001",
    "\"\"",
    "[]",
    "{}",
];

/// Loads `text` under `origin`; anything accepted must be bounded and must compile or be refused
/// cleanly.
fn load_and_check(text: &str, origin: &str) {
    let Ok(plan) = load_str(text, origin, &LoadOptions::default()) else {
        return;
    };
    assert_bounded(&plan);
    let _ = CompiledPlan::new(&plan, "http://127.0.0.1:1");
    let _ = plan.offered_load();
}

fn assert_bounded(plan: &Plan) {
    assert!(plan.scenarios.len() <= MAX_SCENARIOS);
    for scenario in &plan.scenarios {
        let (vus, rate) = match &scenario.executor {
            Executor::ConstantVus { vus, .. }
            | Executor::PerVuIterations { vus, .. }
            | Executor::SharedIterations { vus, .. } => (*vus, 0.0),
            Executor::RampingVus {
                start_vus, stages, ..
            } => (
                stages
                    .iter()
                    .map(|s| s.target as u64)
                    .fold(*start_vus, u64::max),
                0.0,
            ),
            Executor::ConstantArrivalRate { max_vus, .. }
            | Executor::RampingArrivalRate { max_vus, .. } => (*max_vus, 0.0),
            Executor::FixedRate { connections, .. } => (*connections, 0.0),
            Executor::Phases { max_vus, .. } => (max_vus.unwrap_or(0), 0.0),
        };
        assert!(vus <= MAX_VUS, "{:?}", scenario.executor);
        let shape = scenario
            .executor
            .shape()
            .expect("a loaded plan's shape is valid");
        if let Some(shape) = shape.filter(|_| scenario.executor.is_open_model()) {
            let peak = shape.points().iter().map(|p| p.1).fold(rate, f64::max);
            assert!(peak <= MAX_RATE * 1.000_001, "{:?}", scenario.executor);
        }
    }
}

/// `seed` with the bytes `at..at+len` (clamped to char boundaries) replaced by `with`.
fn splice(seed: &str, at: usize, len: usize, with: &str) -> String {
    let mut start = at.min(seed.len());
    while !seed.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len).min(seed.len());
    while !seed.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{with}{}", &seed[..start], &seed[end..])
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), json in any::<bool>()) {
        let text = String::from_utf8_lossy(&bytes);
        load_and_check(&text, if json { "p.json" } else { "p.yaml" });
    }

    #[test]
    fn mutated_real_plans_never_panic_and_stay_bounded(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<usize>(), 0usize..12, 0..EXTREMES.len() + 4), 1..4),
    ) {
        let (origin, mut text) = (SEEDS[seed].0, SEEDS[seed].1.to_owned());
        for (at, len, what) in edits {
            let at = at % (text.len() + 1);
            let with = match what {
                w if w < EXTREMES.len() => EXTREMES[w],
                w if w == EXTREMES.len() => "",
                w if w == EXTREMES.len() + 1 => "\n  ",
                w if w == EXTREMES.len() + 2 => ": ",
                _ => "{{",
            };
            text = splice(&text, at, len, with);
        }
        load_and_check(&text, origin);
    }

    #[test]
    fn numbers_anywhere_in_real_plans_are_validated(seed in 0..SEEDS.len(), which in any::<usize>(), value in 0..EXTREMES.len()) {
        let (origin, text) = SEEDS[seed];
        // Replace one number of the plan by an extreme value.
        let numbers: Vec<(usize, usize)> = text
            .char_indices()
            .filter(|(i, c)| c.is_ascii_digit() && !text[..*i].ends_with(|p: char| p.is_ascii_alphanumeric() || p == '.'))
            .map(|(i, _)| (i, text[i..].find(|c: char| !c.is_ascii_alphanumeric() && c != '.').unwrap_or(text.len() - i)))
            .collect();
        if !numbers.is_empty() {
            let (at, len) = numbers[which % numbers.len()];
            load_and_check(&splice(text, at, len, EXTREMES[value]), origin);
        }
    }
}

#[test]
fn every_seed_loads() {
    for (origin, text) in SEEDS {
        let plan = load_str(text, origin, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{origin}: {e}"));
        assert_bounded(&plan);
        CompiledPlan::new(&plan, "http://127.0.0.1:1").unwrap_or_else(|e| panic!("{origin}: {e}"));
    }
}
