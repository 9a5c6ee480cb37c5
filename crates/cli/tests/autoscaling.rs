//! `scalelab sim`, `sweep` and `cost` as real processes on the worked examples of docs/.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scalelab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
        .args(args)
        .output()
        .expect("scalelab runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn policy() -> String {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/beanstalk-policy.yaml");
    root.to_string_lossy().into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalelab-e2e-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const WORKED_EXAMPLE: [&str; 10] = [
    "--stages",
    "10m:30000,8m:150000,30m:150000",
    "--start",
    "30000",
    "--per",
    "minute",
    "--cpu-per-load",
    "0.0008967",
    "--instance-type",
    "t3.micro",
];

#[test]
fn sim_shows_the_cpu_breach_and_writes_a_timeline_cost_can_price() {
    let dir = scratch("sim");
    let timeline = dir.join("timeline.csv");
    let report = dir.join("sim-report.html");
    let policy = policy();
    let mut args = vec![
        "sim",
        "--policy",
        &policy,
        "--out",
        timeline.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend(WORKED_EXAMPLE);
    let text = stdout(&scalelab(&args));
    // The report: the summary and four charts (load, instances, CPU with its limit, cost), offline.
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "{html}");
    assert!(html.contains("limit 50 %") && html.contains("87.4 %"));
    assert!(!html.contains("<script") && !html.contains("http"));
    assert!(
        text.contains("CPU breaches 50 %: above it for 7m"),
        "{text}"
    );
    assert!(
        text.contains("max CPU per instance                 87.4"),
        "{text}"
    );
    assert!(text.contains("as of 2025-01-01"), "{text}");
    let csv = std::fs::read_to_string(&timeline).unwrap();
    assert_eq!(csv.lines().count(), 1 + 48);
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .ends_with("\"upper trigger: cpu 26.9 > 25\"")
    );

    // The timeline priced by `cost` gives the simulator's instance-hours.
    let text = stdout(&scalelab(&[
        "cost",
        "--instance-type",
        "t3.micro",
        "--timeline",
        timeline.to_str().unwrap(),
        "--fixed",
        "7",
    ]));
    assert!(text.contains("3.7167  $0.0387"), "{text}");
    assert!(text.contains("saving: 33.6 %"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sweep_ranks_the_216_combinations() {
    let dir = scratch("sweep");
    let table = dir.join("sweep.csv");
    let report = dir.join("sweep-report.html");
    let policy = policy();
    let mut args = vec![
        "sweep",
        "--policy",
        &policy,
        "--out",
        table.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--param",
        "scale_up_increment=1..9",
        "--param",
        "upper_threshold=11..34",
        "--derive",
        "lower_threshold=round(upper_threshold*0.7)",
        "--where",
        "max_cpu<50",
        "--maximize",
        "mean_cpu",
        "--top",
        "3",
    ];
    args.extend(WORKED_EXAMPLE);
    let text = stdout(&scalelab(&args));
    assert!(text.contains("216 combinations simulated"), "{text}");
    assert!(text.contains("124 meet max_cpu<50"), "{text}");
    // The report: every combination a point, 124 of them green, the max_cpu<50 line, the best ringed.
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<circle class=\"point\"").count(), 216);
    assert_eq!(html.matches("fill=\"#2ca02c\"").count(), 124);
    assert_eq!(html.matches("r=\"6\"").count(), 1);
    assert!(html.contains("<title>max_cpu 50</title>"), "{html}");
    let csv = std::fs::read_to_string(&table).unwrap();
    assert_eq!(csv.lines().count(), 1 + 216);
    // Ranked first: increment 1, upper 14, lower round(9.8) = 10.
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("1,1,14,10,true,44.8350,23.1392,"),
        "{csv}"
    );
    // Upper 15 derives lower 10 (10.5 rounds half to even).
    assert!(csv.lines().any(|l| l.contains(",1,15,10,")), "{csv}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cost_of_the_finops_case_to_the_cent() {
    let text = stdout(&scalelab(&[
        "cost",
        "--instance-type",
        "t2.micro",
        "--fixed",
        "5",
        "--schedule",
        "mon-fri 08:00-20:00=5, otherwise=1",
        "--weeks",
        "48",
    ]));
    assert!(text.contains("40320   $467.712"), "{text}");
    assert!(text.contains("19584  $227.1744"), "{text}");
    assert!(text.contains("saving: 51.4 %"), "{text}");
}

#[test]
fn bad_input_names_what_is_wrong() {
    let policy = policy();
    let mut args = vec!["sim", "--policy", &policy, "--set", "uper_threshold=30"];
    args.extend(WORKED_EXAMPLE);
    let output = scalelab(&args);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--set uper_threshold=30")
            && stderr.contains("did you mean 'upper_threshold'"),
        "{stderr}"
    );

    let mut args = vec![
        "sweep",
        "--policy",
        &policy,
        "--param",
        "upper_threshold=11..34",
        "--where",
        "max_cpu <<",
        "--maximize",
        "mean_cpu",
    ];
    args.extend(WORKED_EXAMPLE);
    let output = scalelab(&args);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--where"),
        "{:?}",
        output
    );

    let dir = scratch("bad-policy");
    let bad = dir.join("policy.yaml");
    std::fs::write(
        &bad,
        "max: 3\nbeanstalk:\n  upper_treshold: 25\n  lower_threshold: 15\n",
    )
    .unwrap();
    let mut args = vec!["sim", "--policy", bad.to_str().unwrap()];
    args.extend(WORKED_EXAMPLE);
    let output = scalelab(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("did you mean `upper_threshold`"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn export_then_sim_on_the_exported_terraform_and_hpa_gives_the_native_result() {
    let dir = scratch("export");
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for (native, format, file) in [
        (policy(), "terraform", "policy.tf"),
        (
            examples
                .join("policies/hpa.yaml")
                .to_string_lossy()
                .into_owned(),
            "hpa",
            "hpa.yaml",
        ),
    ] {
        let exported = dir.join(file);
        let out = exported.to_str().unwrap();
        stdout(&scalelab(&[
            "export", "--policy", &native, "--format", format, "--name", "api", "--out", out,
        ]));
        let summary = |policy: &str| {
            let timeline = dir.join("timeline.csv");
            let report = dir.join("sim-report.html");
            let mut args = vec![
                "sim",
                "--policy",
                policy,
                "--out",
                timeline.to_str().unwrap(),
                "--report",
                report.to_str().unwrap(),
            ];
            args.extend(WORKED_EXAMPLE);
            let text = stdout(&scalelab(&args));
            // Everything but the timeline's path.
            text.lines()
                .filter(|l| !l.starts_with("timeline:") && !l.starts_with("report:"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let expected = summary(&native);
        assert!(expected.contains("peak instances"), "{expected}");
        assert_eq!(summary(out), expected, "{format}");
    }
    let refused = scalelab(&["export", "--policy", &policy(), "--format", "hpa"]);
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("hpa cannot express `policy`"), "{error}");
}
