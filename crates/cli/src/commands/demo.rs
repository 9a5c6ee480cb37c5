//! `scalelab demo`: the embedded stress service, a ~20 s ramp over /ping, /heavy and /timeout,
//! the summary, and a results directory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use scalelab_load::plan::{
    Check, Defaults, Executor, Flow, Iteration, Plan, Request, Scenario, Step, Threshold,
};
use scalelab_shape::Stage;

use super::execute::{ExecArgs, execute};

#[derive(Args)]
pub struct DemoArgs {
    /// Where to write the results [default: scalelab-results/demo-<time>].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Show only the final summary.
    #[arg(long)]
    quiet: bool,
    /// Write the thresholds and checks to this file as JUnit XML.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("scalelab-results").join(format!("demo-{stamp}")));
    println!(
        "scalelab demo: 0 → 10 virtual users over 5 s, 10 s steady, 5 s down, against the embedded stress service"
    );
    let exec = ExecArgs {
        out: Some(out),
        quiet: args.quiet,
        junit: args.junit,
        ..ExecArgs::default()
    };
    execute(plan(), &exec).await
}

/// The demo plan: weighted /ping, /heavy and /timeout with checks and two thresholds.
pub fn plan() -> Plan {
    let secs = Duration::from_secs;
    let flow = |name: &str, path: &str, weight: u32| Flow {
        name: name.into(),
        weight,
        steps: vec![Step::Request(Request {
            name: name.into(),
            method: "GET".into(),
            url: path.into(),
            headers: Vec::new(),
            body: None,
            checks: vec![Check::Status(vec![200])],
            tags: Vec::new(),
        })],
    };
    let threshold = |metric: &str, condition: &str| Threshold {
        metric: metric.into(),
        conditions: vec![condition.into()],
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
    };
    Plan {
        target: None,
        defaults: Defaults::default(),
        thresholds: vec![
            threshold("http_req_failed", "rate<0.01"),
            threshold("http_req_duration{name:ping}", "p(95)<250"),
        ],
        scenarios: vec![Scenario {
            name: "demo".into(),
            executor: Executor::RampingVus {
                start_vus: 0,
                stages: vec![
                    Stage {
                        duration: secs(5),
                        target: 10.0,
                    },
                    Stage {
                        duration: secs(10),
                        target: 10.0,
                    },
                    Stage {
                        duration: secs(5),
                        target: 0.0,
                    },
                ],
                graceful_ramp_down: secs(2),
            },
            iteration: Iteration {
                flows: vec![
                    flow("ping", "/ping", 6),
                    flow("heavy", "/heavy?ms=20", 2),
                    flow("timeout", "/timeout?ms=200", 2),
                ],
                think: None,
            },
            start_time: Duration::ZERO,
            graceful_stop: secs(5),
            tags: Vec::new(),
        }],
        warnings: Vec::new(),
    }
}
