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

/// A step up computed by hand: 1 instance, CPU % = 1 x requests per minute, 50 rpm for 2 minutes
/// then 100 rpm for 4; start-up 2 minutes; Beanstalk triggers above 60 % (+1) and below 20 % (-1)
/// over one 1-minute period, no cooldown.
///
/// | minute | in service | pending | CPU | decision at its end |
/// | 0-1 | 1 | 0 | 50 | - |
/// | 1-2 | 1 | 0 | 50 | - |
/// | 2-3 | 1 | 0 | 100 | 100 > 60: launch (pending until minute 5) |
/// | 3-4 | 1 | 1 | 100 | launch in progress: nothing |
/// | 4-5 | 1 | 1 | 100 | at 5 the launch completes; 100 > 60: launch another |
/// | 5-6 | 2 | 1 | 50 | last step: no decision |
///
/// Max CPU 100; mean (50 + 50 + 100 + 100 + 100 + 50) / 6 = 75; above 50 % during minutes 2-5:
/// 180 s; offered 2 x 50 + 4 x 100 = 500 requests, all served; billed 6 + 3 + 1 = 10
/// instance-minutes = 0.1667 h (the last one runs 60 s, the minimum); at $0.0104/h (t3.micro)
/// $0.0017333 -> "$0.0017", per million served 0.0017333 / 500 x 1e6 = $3.4667.
const STEP_UP_POLICY: &str = "min: 1\nmax: 4\nstartup: 2m\nbeanstalk:\n  period: 1m\n  breach_duration: 1m\n  \
    upper_threshold: 60\n  lower_threshold: 20\n  cooldown: 0s\n";
const STEP_UP_TRACE: &str = "seconds,value\n0,50\n120,50\n120,100\n360,100\n";

fn step_up_files(name: &str) -> (PathBuf, String, String) {
    let dir = scratch(name);
    let (policy, trace) = (dir.join("policy.yaml"), dir.join("trace.csv"));
    std::fs::write(&policy, STEP_UP_POLICY).unwrap();
    std::fs::write(&trace, STEP_UP_TRACE).unwrap();
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    (dir, path(policy), path(trace))
}

#[test]
fn sim_prints_hand_computed_figures_and_writes_a_timeline_cost_can_price() {
    let (dir, policy, trace) = step_up_files("sim");
    let timeline = dir.join("timeline.csv");
    let text = stdout(&scalelab(&[
        "sim",
        "--policy",
        &policy,
        "--trace",
        &trace,
        "--per",
        "minute",
        "--cpu-per-load",
        "1",
        "--instance-type",
        "t3.micro",
        "--out",
        timeline.to_str().unwrap(),
    ]));
    for line in [
        "simulated 6m in 6 steps of 1m (load per minute)",
        "CPU breaches 50 %: above it for 3m",
        "max CPU per instance                100.0  %",
        "mean CPU per instance                75.0  %",
        "time above 50 % CPU                   180  s",
        "offered requests                      500",
        "unserved requests                       0",
        "instance-hours (billed)             0.167  h",
        "peak instances                          3",
        "scaling events                          2",
        "cost (t3.micro at $0.0104/h)      $0.0017",
        "cost per million requests served  $3.4667",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    let csv = std::fs::read_to_string(&timeline).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[2],
        "120,180,100.000,1,0,100.000,100.000,0.000,100.000,0.000,2,1,0,\"upper trigger: cpu 100.0 > 60\""
    );
    assert!(rows[4].starts_with("240,300,100.000,1,1,100.000,"), "{csv}");
    assert!(rows[5].starts_with("300,360,100.000,2,1,50.000,"), "{csv}");

    // Priced by `cost` against 3 fixed instances for the same 6 minutes: 0.3 h, $0.00312 ->
    // "$0.0031"; the timeline's 10 instance-minutes = 0.1667 h; saving 1 - 10 / 18 = 44.4 %.
    let text = stdout(&scalelab(&[
        "cost",
        "--instance-type",
        "t3.micro",
        "--timeline",
        timeline.to_str().unwrap(),
        "--fixed",
        "3",
    ]));
    assert!(text.contains("0.3  $0.0031"), "{text}");
    assert!(text.contains("0.1667  $0.0017"), "{text}");
    assert!(text.contains("saving: 44.4 %"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sim_of_the_worked_example_starts_with_its_hand_computed_first_minute() {
    // 30,000 rpm on one instance: 30000 x 0.0008967 = 26.901 % > 25: the upper trigger fires at
    // the end of minute 1; 10 + 8 + 30 minutes in 1-minute steps: 48 rows.
    let dir = scratch("worked");
    let timeline = dir.join("timeline.csv");
    let policy = policy();
    let mut args = vec![
        "sim",
        "--policy",
        &policy,
        "--out",
        timeline.to_str().unwrap(),
    ];
    args.extend(WORKED_EXAMPLE);
    let text = stdout(&scalelab(&args));
    assert!(text.contains("simulated 48m in 48 steps of 1m"), "{text}");
    let csv = std::fs::read_to_string(&timeline).unwrap();
    assert_eq!(csv.lines().count(), 1 + 48);
    let first = csv.lines().nth(1).unwrap();
    assert!(first.starts_with("0,60,30000.000,1,0,26.901,"), "{first}");
    assert!(
        first.ends_with("\"upper trigger: cpu 26.9 > 25\""),
        "{first}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sweep_ranks_hand_computed_combinations() {
    // The step-up case with increments 1 and 2. Increment 1: as above, 0.1667 h, mean CPU 75.
    // Increment 2: at minute 3 two launch (pending until 5), blocking; at 5 they are in service and
    // the datapoint of minute 4-5 (100 %) asks for 3 + 2 = 5, capped at max 4: one more. CPU per
    // minute 50, 50, 100, 100, 100, then 100 / 3 = 33.33: mean 433.33 / 6 = 72.22; billed 6 + 2 x 3
    // + 1 = 13 instance-minutes = 0.2167 h; peak 4. Both spend 180 s above 50 %; ranked by
    // instance-hours, lowest first.
    let (dir, policy, trace) = step_up_files("sweep");
    let table = dir.join("sweep.csv");
    let text = stdout(&scalelab(&[
        "sweep",
        "--policy",
        &policy,
        "--trace",
        &trace,
        "--per",
        "minute",
        "--cpu-per-load",
        "1",
        "--param",
        "scale_up_increment=1..2",
        "--where",
        "time_above_limit<=180",
        "--minimize",
        "instance_hours",
        "--out",
        table.to_str().unwrap(),
    ]));
    assert!(
        text.contains("2 combinations simulated") && text.contains("2 meet time_above_limit<=180"),
        "{text}"
    );
    let csv = std::fs::read_to_string(&table).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].starts_with(
            "1,1,true,100.0000,75.0000,180.0000,500.0000,500.0000,0.0000,0.1667,3.0000,2.0000,"
        ),
        "{csv}"
    );
    assert!(
        rows[1].starts_with(
            "2,2,true,100.0000,72.2222,180.0000,500.0000,500.0000,0.0000,0.2167,4.0000,2.0000,"
        ),
        "{csv}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cost_of_the_finops_case_to_the_cent() {
    // t2.micro at $0.0116/h. Fixed: 5 x 24 h x 7 d x 48 weeks = 40,320 h -> $467.712.
    // Scheduled: 5 instances for 12 h on 5 days (300 h) and 1 for the other 168 - 60 = 108 h: 408 h a
    // week, 19,584 h in 48 weeks -> $227.1744; saving 1 - 19584 / 40320 = 51.4 %.
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
