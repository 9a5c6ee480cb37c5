//! `scalelab run PLAN`: a native, k6 or Artillery plan against its target (or the embedded service).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use scalelab_load::plan::{LoadOptions, load_file};

use super::execute::{ExecArgs, execute, exit};

#[derive(Args)]
pub struct RunArgs {
    /// The plan: native scalelab, k6 options (JSON or YAML) or an Artillery script.
    plan: PathBuf,
    /// Artillery environment to use (config.environments.NAME).
    #[arg(short = 'e', long)]
    environment: Option<String>,
    /// Send the load to this base URL instead of the plan's target.
    #[arg(long)]
    target: Option<String>,
    #[command(flatten)]
    exec: ExecArgs,
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let options = LoadOptions {
        environment: args.environment.clone(),
        target: args.target.clone(),
    };
    let plan = match load_file(&args.plan, &options) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(exit::INVALID_CONFIG));
        }
    };
    execute(plan, &args.exec).await
}
