//! `scalelab k8s PLAN --parallelism N`: the manifests of a sharded test on Kubernetes;
//! `scalelab k8s collect`: its shards' results copied out and merged.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::{Args, Subcommand};
use scalelab_k8s::{CollectOptions, JobOptions, Toleration, collect, render};
use scalelab_load::plan::{LoadOptions, load_str};
use scalelab_metrics::output::write_atomic;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct K8sArgs {
    #[command(subcommand)]
    command: Option<K8sCommand>,
    #[command(flatten)]
    render: RenderArgs,
}

#[derive(Subcommand)]
enum K8sCommand {
    /// Wait for the Job's shards, copy their results out with kubectl, and merge them.
    Collect(CollectArgs),
}

#[derive(Args)]
struct RenderArgs {
    /// The plan, stored in a ConfigMap and run by every shard.
    #[arg(required = true)]
    plan: Option<PathBuf>,
    /// Shards: pods of the Indexed Job (its completions and parallelism).
    #[arg(long, required = true)]
    parallelism: Option<u64>,
    /// Write configmap.yaml and job.yaml to this directory (else one YAML stream to stdout).
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    job: JobArgs,
    /// Container image with scalelab on PATH (build it with the repository's Dockerfile).
    #[arg(long, default_value = "scalelab:latest")]
    image: String,
    /// Start every shard this long after rendering: apply the manifests within it.
    #[arg(long, default_value = "2m", value_parser = scalelab_config::parse_duration)]
    start_in: Duration,
    /// Base URL every shard sends to (else the plan's target).
    #[arg(long)]
    target: Option<String>,
    /// Loader threads per shard [default: one per CPU the pod sees].
    #[arg(long)]
    threads: Option<usize>,
    /// CPU request and limit of each shard (e.g. 2, 500m).
    #[arg(long)]
    cpu: Option<String>,
    /// Memory request and limit of each shard (e.g. 1Gi).
    #[arg(long)]
    memory: Option<String>,
    /// Schedule shards only on nodes with this label (KEY=VALUE; repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = key_value)]
    node_selector: Vec<(String, String)>,
    /// Tolerate this node taint (KEY[=VALUE]:EFFECT; repeatable).
    #[arg(long, value_name = "TAINT")]
    toleration: Vec<Toleration>,
    /// How long a finished shard keeps its results for `k8s collect` before its pod ends.
    #[arg(long, default_value = "1h", value_parser = scalelab_config::parse_duration)]
    collect_within: Duration,
}

/// The Job both commands name.
#[derive(Args)]
struct JobArgs {
    /// Name of the Job (its ConfigMap is NAME-plan).
    #[arg(long, default_value = "scalelab")]
    name: String,
    #[arg(long, short = 'n', default_value = "default")]
    namespace: String,
}

#[derive(Args)]
struct CollectArgs {
    #[command(flatten)]
    job: JobArgs,
    /// The Job's number of shards.
    #[arg(long)]
    parallelism: u64,
    /// Shard I's results go to OUT/shard-I, the merge to OUT/merged.
    #[arg(long)]
    out: PathBuf,
    /// How long to wait for all the shards to finish, in total: run collect once the test is about
    /// over, or give it the test's remaining time.
    #[arg(long, default_value = "5m", value_parser = scalelab_config::parse_duration)]
    timeout: Duration,
    /// Merge even if a shard is missing (it is listed in the summary).
    #[arg(long)]
    allow_partial: bool,
    /// The kubectl program to use.
    #[arg(long, default_value = "kubectl")]
    kubectl: PathBuf,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("'{text}': expected KEY=VALUE"))
}

pub fn run(args: K8sArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(K8sCommand::Collect(args)) => collect_and_merge(args),
        None => render_manifests(args.render),
    }
}

fn render_manifests(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let plan_path = args.plan.expect("required by clap");
    let plan = scalelab_config::read_text_bounded(&plan_path, scalelab_config::MAX_CONFIG_BYTES)
        .with_context(|| format!("reading {}", plan_path.display()))?;
    anyhow::ensure!(
        (Duration::from_secs(10)..=Duration::from_secs(24 * 3600)).contains(&args.start_in),
        "--start-in must be between 10s and 24h"
    );
    let origin = plan_path.display().to_string();
    if args.target.is_none()
        && let Ok(loaded) = load_str(&plan, &origin, &LoadOptions::default())
        && loaded.target.is_none()
    {
        eprintln!(
            "warning: {origin} names no target and --target is not given: each pod would load \
             the embedded stress service inside itself, not your service"
        );
    }
    let options = JobOptions {
        name: args.job.name,
        namespace: args.job.namespace,
        image: args.image,
        parallelism: args.parallelism.expect("required by clap"),
        plan_name: plan_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        plan,
        start_at: SystemTime::now() + args.start_in,
        target: args.target,
        threads: args.threads,
        cpu: args.cpu,
        memory: args.memory,
        node_selector: args.node_selector,
        tolerations: args.toleration,
        collect_within_seconds: args.collect_within.as_secs(),
    };
    let manifests = render(&options)?;
    match args.out {
        Some(dir) => {
            for (name, yaml) in &manifests.0 {
                let path = dir.join(name);
                write_atomic(&path, yaml.as_bytes())
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("{}", path.display());
            }
        }
        None => print!("{}", manifests.joined()),
    }
    eprintln!(
        "shards start at {}: apply before then (kubectl apply -f …)",
        humantime::format_rfc3339_seconds(options.start_at)
    );
    Ok(ExitCode::SUCCESS)
}

fn collect_and_merge(args: CollectArgs) -> anyhow::Result<ExitCode> {
    let dirs = collect(
        &CollectOptions {
            name: args.job.name,
            namespace: args.job.namespace,
            parallelism: args.parallelism,
            out: args.out.clone(),
            timeout: args.timeout,
            kubectl: args.kubectl,
        },
        &mut |line| eprintln!("{line}"),
    )?;
    super::merge::merge_into(&dirs, &args.out.join("merged"), args.allow_partial, None)
}
