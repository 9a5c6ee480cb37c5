//! Replica processes: each runs in its own process group, so that stopping it (SIGTERM, then SIGKILL
//! after the grace period) reaches every process it started, and dropping it kills the whole group.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio_util::sync::CancellationToken;

use crate::balancer::Backend;
use crate::config::GroupConfig;

/// Where a replica is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Started; not yet passed its health check.
    Pending,
    /// Passed its health check once; counts as capacity.
    InService,
    /// Deregistered; finishing its in-flight requests before it is stopped.
    Draining { since: Instant },
}

/// One running replica.
#[derive(Debug)]
pub struct Replica {
    pub id: u64,
    pub backend: Arc<Backend>,
    pub phase: Phase,
    pub launched: Instant,
    /// Process id, which is also the process group id of everything it starts.
    pub pid: u32,
    child: Child,
    /// Stops the replica's health checks.
    pub health_stop: CancellationToken,
}

/// Why a replica could not start.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("no free port on 127.0.0.1: {0}")]
    Port(std::io::Error),
    #[error("cannot start '{program}': {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
}

/// The command line of a group's replica on `port`.
pub fn command_line(
    group: &GroupConfig,
    serve_program: &std::path::Path,
    port: u16,
) -> Vec<String> {
    match &group.command {
        Some(words) => words
            .iter()
            .map(|w| w.replace("{port}", &port.to_string()))
            .collect(),
        None => [
            serve_program.display().to_string(),
            "serve".into(),
            "--listen".into(),
            format!("127.0.0.1:{port}"),
            // The replica stops if this process dies without stopping it (SIGKILL, crash).
            "--parent-pid".into(),
            std::process::id().to_string(),
        ]
        .into_iter()
        .chain(group.serve.iter().cloned())
        .collect(),
    }
}

impl Replica {
    /// Starts a replica of `group` on a free loopback port.
    pub fn launch(id: u64, group: &GroupConfig, serve_program: &Path) -> Result<Self, LaunchError> {
        let port = free_port().map_err(LaunchError::Port)?;
        let words = command_line(group, serve_program, port);
        let child = Command::new(&words[0])
            .args(&words[1..])
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| LaunchError::Spawn {
                program: words[0].clone(),
                source,
            })?;
        let pid = child.id().expect("a child just spawned has a pid");
        Ok(Self {
            id,
            backend: Arc::new(Backend::new(id, SocketAddr::from(([127, 0, 0, 1], port)))),
            phase: Phase::Pending,
            launched: Instant::now(),
            pid,
            child,
            health_stop: CancellationToken::new(),
        })
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the replica's process group: SIGTERM, then SIGKILL after `grace`.
    pub async fn stop(mut self, grace: Duration) {
        self.health_stop.cancel();
        let group = Pid::from_raw(self.pid as i32);
        let _ = killpg(group, Signal::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait())
            .await
            .is_err()
        {
            let _ = killpg(group, Signal::SIGKILL);
            let _ = self.child.wait().await;
        }
        // Whatever the leader left behind in its group goes with it.
        let _ = killpg(group, Signal::SIGKILL);
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.health_stop.cancel();
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = killpg(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
        }
    }
}

/// A port free on 127.0.0.1 right now (the replica binds it a moment later).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
