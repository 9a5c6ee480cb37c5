//! Native plans written from a test type (`scalelab plan new`): an editable starting point whose
//! arrival rate has the type's shape.

use std::fmt::Write as _;
use std::time::Duration;

use scalelab_config::format_duration;
use scalelab_shape::{ShapeError, TestType};

/// The YAML of a native plan of `test` at an expected `rate` (requests per second) over
/// `duration`, sending `GET path` to `target` (the embedded service when `None`).
pub fn test_plan_yaml(
    test: TestType,
    rate: f64,
    duration: Duration,
    target: Option<&str>,
    path: &str,
) -> Result<String, ShapeError> {
    let (start, stages) = test.stages(rate, duration)?;
    let peak = stages.iter().map(|s| s.target).fold(start, f64::max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# A {test} test: {}\n# Made by `scalelab plan new --type {test} --rate {rate} --duration {}`; \
         edit freely (docs/plans.md).",
        test.purpose(),
        format_duration(duration)
    );
    match target {
        Some(target) => {
            let _ = writeln!(out, "target: {target}");
        }
        None => out
            .push_str("# target: http://127.0.0.1:9000   # absent: the embedded stress service\n"),
    }
    out.push_str("thresholds:\n");
    if test == TestType::Breakpoint {
        out.push_str(
            "  # Stop at the break: more than 5 % failures or a p95 above 2 s, after 10 s.\n  \
             http_req_failed: [{threshold: \"rate<0.05\", abortOnFail: true, delayAbortEval: 10s}]\n  \
             http_req_duration: [{threshold: \"p(95)<2000\", abortOnFail: true, delayAbortEval: 10s}]\n",
        );
    } else {
        out.push_str("  http_req_failed: [\"rate<0.01\"]\n  http_req_duration: [\"p(95)<500\"]\n");
    }
    let _ = write!(
        out,
        "scenarios:\n  {test}:\n    executor: ramping-arrival-rate   # open model: requests per second\n    \
         startRate: {start}\n    timeUnit: 1s\n    \
         preAllocatedVUs: {}   # enough for the peak at 100 ms a request\n    \
         maxVUs: {}            # enough for the peak at 1 s a request\n    stages:\n",
        (peak * 0.1).ceil().max(10.0),
        peak.ceil().max(50.0)
    );
    for stage in &stages {
        let _ = writeln!(
            out,
            "      - {{duration: {}, target: {}}}",
            format_duration(stage.duration),
            stage.target
        );
    }
    let _ = writeln!(out, "    requests:\n      - {{path: {path}}}");
    Ok(out)
}
