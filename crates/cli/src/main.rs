//! `scalelab`: the command-line front end. Each command is a thin call into the library crates.

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
    /// Run the built-in stress service (/ping, /timeout, /heavy, /stress/cpu, /stress/memory).
    Serve(commands::serve::ServeArgs),
    /// Simulate an autoscaling policy over a traffic shape, in virtual time.
    Sim(commands::sim::SimArgs),
    /// Search policy parameters: simulate a grid in parallel and rank it.
    Sweep(commands::sweep::SweepArgs),
    /// Price a fixed fleet, a weekly schedule or a simulated replica timeline.
    Cost(commands::cost::CostArgs),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Sim(args) => commands::sim::run(args),
            Command::Sweep(args) => commands::sweep::run(args),
            Command::Cost(args) => commands::cost::run(args),
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

/// Logs go to stderr, at `info` for scalelab unless `RUST_LOG` says otherwise.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,scalelab=info,scalelab_target=info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
