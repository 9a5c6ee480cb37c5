//! `scalelab sim`'s load inputs as real processes: `--trace` (comments, linear between rows),
//! `--plan` (the offered load of arrival-rate scenarios) and `--step`, each against figures computed
//! by hand below. The policy never acts (CPU is capped at 100 %, which is not above the upper
//! threshold of 100; nothing is below the lower threshold of 0), so one instance serves throughout.

use std::path::{Path, PathBuf};
use std::process::Output;

mod process;

use process::{scalelab, stdout};

fn stderr_of_failure(output: &Output) -> String {
    assert!(!output.status.success(), "expected a failure");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch folder holding the idle policy and `files` (name, text).
fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scalelab-sim-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), IDLE_POLICY).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

const IDLE_POLICY: &str = "min: 1\nmax: 3\nbeanstalk:\n  period: 10s\n  breach_duration: 10s\n  \
    upper_threshold: 100\n  lower_threshold: 0\n  cooldown: 0s\n";

/// The value of the summary table's row `name`.
fn figure<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.trim().strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no figure '{name}' in\n{text}"))
}

fn path(dir: &Path, file: &str) -> String {
    dir.join(file).to_string_lossy().into_owned()
}

/// Runs `sim` with the idle policy and `args`; returns stdout and the timeline's rows.
fn sim(dir: &Path, args: &[&str]) -> (String, Vec<String>) {
    let (policy, timeline) = (path(dir, "policy.yaml"), path(dir, "timeline.csv"));
    let report = path(dir, "sim-report.html");
    let mut all = vec![
        "sim", "--policy", &policy, "--out", &timeline, "--report", &report,
    ];
    all.extend(args);
    let text = stdout(&scalelab(&all));
    let csv = std::fs::read_to_string(&timeline).unwrap();
    (text, csv.lines().skip(1).map(String::from).collect())
}

/// Requests per second: 0 at 0 s, ramping to 100 at 20 s, flat to 40 s; comments between rows.
const TRACE: &str =
    "# offered load, requests per second\nseconds,value\n0,0\n# a 20 s ramp\n20,100\n40,100\n";

#[test]
fn sim_trace_is_linear_between_rows_and_caps_cpu_at_100() {
    // CPU % = 1.5 x load. 10 s steps; the load of a step is its mean:
    // | step    | mean load            | CPU            | served         | unserved      |
    // | 0-10    | (0 + 50) / 2 = 25    | 37.5           | 25             | 0             |
    // | 10-20   | (50 + 100) / 2 = 75  | 112.5 -> 100   | 100 / 1.5 = 66.667 | 8.333     |
    // | 20-30   | 100                  | 150 -> 100     | 66.667         | 33.333        |
    // | 30-40   | 100                  | 150 -> 100     | 66.667         | 33.333        |
    // Offered 10 x (25 + 75 + 100 + 100) = 3000 requests; served 250 + 3 x 666.67 = 2250, unserved
    // 750; mean CPU (37.5 + 300) / 4 = 84.375 -> 84.4; above 50 %: 3 steps = 30 s; one instance
    // for 40 s billed the 60 s minimum: 0.0167 h.
    let dir = scratch("trace", &[("trace.csv", TRACE)]);
    let trace = path(&dir, "trace.csv");
    let (text, rows) = sim(
        &dir,
        &["--trace", &trace, "--cpu-per-load", "1.5", "--step", "10s"],
    );
    assert!(
        text.contains("simulated 40s in 4 steps of 10s (load per second)"),
        "{text}"
    );
    assert!(
        text.contains("CPU breaches 50 %: above it for 30s"),
        "{text}"
    );
    for (name, value) in [
        ("max CPU per instance", "100.0"),
        ("mean CPU per instance", "84.4"),
        ("time above 50 % CPU", "30"),
        ("offered requests", "3,000"),
        ("unserved requests", "750"),
        ("instance-hours (billed)", "0.017"),
        ("peak instances", "1"),
        ("scaling events", "0"),
    ] {
        assert_eq!(figure(&text, name), value, "{name}");
    }
    assert_eq!(
        rows,
        [
            "0.0,10.0,25.0,1,0,37.5,25.0,0.0,250.0,0.0,1,0,0,0.0,,",
            "10.0,20.0,75.0,1,0,100.0,66.667,8.333,666.667,83.333,1,0,0,0.0,,",
            "20.0,30.0,100.0,1,0,100.0,66.667,33.333,666.667,333.333,1,0,0,0.0,,",
            "30.0,40.0,100.0,1,0,100.0,66.667,33.333,666.667,333.333,1,0,0,0.0,,",
        ]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sim_step_sets_the_rows_and_is_bounded_by_the_shape() {
    // The same trace in 20 s steps: means (0 + 100) / 2 = 50 and 100; CPU % = 0.5 x load: 25 and
    // 50; offered 20 x 50 + 20 x 100 = 3000 as with any step; nothing above 50 % (50 is not above).
    let dir = scratch("step", &[("trace.csv", TRACE)]);
    let trace = path(&dir, "trace.csv");
    let (text, rows) = sim(
        &dir,
        &["--trace", &trace, "--cpu-per-load", "0.5", "--step", "20s"],
    );
    assert!(
        text.contains("simulated 40s in 2 steps of 20s (load per second)"),
        "{text}"
    );
    assert_eq!(figure(&text, "offered requests"), "3,000");
    assert_eq!(figure(&text, "time above 50 % CPU"), "0");
    assert_eq!(rows.len(), 2);
    assert!(rows[0].starts_with("0.0,20.0,50.0,1,0,25.0,50.0,0.0,1000.0,0.0,"));
    assert!(rows[1].starts_with("20.0,40.0,100.0,1,0,50.0,100.0,0.0,2000.0,0.0,"));

    // 1 s up to the shape's 40 s, and nothing else.
    let policy = path(&dir, "policy.yaml");
    for step in ["500ms", "41s"] {
        let args = [
            "sim",
            "--policy",
            &policy,
            "--trace",
            &trace,
            "--cpu-per-load",
            "1",
            "--step",
            step,
        ];
        let error = stderr_of_failure(&scalelab(&args));
        assert!(
            error.contains("must be between 1s and the shape's length (40s)"),
            "{step}: {error}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Artillery: 4 users/s for 20 s, a 10 s pause, then 4 -> 12 users/s over 20 s. Flows weighted 3:1
/// with 2 and 1 requests: (3 x 2 + 1 x 1) / 4 = 1.75 requests per user.
const ARTILLERY: &str = "config:\n  target: \"http://127.0.0.1:9\"\n  phases:\n    - duration: 20\n      arrivalRate: 4\n    - pause: 10\n    - duration: 20\n      arrivalRate: 4\n      rampTo: 12\nscenarios:\n  - name: browse\n    weight: 3\n    flow:\n      - get: {url: \"/a\"}\n      - think: 1\n      - get: {url: \"/b\"}\n  - name: ping\n    weight: 1\n    flow:\n      - get: {url: \"/ping\"}\n";

#[test]
fn sim_plan_offers_the_arrival_rate_times_requests_per_iteration() {
    // Requests per second: 4 x 1.75 = 7 for 20 s, 0 for 10 s, then 7 -> 12 x 1.75 = 21 over 20 s.
    // 10 s steps: means 7, 7, 0, (7 + 14) / 2 = 10.5, (14 + 21) / 2 = 17.5; offered
    // 70 + 70 + 0 + 105 + 175 = 420 = 20 x 7 + 20 x (7 + 21) / 2. CPU % = 2 x load.
    let dir = scratch(
        "plan",
        &[
            ("artillery.yaml", ARTILLERY),
            (
                "vus.yaml",
                "scenarios:\n  users:\n    executor: constant-vus\n    vus: 2\n    duration: 10s\n    requests: [{path: /}]\n",
            ),
        ],
    );
    let plan = path(&dir, "artillery.yaml");
    let (text, rows) = sim(
        &dir,
        &["--plan", &plan, "--cpu-per-load", "2", "--step", "10s"],
    );
    assert!(
        text.contains("simulated 50s in 5 steps of 10s (load per second)"),
        "{text}"
    );
    assert_eq!(figure(&text, "offered requests"), "420");
    let loads: Vec<&str> = rows.iter().map(|r| r.split(',').nth(2).unwrap()).collect();
    assert_eq!(loads, ["7.0", "7.0", "0.0", "10.5", "17.5"]);
    assert!(
        rows[4].starts_with("40.0,50.0,17.5,1,0,35.0,"),
        "{}",
        rows[4]
    );

    // In requests per second only, and never from virtual users.
    let policy = path(&dir, "policy.yaml");
    let per_minute = [
        "sim",
        "--policy",
        &policy,
        "--plan",
        &plan,
        "--per",
        "minute",
        "--cpu-per-load",
        "1",
    ];
    let error = stderr_of_failure(&scalelab(&per_minute));
    assert!(error.contains("drop --per minute"), "{error}");
    let vus = path(&dir, "vus.yaml");
    let error = stderr_of_failure(&scalelab(&[
        "sim",
        "--policy",
        &policy,
        "--plan",
        &vus,
        "--cpu-per-load",
        "1",
    ]));
    assert!(
        error.contains("scenario 'users' runs virtual users"),
        "{error}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sim_sweep_and_cost_refuse_inputs_beyond_their_bounds() {
    // Each of these panicked or aborted (a 32 GB allocation) before it was checked.
    let start = "start_s,end_s,offered_load,in_service,pending,cpu_percent,served_load,\
        unserved_load,served_requests,unserved_requests,desired,launched,terminated,\
        throttled_seconds,credit_balance,event\n";
    let huge = format!(
        "{start}0,60,1,1,0,10,1,0,60,0,4000000000,3999999999,0,0,,\n60,120,1,1,0,10,1,0,60,0,1,0,0,0,,\n"
    );
    let dir = scratch(
        "bounds",
        &[
            ("far.csv", "seconds,value\n0,1\n1e300,5\n"),
            ("high.csv", "seconds,value\n0,1\n# a comment\n60,1e300\n"),
            ("nan.csv", "0,1\n60,NaN\n"),
            (
                "huge.yaml",
                "max: 4000000000\ninitial: 4000000000\nhpa: {target: 50}\n",
            ),
            ("huge-timeline.csv", &huge),
        ],
    );
    let policy = path(&dir, "policy.yaml");
    let out = path(&dir, "out.csv");
    let report = path(&dir, "out.html");
    let sim = |load: &[&str], policy: &str| {
        let mut args = vec![
            "sim",
            "--policy",
            policy,
            "--cpu-per-load",
            "1",
            "--out",
            &out,
            "--report",
            &report,
        ];
        args.extend(load);
        stderr_of_failure(&scalelab(&args))
    };
    for (file, says) in [
        (
            "far.csv",
            "line 3: time 1e300 is not between 0 and 315360000 s",
        ),
        ("high.csv", "line 4: value 1e300 is not between 0 and 1e12"),
        ("nan.csv", "line 2: value NaN is not between 0 and 1e12"),
    ] {
        let trace = path(&dir, file);
        let error = sim(&["--trace", &trace], &policy);
        assert!(
            error.contains(&format!("{trace}: {says}")) && !error.contains("panicked"),
            "{file}: {error}"
        );
    }
    let error = sim(&["--stages", "10m:5", "--cpu-limit", "NaN"], &policy);
    assert!(
        error.contains(
            "invalid value 'NaN' for '--cpu-limit <CPU_LIMIT>': must be a CPU % from 0 to 100"
        ),
        "{error}"
    );
    let year = ["--stages", "365d:10", "--step", "1s"];
    let error = sim(&year, &policy);
    assert!(
        error.contains("8760h in steps of 1s is 31536000 steps, more than the 1000000"),
        "{error}"
    );
    let mut sweep = vec![
        "sweep",
        "--policy",
        &policy,
        "--cpu-per-load",
        "1",
        "--param",
        "upper_threshold=80,90",
        "--minimize",
        "max_cpu",
        "--out",
        &out,
        "--report",
        &report,
    ];
    sweep.extend(year);
    let error = stderr_of_failure(&scalelab(&sweep));
    assert!(error.contains("31536000 steps"), "{error}");
    let error = sim(&["--stages", "10m:5"], &path(&dir, "huge.yaml"));
    assert!(
        error.contains("max (4000000000) must be at most 1000000 instances"),
        "{error}"
    );
    let timeline = path(&dir, "huge-timeline.csv");
    // A cluster's results whose replicas add up past u32 (an edited cluster.csv).
    let cluster = dir.join("cluster");
    std::fs::create_dir_all(&cluster).unwrap();
    std::fs::write(
        cluster.join("cluster.csv"),
        "second,group,desired,in_service,pending,draining,cpu_avg_pct,memory_avg_mib,\
         memory_avg_pct,requests,errors,lb_502,lb_503,lb_504,in_flight,p50_ms,p95_ms,p99_ms\n\
         0,api,1,4000000000,4000000000,0,,,,1,0,0,0,0,0,0,0,0\n1,api,1,1,0,0,,,,1,0,0,0,0,0,0,0,0\n",
    )
    .unwrap();
    let cluster = cluster.to_string_lossy().into_owned();
    let far = huge
        .replace(",4000000000,3999999999,", ",1,0,")
        .replacen("0,60,", "0,1e300,", 1);
    std::fs::write(dir.join("far-timeline.csv"), far).unwrap();
    let error = stderr_of_failure(&scalelab(&[
        "cost",
        "--instance-type",
        "t3.micro",
        "--timeline",
        &path(&dir, "far-timeline.csv"),
    ]));
    assert!(
        error.contains("far-timeline.csv: line 2, column end_s: 1e300 is not after start_s"),
        "{error}"
    );
    for args in [
        vec!["--timeline", &timeline],
        vec!["--timeline", &cluster],
        vec!["--fixed", "4000000000", "--hours", "1"],
        vec!["--schedule", "otherwise=4000000000", "--weeks", "1"],
    ] {
        let mut cost = vec!["cost", "--instance-type", "t3.micro"];
        cost.extend(args);
        let error = stderr_of_failure(&scalelab(&cost));
        assert!(
            (error.contains("4000000000") || error.contains("8000000000 replicas at second 0"))
                && error.contains("1000000"),
            "{cost:?}: {error}"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sim_says_when_it_replaces_the_last_results() {
    let dir = scratch("replace", &[("trace.csv", TRACE)]);
    let trace = path(&dir, "trace.csv");
    let args = [
        "--trace",
        trace.as_str(),
        "--cpu-per-load",
        "1",
        "--step",
        "10s",
    ];
    let (first, _) = sim(&dir, &args);
    let timeline = path(&dir, "timeline.csv");
    assert!(
        first.contains(&format!("timeline: {timeline}\n")) && !first.contains("replaced"),
        "{first}"
    );
    let (second, _) = sim(&dir, &args);
    assert!(
        second.contains(&format!(
            "timeline: {timeline} (replaced the previous one)\n"
        )),
        "{second}"
    );
    assert!(
        second.contains("sim-report.html (replaced the previous one)\n"),
        "{second}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
