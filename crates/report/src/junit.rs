//! Thresholds and checks as JUnit XML, the test-report format CI systems read: one test suite, a
//! test case for the run itself, one per threshold condition and per check, a failure carrying
//! the observed value.

use std::fmt::Write;

use scalelab_metrics::Summary;

use crate::evidence::{nothing_answered, stopped_early};
use crate::format::{count, escape};

/// The JUnit XML document for `summary`'s thresholds and checks.
pub fn junit_xml(summary: &Summary) -> String {
    // The run itself is a test case: it fails when it measured nothing or stopped early, so CI
    // never reads an empty suite as a pass.
    let run_failure = [stopped_early(summary), nothing_answered(summary)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>();
    let tests = 1 + summary.thresholds.len() + summary.checks.len();
    let failures = usize::from(!run_failure.is_empty())
        + summary.thresholds.iter().filter(|t| !t.passed).count()
        + summary.checks.iter().filter(|c| c.failed > 0).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"scalelab\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        summary.duration_seconds
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"scalelab\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\">",
        summary.duration_seconds
    );
    let run_failure =
        (!run_failure.is_empty()).then(|| (run_failure[0].clone(), run_failure.join("\n")));
    testcase(&mut out, "run", "the run", "run", run_failure);
    for threshold in &summary.thresholds {
        let name = format!("{} {}", threshold.metric, threshold.condition);
        let failure = (!threshold.passed).then(|| {
            let message = threshold.observed_text();
            let detail = format!(
                "threshold {name} failed: {message}{}",
                if threshold.abort_on_fail {
                    " (abortOnFail)"
                } else {
                    ""
                }
            );
            (message, detail)
        });
        testcase(&mut out, "thresholds", &name, "threshold", failure);
    }
    for check in &summary.checks {
        let failure = (check.failed > 0).then(|| {
            let total = check.passed + check.failed;
            let message = format!("{} of {} failed", count(check.failed), count(total));
            let detail = format!(
                "check '{}': {} passed, {} failed ({:.2} % failed)",
                check.name,
                count(check.passed),
                count(check.failed),
                check.failed as f64 / total as f64 * 100.0
            );
            (message, detail)
        });
        testcase(&mut out, "checks", &check.name, "check", failure);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// One `<testcase>`, with a `<failure>` when `failure` holds (message, detail).
fn testcase(
    out: &mut String,
    classname: &str,
    name: &str,
    kind: &str,
    failure: Option<(String, String)>,
) {
    let _ = write!(
        out,
        "    <testcase classname=\"{classname}\" name=\"{}\"",
        escape(name)
    );
    match failure {
        None => out.push_str("/>\n"),
        Some((message, detail)) => {
            let _ = write!(
                out,
                ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                escape(&message),
                escape(&detail)
            );
        }
    }
}
