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
