//! `scalelab plan new --type T --rate R --duration D`: an editable native plan with the shape of a
//! test type (see docs/plans.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use scalelab_shape::TestType;

#[derive(Args)]
pub struct PlanArgs {
    #[command(subcommand)]
    command: PlanCommand,
}

#[derive(Subcommand)]
enum PlanCommand {
    /// Write a native plan of a test type: load, stress, spike, soak, breakpoint, scalability.
    New(NewArgs),
}

#[derive(Args)]
struct NewArgs {
    /// load, stress, spike, soak, breakpoint or scalability.
    #[arg(long = "type", value_parser = |s: &str| TestType::parse(s).map_err(|e| e.to_string()))]
    test: TestType,
    /// The expected (normal) load, requests per second; each type scales it (see docs/plans.md).
    #[arg(long)]
    rate: f64,
    /// Length of the test.
    #[arg(long, value_parser = scalelab_config::parse_duration)]
    duration: Duration,
    /// The URL to load [default: /ping of the embedded stress service].
    #[arg(long)]
    url: Option<String>,
    /// Where to write the plan [default: TYPE.yaml]; an existing file is not overwritten.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let PlanCommand::New(args) = args.command;
    if !(args.rate.is_finite() && args.rate > 0.0 && args.rate <= 1e6) {
        bail!("--rate must be above 0 and at most 1,000,000 requests/s");
    }
    if args.duration > Duration::from_secs(7 * 24 * 3600) {
        bail!("--duration must be at most 7 days");
    }
    let (target, path) = match &args.url {
        Some(url) => {
            let (scheme, rest) = url
                .split_once("://")
                .with_context(|| format!("--url '{url}' is not http(s)://host/path"))?;
            let slash = rest.find('/').unwrap_or(rest.len());
            let path = if slash == rest.len() {
                "/"
            } else {
                &rest[slash..]
            };
            (
                Some(format!("{scheme}://{}", &rest[..slash])),
                path.to_owned(),
            )
        }
        None => (None, "/ping".to_owned()),
    };
    let yaml = scalelab_load::plan::test_plan_yaml(
        args.test,
        args.rate,
        args.duration,
        target.as_deref(),
        &path,
    )?;
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("{}.yaml", args.test)));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&out)
        .with_context(|| format!("cannot create {} (an existing file is kept)", out.display()))?;
    std::io::Write::write_all(&mut file, yaml.as_bytes())
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {}: {}\nrun it: scalelab run {}",
        out.display(),
        args.test.purpose(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
