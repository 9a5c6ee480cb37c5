//! `scalelab serve`: the stress service in the foreground until Ctrl-C or SIGTERM.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use scalelab_stress::{Mode, TargetConfig, TargetError};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 (the default) picks a free port, printed once listening.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Port to listen on, overriding the port of --listen (read from PORT as Flask and Node services do).
    #[arg(long, env = "PORT")]
    port: Option<u16>,
    /// async: serve every request concurrently; sync: at most --workers at once.
    #[arg(long, value_enum, default_value_t = ModeArg::Async)]
    mode: ModeArg,
    /// Requests served at once in sync mode.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Requests that may wait for a worker in sync mode; more get 503.
    #[arg(long, default_value_t = 64)]
    backlog: usize,
    /// Require 'Authorization: Bearer TOKEN' on /stress/*.
    #[arg(long, env = "SCALELAB_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Seed for the random stress percent, for reproducible runs.
    #[arg(long)]
    seed: Option<u64>,
    /// Most memory all memory-stress jobs may hold together [default: half of available memory].
    #[arg(long, value_parser = crate::args::bytes)]
    memory_cap: Option<u64>,
    /// Most CPU all CPU-stress jobs may burn together, in % of all cores.
    #[arg(long, default_value_t = 100.0)]
    cpu_cap: f64,
    /// How long in-flight requests may finish after Ctrl-C or SIGTERM.
    #[arg(long, value_parser = scalelab_config::parse_duration, default_value = "10s")]
    grace: Duration,
    /// Disconnect a client that sends no complete request head for this long (slow or idle clients).
    #[arg(long, value_parser = scalelab_config::parse_duration, default_value = "10s")]
    header_timeout: Duration,
    /// Stop (as on SIGTERM) when process PID, the parent, dies: how `scalelab cluster` starts replicas.
    #[arg(long, hide = true, value_name = "PID")]
    parent_pid: Option<u32>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Async,
    Sync,
}

impl ServeArgs {
    fn config(&self) -> TargetConfig {
        let mut listen = self.listen;
        if let Some(port) = self.port {
            listen.set_port(port);
        }
        TargetConfig {
            listen,
            mode: match self.mode {
                ModeArg::Async => Mode::Async,
                ModeArg::Sync => Mode::Sync {
                    workers: self.workers,
                    backlog: self.backlog,
                },
            },
            token: self.token.clone(),
            seed: self.seed,
            memory_cap: self.memory_cap,
            cpu_cap: self.cpu_cap,
            grace: self.grace,
            header_timeout: self.header_timeout,
        }
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(parent) = args.parent_pid {
        nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
        if nix::unistd::getppid().as_raw() as u32 != parent {
            // The parent died before the death signal was armed.
            return Ok(ExitCode::SUCCESS);
        }
    }
    let config = args.config();
    if !config.listen.ip().is_loopback() && config.token.is_none() {
        tracing::warn!(
            "listening on {} without --token: anyone who reaches it can start stress jobs",
            config.listen
        );
    }
    let target = scalelab_stress::start(config)
        .await
        .map_err(|error| match &error {
            TargetError::Bind { source, .. } if source.kind() == ErrorKind::AddrInUse => {
                anyhow::anyhow!(
                    "{error}: choose another port with --port N (or PORT=N); --port 0 picks a free one"
                )
            }
            _ => error.into(),
        })?;
    let stop = crate::signals::interrupted();
    println!("scalelab stress service listening on {}", target.url());
    stop.await;
    println!("shutting down: draining in-flight requests");
    target.shutdown().await?;
    println!("stopped");
    Ok(ExitCode::SUCCESS)
}
