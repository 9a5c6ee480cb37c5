//! `scalelab inspect PLAN`: what a plan or k6 script would run — its scenarios, the most VUs at
//! once and the longest it may last — without sending anything (k6's `inspect
//! --execution-requirements`).

use std::process::ExitCode;

use clap::Args;
use scalelab_load::engine::CompiledPlan;
use scalelab_shape::Shard;

use super::run::{Loaded, Source};

#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    source: Source,
    /// Print JSON, with k6's `maxVUs` and `totalDuration`, instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let loaded = match args.source.load()? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    // Resolved against the plan's target, or a stand-in for the embedded service: nothing is sent.
    let plan = loaded.plan();
    let base = plan
        .target
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1".to_owned());
    let compiled = match &loaded {
        Loaded::Plan(plan) => CompiledPlan::new(plan, &base),
        Loaded::Script(script) => script.compile(&base),
    };
    let compiled = match compiled {
        Ok(compiled) => compiled,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(super::execute::exit::INVALID_CONFIG));
        }
    };
    let max_vus = compiled.max_vus(Shard::WHOLE);
    let planned = compiled.planned_vus(Shard::WHOLE);
    let total = compiled.max_duration();
    if args.json {
        let scenarios: Vec<serde_json::Value> = compiled
            .scenarios
            .iter()
            .map(|s| {
                serde_json::json!({
                    "name": s.name,
                    "executor": s.executor.kind(),
                    "description": s.executor.describe(),
                    "startTime": scalelab_config::format_duration(s.start_time),
                    "gracefulStop": scalelab_config::format_duration(s.graceful_stop),
                })
            })
            .collect();
        let document = serde_json::json!({
            "scenarios": scenarios,
            "maxVUs": max_vus,
            "plannedVUs": planned,
            "totalDuration": scalelab_config::format_duration(total),
        });
        println!("{}", serde_json::to_string_pretty(&document)?);
    } else {
        print!("{}", compiled.banner());
        let most = max_vus.map_or_else(
            || "no bound (maxVusers unset)".to_owned(),
            |n| n.to_string(),
        );
        println!("    max VUs: {most} ({planned} made before the start, as k6 plans them)");
        println!(
            "    max duration: {} (incl. graceful stop)",
            scalelab_config::format_duration(total)
        );
    }
    Ok(ExitCode::SUCCESS)
}
