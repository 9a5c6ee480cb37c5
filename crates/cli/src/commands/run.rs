//! `scalelab run PLAN`: a native, k6 or Artillery plan, or a k6 script, against its target (or the
//! embedded service).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::Context;
use clap::Args;
use scalelab_load::engine::parse_start_at;
use scalelab_load::plan::{LoadOptions, Plan, load_file};
use scalelab_shape::Shard;
use sha2::{Digest, Sha256};

use scalelab_script::Script;

use super::execute::{ExecArgs, Part, execute, execute_script, exit};

/// Whether `path` is a k6 script (JavaScript) rather than a plan file.
fn is_script(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["js", "mjs", "cjs"].contains(&e.to_ascii_lowercase().as_str()))
}

/// The plan or script `run` and `inspect` read, with its `-e` values and `--target`.
#[derive(Args)]
pub struct Source {
    /// The plan: native scalelab, k6 options (JSON or YAML), an Artillery script, or a k6 script
    /// (`.js`).
    plan: PathBuf,
    /// `KEY=VALUE`: a variable of a k6 script's `__ENV` (repeatable); `NAME` (no `=`): the
    /// Artillery environment to use (config.environments.NAME).
    #[arg(short = 'e', long, value_name = "KEY=VALUE|NAME")]
    environment: Vec<String>,
    /// Send the load to this base URL instead of the plan's target.
    #[arg(long)]
    target: Option<String>,
}

/// What a source loads to: a plan, or a k6 script (which holds its plan, from its `options`).
pub enum Loaded {
    Plan(Plan),
    Script(Box<Script>),
}

impl Loaded {
    /// The plan, of the script's options for a script.
    pub fn plan(&self) -> &Plan {
        match self {
            Loaded::Plan(plan) => plan,
            Loaded::Script(script) => &script.plan,
        }
    }
}

impl Source {
    /// Loads the plan or script. An invalid one is printed and given as exit code 104 (k6's).
    pub fn load(&self) -> anyhow::Result<Result<Loaded, ExitCode>> {
        let (vars, names): (Vec<&String>, Vec<&String>) =
            self.environment.iter().partition(|e| e.contains('='));
        anyhow::ensure!(
            names.len() <= 1,
            "-e {}: one Artillery environment at most (k6 variables are KEY=VALUE)",
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let invalid = |error: &dyn std::fmt::Display| {
            eprintln!("error: {error}");
            Ok(Err(ExitCode::from(exit::INVALID_CONFIG)))
        };
        if is_script(&self.plan) {
            anyhow::ensure!(
                names.is_empty(),
                "-e {}: a k6 script takes KEY=VALUE variables, not an Artillery environment",
                names[0]
            );
            let mut env: Vec<(String, String)> = std::env::vars().collect();
            env.extend(
                vars.iter()
                    .filter_map(|v| v.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned())),
            );
            let mut script = match Script::load(&self.plan, env) {
                Ok(script) => script,
                Err(error) => return invalid(&error),
            };
            if let Some(target) = &self.target {
                script.plan.target = Some(target.clone());
            }
            return Ok(Ok(Loaded::Script(Box::new(script))));
        }
        anyhow::ensure!(
            vars.is_empty(),
            "-e {}: KEY=VALUE variables are for k6 scripts (.js)",
            vars[0]
        );
        let options = LoadOptions {
            environment: names.first().map(|n| n.to_string()),
            target: self.target.clone(),
        };
        match load_file(&self.plan, &options) {
            Ok(plan) => Ok(Ok(Loaded::Plan(plan))),
            Err(error) => invalid(&error),
        }
    }
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    source: Source,
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
    let plan = match args.source.load()? {
        Err(code) => return Ok(code),
        Ok(Loaded::Script(script)) => {
            anyhow::ensure!(
                args.shard.is_none(),
                "--shard is not supported with k6 scripts yet"
            );
            script.check_stacks()?;
            return execute_script(*script, &args.exec).await;
        }
        Ok(Loaded::Plan(plan)) => plan,
    };
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
        let path = &args.source.plan;
        let bytes = scalelab_config::read_bounded(path, scalelab_config::MAX_CONFIG_BYTES)
            .with_context(|| format!("reading {}", path.display()))?;
        exec.part = Some(Part {
            shard,
            plan_sha256: format!("{:x}", Sha256::digest(&bytes)),
        });
    }
    exec.start_at = start_at;
    execute(plan, &exec).await
}
