//! `scalelab`: the command-line front end. Each command is a thin call into the library crates.

// First: its print!/println! replace std's in every module declared after it.
#[macro_use]
mod output;

mod args;
mod commands;
mod files;
mod signals;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Performance-engineering workbench: stress target, load generator, autoscaling simulator.
#[derive(Parser)]
#[command(name = "scalelab", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find a server's limit with an open-model staircase; fit its capacity model; characterize it.
    Capacity(commands::capacity::CapacityArgs),
    /// Compare two results directories; with --fail-if, exit 99 on a regression.
    Compare(commands::compare::CompareArgs),
    /// Start the embedded stress service, run a 20 s plan against it, print the summary.
    Demo(commands::demo::DemoArgs),
    /// Fit the capacity model of an earlier run from its server's CPU series.
    Fit(commands::fit::FitArgs),
    /// What a plan or k6 script would run (scenarios, max VUs, max duration), without running it.
    Inspect(commands::inspect::InspectArgs),
    /// Write a ready plan of a test type (load, stress, spike, soak, breakpoint, scalability).
    Plan(commands::plan::PlanArgs),
    /// Kubernetes manifests of a sharded test (an Indexed Job); `k8s collect` fetches and merges.
    K8s(commands::k8s::K8sArgs),
    /// Merge the results of a test's shards (run --shard I/N) into one run's results.
    Merge(commands::merge::MergeArgs),
    /// A one-line load test of one URL, like hey or oha.
    Quick(commands::quick::QuickArgs),
    /// Run a plan: native, k6 options or Artillery (the embedded service when it names no target).
    Run(commands::run::RunArgs),
    /// Rebuild report.html in a results directory from its files.
    Report(commands::report::ReportArgs),
    /// Run the built-in stress service (/ping, /timeout, /heavy, /stress/cpu, /stress/memory).
    Serve(commands::serve::ServeArgs),
    /// Simulate an autoscaling policy over a traffic shape, in virtual time.
    Sim(commands::sim::SimArgs),
    /// Search policy parameters: simulate a grid in parallel and rank it.
    Sweep(commands::sweep::SweepArgs),
    /// Write a policy as Terraform (AWS Auto Scaling), a Kubernetes HPA or Elastic Beanstalk settings.
    Export(commands::export::ExportArgs),
    /// Price a fixed fleet, a weekly schedule or a simulated replica timeline.
    Cost(commands::cost::CostArgs),
    /// Replicas behind an L7 load balancer, scaled by their policies; with --plan, load through it.
    Cluster(commands::cluster::ClusterArgs),
    /// Run a cluster replica's command, killed when the cluster dies (used by `scalelab cluster`).
    #[command(hide = true)]
    Replica(commands::replica::ReplicaArgs),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    raise_open_files_limit();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Capacity(args) => commands::capacity::run(args).await,
            Command::Compare(args) => commands::compare::run(args),
            Command::Demo(args) => commands::demo::run(args).await,
            Command::Fit(args) => commands::fit::run(args),
            Command::Inspect(args) => commands::inspect::run(args),
            Command::Plan(args) => commands::plan::run(args),
            Command::K8s(args) => commands::k8s::run(args),
            Command::Merge(args) => commands::merge::run(args),
            Command::Quick(args) => commands::quick::run(args).await,
            Command::Run(args) => commands::run::run(args).await,
            Command::Report(args) => commands::report::run(args),
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Sim(args) => commands::sim::run(args),
            Command::Sweep(args) => commands::sweep::run(args),
            Command::Export(args) => commands::export::run(args),
            Command::Cost(args) => commands::cost::run(args),
            Command::Cluster(args) => commands::cluster::run(args).await,
            Command::Replica(args) => commands::replica::run(args),
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Each virtual user holds a connection: lift the soft limit on open files to the hard limit.
fn raise_open_files_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE)
        && soft < hard
        && let Err(error) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard)
    {
        tracing::debug!(%error, "cannot raise the open-files limit");
    }
}

/// Logs go to stderr, at `info` for scalelab unless `RUST_LOG` says otherwise; a log line stderr
/// cannot take is lost (reporting that would go to stderr too, whose failure std makes a panic).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
