//! Replica processes: each runs in its own process group, so that stopping it (SIGTERM, then SIGKILL
//! after the grace period) reaches every process it started, and dropping it kills the whole group.
//! Every replica is started by the `scalelab` executable (`serve`, or `replica` wrapping a custom
//! command), which dies with the cluster; its stderr goes to a file, whose last lines say why it exited.

use std::io::{Read, Seek, SeekFrom};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
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
    /// Where its stderr goes.
    pub stderr: PathBuf,
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
    #[error("cannot create {path}: {source}")]
    Log {
        path: String,
        source: std::io::Error,
    },
}

/// How replicas are started: the `scalelab` executable, and the stress caps of each group's
/// embedded replicas.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// The `scalelab` executable, whose `serve` and `replica` commands run the replicas.
    pub program: PathBuf,
    /// Where each replica's stderr is kept, as `<group>-<id>.stderr`.
    pub logs: PathBuf,
}

/// The command line of a group's replica on `port`; `caps` are the stress caps of an embedded one.
pub fn command_line(
    group: &GroupConfig,
    serve_program: &Path,
    port: u16,
    caps: &[String],
) -> Vec<String> {
    match &group.command {
        // The wrapper kills the command when this process dies, even by SIGKILL.
        Some(words) => [
            serve_program.display().to_string(),
            "replica".into(),
            "--parent-pid".into(),
            std::process::id().to_string(),
            "--".into(),
        ]
        .into_iter()
        .chain(words.iter().map(|w| w.replace("{port}", &port.to_string())))
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
        .chain(caps.iter().cloned())
        .collect(),
    }
}

impl Replica {
    /// Starts a replica of `group` on a free loopback port.
    pub fn launch(
        id: u64,
        group: &GroupConfig,
        launcher: &Launcher,
        caps: &[String],
    ) -> Result<Self, LaunchError> {
        let port = free_port().map_err(LaunchError::Port)?;
        let words = command_line(group, &launcher.program, port, caps);
        let stderr = launcher.logs.join(format!("{}-{id}.stderr", group.name));
        let log = std::fs::File::create(&stderr).map_err(|source| LaunchError::Log {
            path: stderr.display().to_string(),
            source,
        })?;
        let child = Command::new(&words[0])
            .args(&words[1..])
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
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
            stderr,
            health_stop: CancellationToken::new(),
        })
    }

    /// The exit status, if the process has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Why it exited: `status` and the last lines of its stderr.
    pub fn exit_reason(&self, status: std::process::ExitStatus) -> String {
        match last_lines(&self.stderr, 5) {
            Some(lines) => format!("{status}; stderr: {lines}"),
            None => format!("{status}; nothing on stderr"),
        }
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

/// The last `count` non-empty lines of the file at `path` (read from its last 4 KiB), joined by
/// ` | `; `None` when there are none.
fn last_lines(path: &Path, count: usize) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let length = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(4096)))
        .ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let text = String::from_utf8_lossy(&tail);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let last = &lines[lines.len().saturating_sub(count)..];
    (!last.is_empty()).then(|| last.join(" | "))
}

/// A port free on 127.0.0.1 right now (the replica binds it a moment later).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}
