//! Errors say file, line, column and field.

use scalelab_load::plan::{Executor, LoadOptions, load_str};

fn error(text: &str, origin: &str) -> String {
    load_str(text, origin, &LoadOptions::default())
        .unwrap_err()
        .to_string()
}

const HEAD: &str = "requests: [{path: /ping}]\nscenarios:\n  ramp:\n    executor: ramping-vus\n";

#[test]
fn unknown_field_names_the_nearest_known_one() {
    let text = format!("{HEAD}    startvu: 2\n    stages: [{{duration: 10s, target: 3}}]\n");
    assert_eq!(
        error(&text, "plans/x.yaml"),
        "plans/x.yaml:5:5: unknown field 'startvu' in scenario 'ramp' (did you mean 'startVUs'?)"
    );
}

#[test]
fn bad_duration_points_at_the_value() {
    let text = format!(
        "{HEAD}    stages:\n      - {{duration: 10s, target: 3}}\n      - {{duration: 1x, target: 3}}\n"
    );
    let message = error(&text, "p.yaml");
    assert!(
        message.starts_with("p.yaml:7:20: bad duration for 'duration' in stage 2 of scenario 'ramp' (ramping-vus): '1x' is not a duration"),
        "{message}"
    );
}

#[test]
fn unknown_executor_suggests_one() {
    let text = "requests: [{path: /}]\nscenarios:\n  s:\n    executor: ramping-vu\n";
    let message = error(text, "p.yaml");
    assert!(message.starts_with("p.yaml:4:15: unknown executor 'ramping-vu' in scenario 's' (did you mean 'ramping-vus'?)"), "{message}");
}

#[test]
fn missing_required_option_names_it() {
    let text = "requests: [{path: /}]\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 5\n    duration: 1m\n";
    assert_eq!(
        error(text, "p.yaml"),
        "p.yaml:4:5: missing required option 'preAllocatedVUs' in scenario 's'"
    );
}

#[test]
fn wrong_type_says_what_was_expected() {
    let text = "requests: [{path: /}]\nvus: ten\nduration: 1m\n";
    assert_eq!(
        error(text, "p.yaml"),
        "p.yaml:2:6: 'vus' must be a whole number >= 0, not the text \"ten\""
    );
}

#[test]
fn json_positions_and_syntax() {
    let text = "{\n  \"_requests\": [{\"method\": \"GET\", \"path\": \"/\"}],\n  \"vus\": \"x\",\n  \"duration\": \"1m\"\n}\n";
    assert_eq!(
        error(text, "k.json"),
        "k.json:3:10: 'vus' must be a whole number >= 0, not the text \"x\""
    );
    let message = error("{\n  \"vus\": 1,\n}\n", "k.json");
    assert!(
        message.starts_with("k.json:3:1: invalid JSON: key must be a string"),
        "{message}"
    );
}

#[test]
fn yaml_syntax_errors_have_positions() {
    let message = error("requests: [{path: /}\nvus: 1\n", "p.yaml");
    assert!(message.starts_with("p.yaml:"), "{message}");
    assert!(message.contains("invalid YAML"), "{message}");
}

#[test]
fn k6_option_names_are_case_insensitive_with_a_warning() {
    let text = "{\n  \"_requests\": [{\"path\": \"/\"}],\n  \"scenarios\": {\"r\": {\"executor\": \"ramping-vus\",\n    \"startvus\": 0, \"stages\": [{\"duration\": \"1.5m\", \"target\": 2}]}}\n}\n";
    let plan = load_str(text, "k.json", &LoadOptions::default()).unwrap();
    assert!(
        matches!(&plan.scenarios[0].executor, Executor::RampingVus { start_vus: 0, stages, .. } if stages[0].duration.as_secs() == 90)
    );
    assert!(
        plan.warnings[0]
            .starts_with("k.json:4:5: 'startvus' in scenario 'r' is read as 'startVUs'"),
        "{:?}",
        plan.warnings
    );
}

#[test]
fn shortcuts_and_scenarios_do_not_mix() {
    let text = "requests: [{path: /}]\nduration: 1m\nscenarios:\n  s: {executor: constant-vus, duration: 1m}\n";
    let message = error(text, "p.yaml");
    assert!(
        message.starts_with(
            "p.yaml:3:1: using the shortcut 'duration' (line 2) and 'scenarios' together"
        ),
        "{message}"
    );
}

#[test]
fn a_scenario_needs_something_to_run() {
    let text = "scenarios:\n  s:\n    executor: constant-vus\n    duration: 1m\n    think: 1s\n";
    let message = error(text, "p.yaml");
    assert_eq!(
        message,
        "p.yaml:3:5: scenario 's' has nothing to run: give it 'requests' or 'flow', or give the plan top-level ones"
    );
}

#[test]
fn quantities_beyond_one_process_are_refused_with_field_and_position() {
    let cases = [
        (
            "vus: 1e12\nduration: 10s\nrequests: [{path: /}]\n",
            "p.yaml:1:6: 'vus' is 1000000000000, above 100000: one scalelab process runs at most 100000 virtual users",
        ),
        (
            "requests: [{path: /}]\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 20000000\n    duration: 1s\n    preAllocatedVUs: 1\n",
            "p.yaml:5:11: 'rate' in scenario 's' (constant-arrival-rate) is 20000000, above 1000000: one scalelab process schedules at most 1000000 arrivals per second",
        ),
        (
            // 600,000 per 100 ms is 6,000,000 per second.
            "requests: [{path: /}]\nscenarios:\n  s:\n    executor: ramping-arrival-rate\n    timeUnit: 100ms\n    preAllocatedVUs: 1\n    stages: [{duration: 1s, target: 600000}]\n",
            "p.yaml:7:37: 'target' in stage 1 of scenario 's' (ramping-arrival-rate) is 600000, above 100000",
        ),
        (
            "requests: [{path: /}]\nscenarios:\n  s:\n    executor: constant-arrival-rate\n    rate: 1\n    duration: 1s\n    preAllocatedVUs: 1\n    maxVUs: 200000\n",
            "p.yaml:8:13: 'maxVUs' in scenario 's' (constant-arrival-rate) is 200000, above 100000",
        ),
        (
            "vus: 1\nduration: 1e300\nrequests: [{path: /}]\n",
            "p.yaml:2:11: 'duration' is longer than a year",
        ),
        (
            "config:\n  phases: [{duration: 1, arrivalRate: 2000000}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
            "p.yaml:2:39: 'arrivalRate' in phase 1 of config.phases is 2000000, above 1000000",
        ),
        (
            "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{flow: [{loop: [{get: {url: /}}], count: 1e9}]}]\n",
            "p.yaml:3:54: 'count' in step 1 of scenario 'scenario 1' is 1000000000, above 1000000",
        ),
    ];
    for (text, expected) in cases {
        let message = error(text, "p.yaml");
        assert!(
            message.starts_with(expected),
            "{message}\nexpected: {expected}"
        );
    }
    let many: String = (0..1001)
        .map(|i| format!("  s{i}: {{executor: constant-vus, vus: 1, duration: 1s}}\n"))
        .collect();
    let message = error(
        &format!("requests: [{{path: /}}]\nscenarios:\n{many}"),
        "p.yaml",
    );
    assert!(
        message.contains("'scenarios' has 1001 scenarios, above 1000"),
        "{message}"
    );
}

#[test]
fn artillery_loops_are_kept_as_loops_not_unrolled() {
    let plan = load_str(
        "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{flow: [{loop: [{get: {url: /a}}, {think: 1}], count: 1000000}]}]\n",
        "p.yaml",
        &LoadOptions::default(),
    )
    .unwrap();
    let steps = &plan.scenarios[0].iteration.flows[0].steps;
    let [
        scalelab_load::plan::Step::Loop {
            count,
            steps: inner,
        },
    ] = &steps[..]
    else {
        panic!("{steps:?}")
    };
    assert_eq!((*count, inner.len()), (1_000_000, 2));
    assert_eq!(scalelab_load::plan::Step::requests(steps), 1_000_000);
}

#[test]
fn a_timeline_that_cannot_be_built_is_refused_at_load() {
    let message = error(
        "config:\n  phases: [{duration: 0, arrivalCount: 5}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
        "p.yaml",
    );
    assert!(
        message.starts_with(
            "p.yaml:2:11: 'phases' in config.phases: arrivalCount needs a duration above 0"
        ),
        "{message}"
    );
}

#[test]
fn a_non_http_url_is_refused_once_at_its_position() {
    let message = error(
        "vus: 1\nduration: 1s\nrequests: [{url: \"ftp://127.0.0.1/x\"}]\n",
        "p.yaml",
    );
    assert_eq!(
        message,
        "p.yaml:3:18: the URL 'ftp://127.0.0.1/x' of request 1 of scalelab plan must start with http:// or https://"
    );
    let message = error(
        "config:\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios: [{flow: [{get: {url: \"ftp://h/x\"}}]}]\n",
        "a.yaml",
    );
    assert!(
        message.contains("must start with http:// or https://")
            && message.matches("ftp://").count() <= 1,
        "{message}"
    );
}
