//! `scalelab sim`, `sweep` and `cost` as real processes on the worked examples of docs/.

use std::path::PathBuf;

mod process;

use process::{scalelab, stdout};

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
/// instance-minutes = 0.1667 h (the last one runs 60 s, the minimum); at $0.096/h (m5.large, not
/// burstable: no CPU credits) $0.016, per million served 0.016 / 500 x 1e6 = $32.00.
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
        "m5.large",
        "--out",
        timeline.to_str().unwrap(),
        "--report",
        dir.join("sim-report.html").to_str().unwrap(),
    ]));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for line in [
        "simulated 6m in 6 steps of 1m (load per minute)",
        "CPU breaches 50 %: above it for 3m",
        "max CPU per instance 100.0 %",
        "mean CPU per instance 75.0 %",
        "time above 50 % CPU 180 s",
        "offered requests 500",
        "unserved requests 0",
        "instance-hours (billed) 0.167 h",
        "peak instances 3",
        "scaling events 2",
        "cost (m5.large at $0.096/h) $0.016",
        "cost per million requests served $32.00",
    ] {
        assert!(words.contains(line), "{line}\n{text}");
    }
    let csv = std::fs::read_to_string(&timeline).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows[2],
        "120.0,180.0,100.0,1,0,100.0,100.0,0.0,100.0,0.0,2,1,0,0.0,,upper trigger: cpu 100.0 > 60"
    );
    assert!(rows[4].starts_with("240.0,300.0,100.0,1,1,100.0,"), "{csv}");
    assert!(rows[5].starts_with("300.0,360.0,100.0,2,1,50.0,"), "{csv}");

    // Priced by `cost` against 3 fixed instances for the same 6 minutes: 0.3 h x $0.096 = $0.0288;
    // the timeline's 10 instance-minutes = 0.1667 h, $0.016 (1 - 10 / 18 = 44.4 % less).
    let text = stdout(&scalelab(&[
        "cost",
        "--instance-type",
        "m5.large",
        "--timeline",
        timeline.to_str().unwrap(),
        "--fixed",
        "3",
    ]));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("0.3 $0.0288"), "{text}");
    assert!(words.contains("0.1667 $0.016"), "{text}");
    // With the catalog's 1-year price ($0.056393/h) the cheapest is 1 reserved for the 0.1 h and the
    // 4 instance-minutes above it on demand: $0.0056393 + 0.0667 h x $0.096 = $0.0120393; saving
    // 1 - 0.0120393 / 0.0288 = 58.2 % against the fixed fleet.
    assert!(
        words.contains("reserved 1-year + on demand above 0.1667 $0.012"),
        "{text}"
    );
    assert!(text.contains("saving: 58.2 %"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn sim_of_the_worked_example_starts_with_its_hand_computed_first_minute() {
    // 30,000 rpm on one instance: 30000 x 0.0008967 = 26.901 % > 25: the upper trigger fires at
    // the end of minute 1; 10 + 8 + 30 minutes in 1-minute steps: 48 rows.
    let dir = scratch("worked");
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
    assert!(text.contains("simulated 48m in 48 steps of 1m"), "{text}");
    // By the rules of docs/sim.md (a step's mean load spread over the instances in service; a
    // launch blocks the policy until the instance is in service 4 minutes later; newest removed
    // first), minute by minute:
    // - 0: 1 instance at 26.9 % > 25: +1 at 1 (in service at 5); 4: still 1 at 26.9 %: +1 at 5;
    // - 5-8: 2 at 13.5 % < 15, blocked until 9; -1 at 9 and at 10: 1 instance from minute 10;
    // - 10 (mean 37,500 rpm): 33.6 % > 25: +1 at 11, in service at 15, so minutes 11-14 run on one
    //   at 52,500 to 97,500 rpm: 47.1, 60.5, 74.0 and 87.4 % (the most); +1 at 15;
    // - 15-18 on two, 112,500 to 150,000 rpm: 50.4, 57.2, 63.9, 67.3 %; from 19 three or more, at
    //   most 150,000 / 3 x 0.0008967 = 44.8 %.
    // So the CPU is above 50 % in minutes 12 to 18: 7 minutes.
    let max = format!("{:.1} %", 97_500.0 * 0.0008967);
    // The report: the summary and four charts (load, instances, CPU with its limit, cost), offline.
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "{html}");
    assert!(html.contains("limit 50 %") && html.contains(&max), "{max}");
    assert!(!html.contains("<script") && !html.contains("http"));
    assert!(
        text.contains("CPU breaches 50 %: above it for 7m"),
        "{text}"
    );
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(&format!("max CPU per instance {max}")),
        "{max}: {text}"
    );
    assert!(text.contains("as of 2025-01-01"), "{text}");
    let csv = std::fs::read_to_string(&timeline).unwrap();
    assert_eq!(csv.lines().count(), 1 + 48);
    // The instances in service in minutes 0 to 19, as traced above.
    let in_service: String = csv
        .lines()
        .skip(1)
        .take(20)
        .map(|row| row.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(in_service, "11111222221111122223", "{csv}");
    let first = csv.lines().nth(1).unwrap();
    assert!(first.starts_with("0.0,60.0,30000.0,1,0,26.901,"), "{first}");
    assert!(first.ends_with(",upper trigger: cpu 26.9 > 25"), "{first}");
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
    let report = dir.join("sweep-report.html");
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
        "--report",
        report.to_str().unwrap(),
    ]));
    // The report draws every combination as a point: two here.
    let html = std::fs::read_to_string(&report).unwrap();
    assert_eq!(html.matches("<circle class=\"point\"").count(), 2, "{html}");
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
fn cost_with_a_catalog_of_ones_own_and_hours() {
    let dir = scratch("prices");
    let prices = dir.join("prices.csv");
    std::fs::write(
        &prices,
        "# My provider, region X\n# as of: 2025-06-01\ninstance_type,vcpus,memory_gib,usd_per_hour\nsmall,2,4,0.05\n",
    )
    .unwrap();
    let prices = prices.to_str().unwrap();
    let text = stdout(&scalelab(&[
        "cost",
        "--prices",
        prices,
        "--instance-type",
        "small",
        "--fixed",
        "3",
        "--hours",
        "10",
    ]));
    // 3 instances x 10 h = 30 instance-hours x $0.05 = $1.50.
    assert!(
        text.contains("My provider, region X (as of 2025-06-01)"),
        "{text}"
    );
    assert!(text.contains("30  $1.50"), "{text}");
    let output = scalelab(&[
        "cost",
        "--prices",
        prices,
        "--instance-type",
        "smal",
        "--fixed",
        "1",
        "--hours",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("did you mean 'small'"),
        "{stderr}"
    );
    std::fs::write(
        dir.join("bad.csv"),
        "instance_type,vcpus,memory_gib,usd_per_hour\nsmall,2,4,cheap\n",
    )
    .unwrap();
    let output = scalelab(&[
        "cost",
        "--prices",
        dir.join("bad.csv").to_str().unwrap(),
        "--list",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && stderr.contains("bad.csv")
            && stderr.contains("line 2")
            && stderr.contains("usd_per_hour"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cost_rebuilds_lifetimes_in_the_scale_in_order() {
    // One instance from 0; +1 at 60 s; -1 at 90 s; +1 at 100 s; -1 at 120 s; the run ends at 180 s.
    // Newest first: 0-180 (180 s), 60-90 (30 s, billed 60), 100-120 (20 s, billed 60) = 300 s.
    // Oldest first: 0-90 (90 s), 60-120 (60 s), 100-180 (80 s) = 230 s.
    let dir = scratch("scale-in");
    let timeline = dir.join("timeline.csv");
    let header = "start_s,end_s,offered_load,in_service,pending,cpu_percent,served_load,unserved_load,\
                  served_requests,unserved_requests,desired,launched,terminated,event";
    let rows = [
        "0,60,1,1,0,50,1,0,100,0,2,1,0,",
        "60,90,1,2,0,25,1,0,100,0,1,0,1,",
        "90,100,1,1,0,50,1,0,100,0,2,1,0,",
        "100,120,1,2,0,25,1,0,100,0,1,0,1,",
        "120,180,1,1,0,50,1,0,100,0,1,0,0,",
    ];
    std::fs::write(&timeline, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let timeline = timeline.to_str().unwrap();
    let cost = |order: &str| {
        stdout(&scalelab(&[
            "cost",
            "--instance-type",
            "t2.micro",
            "--timeline",
            timeline,
            "--scale-in",
            order,
        ]))
    };
    // 300 s = 0.0833 h; 230 s = 0.0639 h.
    let newest = cost("newest");
    assert!(newest.contains("0.0833"), "{newest}");
    let oldest = cost("oldest");
    assert!(oldest.contains("0.0639"), "{oldest}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cost_prices_a_cluster_results_directory() {
    // One replica for the first 1,800 s, three for the next 1,800 s: 1,800 + 3 x 1,800 = 7,200
    // instance-seconds = 2 instance-hours x $0.0116 = $0.0232. A fixed 3 for the hour: $0.0348.
    // On demand saves (0.0348 - 0.0232) / 0.0348 = 33.3 %. Served: 3,600 s x (4 - 1 errors) = 10,800
    // requests: $0.0232 / 10,800 x 1e6 = $2.1481 per million.
    let dir = scratch("cluster-cost");
    let mut csv = String::from(
        "second,group,desired,in_service,pending,draining,cpu_avg_pct,memory_avg_mib,memory_avg_pct,\
         requests,errors,lb_502,lb_503,lb_504,in_flight,p50_ms,p95_ms,p99_ms\n",
    );
    for second in 0..3600 {
        let (in_service, pending) = if second < 1800 { (1, 0) } else { (2, 1) };
        csv += &format!("{second},api,3,{in_service},{pending},0,10.0,,,4,1,0,0,0,0,1,2,3\n");
    }
    std::fs::write(dir.join("cluster.csv"), csv).unwrap();
    let text = stdout(&scalelab(&[
        "cost",
        "--instance-type",
        "t2.micro",
        "--timeline",
        dir.to_str().unwrap(),
        "--fixed",
        "3",
    ]));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("1 h 3 $0.0348 $3.2222"), "{text}");
    assert!(
        words.contains("cluster-cost, on demand 2 $0.0232 $2.1481"),
        "{text}"
    );
    // 1 reserved t2.micro for the hour ($0.006735) and 1 instance-hour on demand ($0.0116) =
    // $0.018335, 1 - 0.018335 / 0.0348 = 47.3 % below the fixed fleet.
    assert!(words.contains("on demand above 2 $0.0183"), "{text}");
    assert!(text.contains("saving: 47.3 %"), "{text}");
    let empty = scratch("not-a-cluster");
    let output = scalelab(&[
        "cost",
        "--instance-type",
        "t2.micro",
        "--timeline",
        empty.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("no cluster.csv here"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
    std::fs::remove_dir_all(empty).unwrap();
}

/// One t2.micro at 20 % CPU (100 rps x 0.2 % per rps) for 30 h, with Beanstalk triggers at `upper`
/// and 5 % (one-minute periods).
fn credit_scenario(dir: &std::path::Path) -> Vec<String> {
    let policy = dir.join("policy.yaml");
    std::fs::write(
        &policy,
        "min: 1\nmax: 2\nbeanstalk:\n  period: 1m\n  breach_duration: 1m\n  upper_threshold: 60\n  \
         lower_threshold: 5\n  cooldown: 0s\n",
    )
    .unwrap();
    [
        "--policy",
        policy.to_str().unwrap(),
        "--stages",
        "30h:100",
        "--start",
        "100",
        "--cpu-per-load",
        "0.2",
        "--instance-type",
        "t2.micro",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn a_policy_fine_on_cpu_exhausts_t2_credits_and_sweep_can_rule_it_out() {
    // By hand: a full t2.micro (144 credits) at 20 % spends 12 credits an hour and earns 6: empty
    // after 144 / 6 = 24 h, then held to its 10 % baseline for the last 6 h = 21,600 s, serving 50 of
    // the 100 rps: 50 x 21,600 = 1,080,000 requests unserved. CPU never exceeds 50 %.
    let dir = scratch("credits");
    let scenario = credit_scenario(&dir);
    let out = dir.join("timeline.csv");
    let report = dir.join("sim-report.html");
    let mut args = vec![
        "sim",
        "--out",
        out.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend(scenario.iter().map(String::as_str));
    let text = stdout(&scalelab(&args));
    assert!(text.contains("CPU stays at or below 50 %"), "{text}");
    assert!(
        text.contains(
            "CPU credits run out (standard mode): instances held to the 10 % baseline for 6h"
        ),
        "{text}"
    );
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("throttled (instance-seconds) 21,600 s"),
        "{text}"
    );
    assert!(words.contains("unserved requests 1,080,000"), "{text}");

    // Upper 15 adds a second instance at once: two at 10 %, the baseline, never run out (the first
    // keeps 144 credits less a minute at 20 %, the second its 30 launch credits).
    let table = dir.join("sweep.csv");
    let mut args = vec![
        "sweep",
        "--out",
        table.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--param",
        "upper_threshold=15,60",
        "--where",
        "throttled_seconds==0",
        "--minimize",
        "instance_hours",
    ];
    args.extend(scenario.iter().map(String::as_str));
    let text = stdout(&scalelab(&args));
    assert!(text.contains("2 combinations simulated"), "{text}");
    assert!(text.contains("1 meet throttled_seconds==0"), "{text}");
    // The printed row: rank 1, upper 15, ..., throttled 0 s.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("throttled_s cost"), "{text}");
    let csv = std::fs::read_to_string(&table).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with("1,15,true,"),
        "{csv}"
    );
    assert!(
        csv.lines().nth(2).unwrap().starts_with(",60,false,"),
        "{csv}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cost_finds_the_cheapest_commitment_mix_and_repeats_the_timeline() {
    // A 10-hour timeline: 2 instances, a 3rd from 2 h to 8 h, a 4th from 4 h to 6 h: 28
    // instance-hours, 10,000 requests. Priced over 20 h (it repeats twice) with on demand $0.10,
    // 1-year $0.06, 3-year $0.04; by hand:
    //   fixed 4 x 20 h = 80 h x $0.10 = $8.00 ($400 per million of the 20,000 requests)
    //   on demand: 2 x 28 = 56 h x $0.10 = $5.60 ($280 per million)
    //   1-year, N reserved cost N x 20 h x $0.06 and the rest on demand: N=0 $5.60, N=1 $1.20 +
    //     $3.60 = $4.80, N=2 $2.40 + $1.60 = $4.00, N=3 $3.60 + $0.40 = $4.00 (a tie: fewer
    //     reserved), N=4 $4.80 -> 2 reserved, $4.00, 2 x 20 + 16 = 56 instance-hours
    //   3-year, N x 20 h x $0.04: N=2 $1.60 + $1.60 = $3.20, N=3 $2.40 + $0.40 = $2.80, N=4 $3.20
    //     -> 3 reserved, $2.80, 3 x 20 + 4 = 64 instance-hours ($140 per million)
    // Savings of the 3-year mix: 65.0 % against fixed, 50.0 % against on demand, 30.0 % against the
    // 1-year mix. Break-even: $0.06 / $0.10 = 60 %, $0.04 / $0.10 = 40 %.
    let dir = scratch("commitments");
    let prices = dir.join("prices.csv");
    std::fs::write(
        &prices,
        "# Test prices\ninstance_type,vcpus,memory_gib,usd_per_hour,reserved_1y,reserved_3y\nsmall,2,4,0.10,0.06,0.04\n",
    )
    .unwrap();
    let counts: [u32; 10] = [2, 2, 3, 3, 4, 4, 3, 3, 2, 2];
    let mut csv = String::from(
        "start_s,end_s,offered_load,in_service,pending,cpu_percent,served_load,unserved_load,\
         served_requests,unserved_requests,desired,launched,terminated,event\n",
    );
    for (hour, count) in counts.iter().enumerate() {
        let next = counts.get(hour + 1).copied().unwrap_or(*count);
        let (launched, terminated) = (next.saturating_sub(*count), count.saturating_sub(next));
        csv += &format!(
            "{},{},1,{count},0,50,1,0,1000,0,{next},{launched},{terminated},\n",
            hour * 3600,
            (hour + 1) * 3600
        );
    }
    let timeline = dir.join("timeline.csv");
    std::fs::write(&timeline, csv).unwrap();
    let text = stdout(&scalelab(&[
        "cost",
        "--prices",
        prices.to_str().unwrap(),
        "--instance-type",
        "small",
        "--timeline",
        timeline.to_str().unwrap(),
        "--fixed",
        "4",
        "--hours",
        "20",
    ]));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "the timeline (10 h) repeats 2 times to fill 20 h",
        "fixed: 4 x small for 20 h 80 $8.00 $400.00",
        "on demand 56 $5.60 $280.00",
        "2 x small reserved 1-year + on demand above 56 $4.00 $200.00",
        "3 x small reserved 3-year + on demand above 64 $2.80 $140.00",
        "a 1-year reservation ($0.06/h) pays off when used more than 60.0 % of the hours",
        "a 3-year reservation ($0.04/h) pays off when used more than 40.0 % of the hours",
        "cheapest: 3 x small reserved 3-year + on demand above",
        "saving: 65.0 % ($5.20 of $8.00) against fixed",
        "saving: 50.0 % ($2.80 of $5.60) against timeline",
        "saving: 30.0 % ($1.20 of $4.00) against 2 x small reserved 1-year",
    ] {
        assert!(words.contains(expected), "{expected}\n{text}");
    }
    // The same replicas as pods requesting 0.5 vCPU and 1 GiB at OpenCost's default prices:
    // 0.5 x $0.031611 + 1 x $0.004237 = $0.0200425 a pod-hour; 28 pod-hours = $0.56119 ($56.119 per
    // million of 10,000 requests); 4 fixed pods for 10 h = 40 x $0.0200425 = $0.8017; saving
    // $0.24051 = 30.0 %.
    let text = stdout(&scalelab(&[
        "cost",
        "--timeline",
        timeline.to_str().unwrap(),
        "--pod-cpu",
        "0.5",
        "--pod-memory-gib",
        "1",
        "--fixed",
        "4",
    ]));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "a pod requesting 0.5 vCPU and 1 GiB: $0.02/h",
        "fixed: 4 pods for 10 h 40 $0.8017 $80.17",
        "pods requesting 0.5 vCPU and 1 GiB 28 $0.5612 $56.119",
        "saving: 30.0 % ($0.2405 of $0.8017)",
    ] {
        assert!(words.contains(expected), "{expected}\n{text}");
    }
    // docs/cost.md's example with the built-in catalog: t2.micro, on demand $0.0116, 1-year all
    // upfront $0.006735 (no 3-year price), over examples/cost-day-timeline.csv, a day of 2 instances,
    // a 3rd for 16 h (06-22) and a 4th and 5th for 8 h (08-16): 80 instance-hours and 36,000
    // requests an instance-hour (2,880,000 a day). 48 weeks = 8,064 h = 336 days; by hand:
    //   fixed 5 x 8,064 = 40,320 h x $0.0116 = $467.712
    //   on demand 80 x 336 = 26,880 h x $0.0116 = $311.808
    //   N reserved cost N x 8,064 h x $0.006735 = N x $54.31104, the rest on demand:
    //     N=2 $108.62208 + 32 h x 336 x $0.0116 = $233.34528
    //     N=3 $162.93312 + 16 h x 336 x $0.0116 = $162.93312 + $62.3616 = $225.29472
    //     N=4 $217.24416 + 8 h x 336 x $0.0116 = $248.42496 -> 3 reserved (the 3rd runs 16/24 =
    //     66.7 % of the hours, above the break-even $0.006735 / $0.0116 = 58.1 %; the 4th 33.3 %)
    //   instance-hours 3 x 8,064 + 5,376 = 29,568; per million of 967.68 million requests $0.2328
    //   saving against on demand: $86.51328 = 27.7 %; against fixed: $242.41728 = 51.8 %
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/cost-day-timeline.csv"
    );
    let text = stdout(&scalelab(&[
        "cost",
        "--instance-type",
        "t2.micro",
        "--timeline",
        example,
        "--fixed",
        "5",
        "--weeks",
        "48",
    ]));
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "the timeline (24 h) repeats 336 times to fill 8064 h",
        "fixed: 5 x t2.micro for 8064 h 40320 $467.712 $0.4833",
        "on demand 26880 $311.808 $0.3222",
        "3 x t2.micro reserved 1-year + on demand above 29568 $225.2947 $0.2328",
        "a 1-year reservation ($0.006735/h) pays off when used more than 58.1 % of the hours",
        "no 3-year reserved price for t2.micro in the catalog",
        "cheapest: 3 x t2.micro reserved 1-year + on demand above",
        "saving: 51.8 % ($242.4173 of $467.712) against fixed",
        "saving: 27.7 % ($86.5133 of $311.808) against timeline",
    ] {
        assert!(words.contains(expected), "{expected}\n{text}");
    }
    let output = scalelab(&[
        "cost",
        "--instance-type",
        "t2.micro",
        "--timeline",
        timeline.to_str().unwrap(),
        "--hours",
        "5",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && stderr.contains("shorter than the timeline"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
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
        // Two metrics and no behavior: the legacy rules, before and after.
        (
            examples
                .join("hpa-policy.yaml")
                .to_string_lossy()
                .into_owned(),
            "hpa",
            "hpa-legacy.yaml",
        ),
        (
            examples
                .join("aws-mixed-policy.yaml")
                .to_string_lossy()
                .into_owned(),
            "terraform",
            "mixed.tf",
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
    assert!(error.contains("hpa cannot express `beanstalk`"), "{error}");
}
