//! `scalelab compare` on two real runs against a stress service on loopback, the second made slower
//! on purpose (/timeout?ms=5, then ?ms=30): the slower run is a p95 regression, the faster is not;
//! bad input is named. Also `scalelab report DIR` rebuilding the report from the files.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use scalelab_stress::TargetConfig;

fn scalelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// One second of four VUs requesting `path` (named `api`) of `target`; results in `out`.
fn run(target: &str, path: &str, out: &Path) {
    let plan = out.with_extension("yaml");
    std::fs::write(
        &plan,
        format!(
            "scenarios:\n  api:\n    executor: constant-vus\n    vus: 4\n    duration: 1s\n    requests:\n      - {{name: api, path: \"{path}\"}}\n"
        ),
    )
    .unwrap();
    let output = scalelab(&[
        "run",
        plan.to_str().unwrap(),
        "--target",
        target,
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slower_target_is_a_regression_and_a_faster_one_is_not() {
    let target = scalelab_stress::start(TargetConfig::loopback())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (fast, slow) = (dir.path().join("fast"), dir.path().join("slow"));
    let base = target.url();
    tokio::task::spawn_blocking({
        let (fast, slow) = (fast.clone(), slow.clone());
        move || {
            run(&base, "/timeout?ms=5", &fast);
            run(&base, "/timeout?ms=30", &slow);
        }
    })
    .await
    .unwrap();
    let (fast, slow) = (fast.to_str().unwrap(), slow.to_str().unwrap());

    let worse = scalelab(&[
        "compare",
        fast,
        slow,
        "--fail-if",
        "p95>+10%",
        "--fail-if",
        "rps<-10%",
        "--fail-if",
        "error_rate>+0.5",
    ]);
    let report = text(&worse);
    println!("{report}");
    assert_eq!(worse.status.code(), Some(99), "{report}");
    assert!(report.contains("✗ p95>+10%"), "{report}");
    assert!(report.contains("✗ rps<-10%"), "{report}");
    assert!(report.contains("✓ error_rate>+0.5"), "{report}");
    assert!(report.contains("verdict: regression"), "{report}");
    let api = report
        .lines()
        .find(|line| line.trim_start().starts_with("api "))
        .unwrap_or_else(|| panic!("a row for the endpoint: {report}"));
    assert!(
        api.contains("requests/s") && api.ends_with('%') && !api.contains(" - "),
        "both runs have the endpoint: {api}"
    );

    let better = scalelab(&["compare", slow, fast, "--fail-if", "p95>+10%"]);
    assert_eq!(better.status.code(), Some(0), "{}", text(&better));
    assert!(text(&better).contains("verdict: no regression"));
    assert!(!text(&better).contains("unlike"), "{}", text(&better));

    // A run made differently is named as unlike (here the same run, said to be open-model).
    let edited = dir.path().join("edited");
    std::fs::create_dir(&edited).unwrap();
    for file in ["summary.json", "timeseries.csv", "latency.hlog"] {
        std::fs::copy(Path::new(fast).join(file), edited.join(file)).unwrap();
    }
    let mut summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(edited.join("summary.json")).unwrap()).unwrap();
    summary["open_model"] = true.into();
    std::fs::write(edited.join("summary.json"), summary.to_string()).unwrap();
    let unlike = scalelab(&["compare", fast, edited.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&unlike.stderr)
            .contains("warning: the runs are unlike: A ran the closed model and B the open model"),
        "{}",
        text(&unlike)
    );

    let missing = scalelab(&["compare", fast, "/nonexistent/run"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing).contains("/nonexistent/run: no such results directory"),
        "{}",
        text(&missing)
    );
    let bad = scalelab(&["compare", fast, slow, "--fail-if", "p95>>10%"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad).contains("limit 'p95>>10%'"), "{}", text(&bad));

    // The report is rebuilt from the files alone.
    let report_path = Path::new(slow).join("report.html");
    let written = std::fs::read_to_string(&report_path).unwrap();
    std::fs::remove_file(&report_path).unwrap();
    let rebuilt = scalelab(&["report", slow]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    assert_eq!(std::fs::read_to_string(&report_path).unwrap(), written);
    let no_summary = scalelab(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(no_summary.status.code(), Some(1));
    assert!(
        text(&no_summary).contains("summary.json: No such file"),
        "{}",
        text(&no_summary)
    );

    // A second without requests (its latency cells empty) is read by report and compare.
    let series = Path::new(slow).join("timeseries.csv");
    let mut quiet = std::fs::read_to_string(&series).unwrap();
    quiet.push_str("2,,,,,0,0,,,,,,0,0,0,0\n");
    std::fs::write(&series, quiet).unwrap();
    let rebuilt = scalelab(&["report", slow]);
    assert!(rebuilt.status.success(), "{}", text(&rebuilt));
    assert!(scalelab(&["compare", fast, slow]).status.success());

    // A damaged time series (a second of 10^12) is named, not charted into terabytes.
    let mut damaged = std::fs::read_to_string(&series).unwrap();
    let lines = damaged.lines().count();
    let last = damaged.lines().last().unwrap().to_owned();
    let (_, rest) = last.split_once(',').unwrap();
    damaged.push_str(&format!("1000000000000,{rest}\n"));
    std::fs::write(&series, damaged).unwrap();
    let refused = scalelab(&["report", slow]);
    assert_eq!(refused.status.code(), Some(1));
    let expected = format!("timeseries.csv: line {}, column 'second'", lines + 1);
    assert!(text(&refused).contains(&expected), "{}", text(&refused));
}
