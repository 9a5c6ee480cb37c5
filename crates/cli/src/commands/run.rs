//! `scalelab run PLAN`: a native, k6 or Artillery plan against its target (or the embedded service).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use scalelab_load::engine::parse_start_at;
use scalelab_load::plan::{LoadOptions, load_file};
use scalelab_shape::Shard;
use sha2::{Digest, Sha256};

use super::execute::{ExecArgs, Part, execute, exit};

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
    /// Run shard I (from 0) of N of the plan: its share of every scenario (see docs/scale-out.md).
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Begin the schedule at this wall-clock time (RFC 3339 or unix seconds), so shards started
    /// apart run together. Needed with --shard when N > 1.
    #[arg(long, value_name = "TIME")]
    start_at: Option<String>,
    #[command(flatten)]
    exec: ExecArgs,
}

pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let options = LoadOptions {
        environment: args.environment.clone(),
    };
    let mut plan = match load_file(&args.plan, &options) {
        Ok(plan) => plan,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(exit::INVALID_CONFIG));
        }
    };
    if let Some(target) = args.target {
        plan.target = Some(target);
    }
    let start_at = match &args.start_at {
        Some(text) => Some(parse_start_at(text, SystemTime::now())?),
        None => None,
    };
    let mut exec = args.exec;
    if let Some(shard) = args.shard {
        anyhow::ensure!(
            start_at.is_some() || shard.count() == 1,
            "--shard {shard} needs --start-at, so that the shards begin the schedule together"
        );
        let bytes = std::fs::read(&args.plan)
            .with_context(|| format!("reading {}", args.plan.display()))?;
        exec.part = Some(Part {
            shard,
            plan_sha256: format!("{:x}", Sha256::digest(&bytes)),
        });
    }
    exec.start_at = start_at;
    execute(plan, &exec).await
}
