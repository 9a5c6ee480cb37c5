//! `scalelab compare A B`: two results directories side by side, and a verdict against the
//! `--fail-if` limits.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use scalelab_report::RunResults;
use scalelab_report::compare::{Comparison, Limit};

use super::execute::exit;

#[derive(Args)]
pub struct CompareArgs {
    /// The baseline results directory.
    a: PathBuf,
    /// The results directory compared with it.
    b: PathBuf,
    /// A limit on the change from A to B in total, such as 'p95>+10%', 'rps<-10%' (relative, with %)
    /// or 'error_rate>+0.5' (absolute: percentage points, ms or requests/s); repeatable. Figures:
    /// rps, error_rate, p50, p95, p99. A breached limit is a regression: exit code 99.
    #[arg(long = "fail-if", value_name = "LIMIT")]
    fail_if: Vec<Limit>,
}

pub fn run(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let load = |dir: &PathBuf| {
        RunResults::load(dir).with_context(|| format!("reading results from {}", dir.display()))
    };
    let (a, b) = (load(&args.a)?, load(&args.b)?);
    let comparison = Comparison::new(&a, &b);
    for why in &comparison.warnings {
        eprintln!("warning: the runs are unlike: {why}");
    }
    println!("A: {}\nB: {}\n", args.a.display(), args.b.display());
    print!("{}", comparison.table());
    if args.fail_if.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    println!();
    let mut regression = false;
    for limit in &args.fail_if {
        let result = limit.check(&comparison);
        regression |= result.breached;
        println!("  {result}");
    }
    println!(
        "\n  verdict: {}",
        if regression {
            "regression"
        } else {
            "no regression"
        }
    );
    Ok(if regression {
        ExitCode::from(exit::THRESHOLDS_FAILED)
    } else {
        ExitCode::SUCCESS
    })
}
