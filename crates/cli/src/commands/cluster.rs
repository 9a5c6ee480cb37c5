//! `scalelab cluster CLUSTER.yaml`: replicas behind a load balancer, scaled by their policies; with
//! `--plan`, the plan's load goes through the load balancer and the cluster stops after a cool-down
//! tail, otherwise it runs until Ctrl-C. Every replica is stopped either way.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use scalelab_cluster::{Cluster, ClusterConfig, ClusterError, ClusterOptions};
use scalelab_load::plan::{LoadOptions, load_file};
use tokio_util::sync::CancellationToken;

use super::execute::{ExecArgs, execute_with, exit};

#[derive(Args)]
pub struct ClusterArgs {
    /// The cluster file (YAML or JSON): groups, listener rules, health checks, policies.
    file: PathBuf,
    /// Run this plan through the load balancer (its target becomes the load balancer).
    #[arg(long)]
    plan: Option<PathBuf>,
    /// Scale group GROUP by a policy file instead of its own policy: native, a Kubernetes HPA manifest or
    /// Terraform (.tf file or directory); its min, max and initial become the group's (repeatable).
    #[arg(long = "policy", value_name = "GROUP=FILE", value_parser = super::sim::name_value)]
    policies: Vec<(String, String)>,
    /// How long the cluster keeps running after the plan, so that scale-in can be seen.
    #[arg(long, value_parser = scalelab_config::parse_duration, default_value = "30s")]
    tail: Duration,
    #[command(flatten)]
    exec: ExecArgs,
}

pub async fn run(args: ClusterArgs) -> anyhow::Result<ExitCode> {
    let mut config = match ClusterConfig::from_file(&args.file) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(exit::INVALID_CONFIG));
        }
    };
    for (group, file) in &args.policies {
        let applied = scalelab_policy_io::load_policy(std::path::Path::new(file))
            .map_err(|e| e.to_string())
            .and_then(|policy| config.set_policy(group, policy));
        if let Err(error) = applied {
            eprintln!("error: --policy {group}={file}: {error}");
            return Ok(ExitCode::from(exit::INVALID_CONFIG));
        }
    }
    let plan = match &args.plan {
        Some(path) => match load_file(path, &LoadOptions::default()) {
            Ok(plan) => Some(plan),
            Err(error) => {
                eprintln!("error: {error}");
                return Ok(ExitCode::from(exit::INVALID_CONFIG));
            }
        },
        None => None,
    };
    let interrupted = CancellationToken::new();
    let listener = tokio::spawn({
        let interrupted = interrupted.clone();
        let signal = crate::signals::interrupted();
        async move {
            signal.await;
            interrupted.cancel();
        }
    });
    let options = ClusterOptions {
        serve_program: std::env::current_exe().context("finding the scalelab executable")?,
        out: args.exec.out.clone(),
        // What `sim --against` replays; a plan of virtual users offers none.
        offered_load: plan.as_ref().and_then(|p| p.offered_load().ok()),
        // With a plan, the run's metrics server serves the cluster's gauges too.
        metrics_addr: args.exec.metrics_addr.filter(|_| args.plan.is_none()),
        live: !args.exec.quiet,
        interrupt: interrupted.clone(),
    };
    eprintln!("starting cluster {}", args.file.display());
    let cluster = match Cluster::start(config, options).await {
        Ok(cluster) => cluster,
        Err(ClusterError::Interrupted) => {
            eprintln!("interrupted during the start-up: every replica is stopped");
            results_written(&args.exec);
            return Ok(ExitCode::from(exit::EXTERNAL_ABORT));
        }
        Err(error) => return Err(error).context("starting the cluster"),
    };
    eprintln!("load balancer listening on {}", cluster.url());
    if let Some(addr) = cluster.metrics_addr() {
        eprintln!("cluster metrics on http://{addr}/metrics");
    }
    let code = match plan {
        Some(mut plan) => {
            plan.target = Some(cluster.url());
            let code = execute_with(plan, &args.exec, Some(cluster.exposition())).await;
            if code.is_ok() && !interrupted.is_cancelled() {
                eprintln!("plan done: cool-down tail of {:?}", args.tail);
                tokio::select! {
                    _ = tokio::time::sleep(args.tail) => {}
                    _ = interrupted.cancelled() => {}
                }
            }
            code
        }
        None => {
            eprintln!("running until Ctrl-C");
            interrupted.cancelled().await;
            Ok(ExitCode::SUCCESS)
        }
    };
    eprintln!("stopping every replica");
    cluster.shutdown().await;
    listener.abort();
    if let Some(dir) = &args.exec.out {
        // The report written at the plan's end lacks the cool-down tail: write it again, now that
        // cluster.csv is complete, with the replicas, CPU and memory panels.
        if args.plan.is_some()
            && let Err(error) = scalelab_report::write_html_report(dir)
        {
            eprintln!(
                "warning: the report could not be rebuilt with the cluster's panels: {error}"
            );
        }
    }
    results_written(&args.exec);
    code
}

/// Says where the cluster's files are, when it wrote any.
fn results_written(exec: &ExecArgs) {
    if let Some(dir) = &exec.out {
        eprintln!(
            "cluster.csv, replicas.csv and events.csv in {}",
            dir.display()
        );
    }
}
