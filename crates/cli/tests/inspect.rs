//! `scalelab inspect`: a plan's or script's scenarios, most VUs and longest duration, as k6's
//! `inspect --execution-requirements` computes them (held against k6 itself in k6_parity.rs).

use std::process::Command;

fn inspect(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .arg("inspect")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_most_vus_and_the_longest_duration_are_k6s() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("two.js");
    // `first` holds 2 VUs until 1 s + gracefulStop 30 s; `second` starts at 1.5 s with 2 VUs and
    // lasts at most maxDuration 10 m + 30 s: both are held at 1.5 s, so 4 VUs; the run may last
    // 1.5 s + 10 m + 30 s = 10m31.5s.
    std::fs::write(
        &script,
        "export const options = { scenarios: {\n\
           first: { executor: 'per-vu-iterations', vus: 2, iterations: 2, maxDuration: '1s' },\n\
           second: { executor: 'per-vu-iterations', vus: 2, startTime: '1500ms' } } };\n\
         export default function () {}\n",
    )
    .unwrap();
    let path = script.to_str().unwrap();
    let text = inspect(&[path]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success(), "{stdout}");
    assert!(
        stdout.contains("max VUs: 4 (4 made before the start"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&inspect(&[path, "--json"]).stdout).unwrap();
    assert_eq!(json["maxVUs"], 4);
    assert_eq!(json["totalDuration"], "10m31.5s");
    assert_eq!(json["scenarios"][1]["startTime"], "1.5s");
    // An arrival-rate executor may grow to maxVUs beyond the VUs made before the start.
    let plan = dir.path().join("open.yaml");
    std::fs::write(
        &plan,
        "scenarios:\n  open:\n    executor: constant-arrival-rate\n    rate: 10\n    duration: 1m\n    preAllocatedVUs: 2\n    maxVUs: 7\n    requests: [{path: /ping}]\n",
    )
    .unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&inspect(&[plan.to_str().unwrap(), "--json"]).stdout).unwrap();
    assert_eq!(
        (json["maxVUs"].as_u64(), json["plannedVUs"].as_u64()),
        (Some(7), Some(2))
    );
    assert_eq!(json["totalDuration"], "1m30s");
    // A plan k6 would refuse: k6's exit code for an invalid configuration, and why.
    std::fs::write(
        &plan,
        "scenarios: {a: {executor: constant-vus, vus: 1, duration: 10ms, requests: [{path: /}]}}\n",
    )
    .unwrap();
    let refused = inspect(&[plan.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(104));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("must be at least 1s, as in k6"));
}
