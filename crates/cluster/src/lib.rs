//! A live cluster on one machine: groups of replica processes behind an L7 load balancer, health
//! checked, self-healing, and scaled by the `scaling` crate's [`scalelab_scaling::Autoscaler`] on the
//! CPU, memory, request rate and in-flight requests measured every second.
//!
//! - [`config`]: the cluster file.
//! - [`balancer`]: listener rules, round robin / least outstanding requests, 502/503/504.
//! - [`supervisor`] and [`group`]: replica processes and their life cycle.
//! - [`health`], [`sampler`]: health checks; CPU and memory from /proc.
//! - [`autoscale`]: the per-second control loop; [`recorder`], [`events`]: its output; its gauges are
//!   served with `scalelab_report`'s Prometheus [`Exposition`].
//! - [`results`]: what `sim --against` reads of a run (offered load, policies, start-up times).

pub mod autoscale;
pub mod balancer;
pub mod config;
pub mod events;
pub mod group;
pub mod health;
pub mod recorder;
pub mod results;
pub mod sampler;
pub mod supervisor;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scalelab_report::{Exposition, serve_metrics};
use scalelab_scaling::Autoscaler;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

pub use config::{ClusterConfig, ConfigError};
pub use events::{Event, EventKind};
pub use group::{GroupStatus, ReplicaStatus};

use crate::autoscale::Controller;
use crate::balancer::Balancer;
use crate::events::EventLog;
use crate::group::GroupRuntime;
use crate::recorder::Recorder;

/// Why the cluster could not start.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("load balancer on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("results in {dir}: {source}")]
    Results { dir: String, source: std::io::Error },
    #[error("group '{group}': {message}")]
    Group { group: String, message: String },
    #[error("stress caps: {0}")]
    Caps(String),
    #[error("interrupted during the start-up")]
    Interrupted,
}

/// How to run a cluster, beside its file.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The `scalelab` executable: its `serve` command runs the stress service replicas, its hidden
    /// `replica --parent-pid PID -- COMMAND...` the custom commands (a test may give a stand-in).
    pub serve_program: PathBuf,
    /// Where `cluster.csv`, `replicas.csv`, `events.csv`, each replica's stderr
    /// (`replicas/<group>-<id>.stderr`) and [`results`]' inputs of `sim --against` go.
    pub out: Option<PathBuf>,
    /// The plan's offered load (requests per second), written to the results for `sim --against`.
    pub offered_load: Option<scalelab_shape::Shape>,
    /// Where to serve the cluster's metrics to Prometheus.
    pub metrics_addr: Option<SocketAddr>,
    /// Print events to stderr as they happen.
    pub live: bool,
    /// Cancelled (Ctrl-C) during the start-up, it ends it: the replicas launched so far are stopped,
    /// the start-up's events written, and [`Cluster::start`] returns [`ClusterError::Interrupted`].
    pub interrupt: CancellationToken,
}

/// A running cluster; [`Cluster::shutdown`] stops every replica (dropping it kills them).
pub struct Cluster {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    exposition: Arc<Exposition>,
    stop: CancellationToken,
    controller: JoinHandle<()>,
    events: Arc<EventLog>,
    status: watch::Receiver<Vec<GroupStatus>>,
    /// The replicas' stderr files, without `out`: removed with the cluster.
    _logs: Option<tempfile::TempDir>,
}

impl Cluster {
    /// Starts the load balancer and every group's initial replicas, and returns once they are all in
    /// service; the cluster's clock starts then. If they do not come up, or `options.interrupt` is
    /// cancelled first, the replicas are stopped and the results hold the start-up's events (stamped
    /// before a clock started then) and the per-second files' headers.
    pub async fn start(
        config: ClusterConfig,
        options: ClusterOptions,
    ) -> Result<Self, ClusterError> {
        let results = |source| ClusterError::Results {
            dir: options
                .out
                .as_ref()
                .map(|dir| dir.display().to_string())
                .unwrap_or_default(),
            source,
        };
        let events =
            Arc::new(EventLog::new(options.out.as_deref(), options.live).map_err(results)?);
        let recorder = match &options.out {
            Some(dir) => {
                results::write_inputs(dir, &config, options.offered_load.as_ref())
                    .map_err(results)?;
                Some(Recorder::create(dir).map_err(results)?)
            }
            None => None,
        };
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ClusterError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ClusterError::Listen {
                addr: config.listen,
                source,
            })?;
        let metrics = match options.metrics_addr {
            Some(metrics_addr) => {
                let listener = TcpListener::bind(metrics_addr).await.map_err(|source| {
                    ClusterError::Listen {
                        addr: metrics_addr,
                        source,
                    }
                })?;
                let bound = listener.local_addr().ok();
                Some((listener, bound))
            }
            None => None,
        };
        let (logs, temporary_logs) = match &options.out {
            Some(dir) => {
                let logs = dir.join("replicas");
                std::fs::create_dir_all(&logs).map_err(results)?;
                (logs, None)
            }
            None => {
                let temporary = tempfile::tempdir().map_err(results)?;
                (temporary.path().to_owned(), Some(temporary))
            }
        };
        let launcher = supervisor::Launcher {
            program: options.serve_program.clone(),
            logs,
        };
        let caps = config
            .stress_caps(stress_memory_bytes())
            .map_err(ClusterError::Caps)?;
        let client = balancer::backend_client();
        let balancer = Arc::new(Balancer::new(&config, client.clone(), events.clone()));
        let mut groups: Vec<GroupRuntime> = config
            .groups
            .iter()
            .zip(balancer.pools())
            .zip(caps)
            .map(|((group, pool), caps)| {
                GroupRuntime::new(
                    group.clone(),
                    pool.clone(),
                    launcher.clone(),
                    caps,
                    client.clone(),
                    events.clone(),
                )
            })
            .collect();
        let mut autoscalers = Vec::with_capacity(groups.len());
        for group in &config.groups {
            let autoscaler = match group.policy() {
                Some(policy) => Some(Autoscaler::new(policy).map_err(|e| ClusterError::Group {
                    group: group.name.clone(),
                    message: e.to_string(),
                })?),
                None => None,
            };
            autoscalers.push(autoscaler);
        }
        let mut next_replica = 0;
        if let Err(error) =
            wait_until_in_service(&mut groups, &mut next_replica, &options.interrupt).await
        {
            // The start-up's events are written even so, stamped before the failure.
            events.start_clock();
            return Err(error);
        }
        let stop = CancellationToken::new();
        tokio::spawn(balancer::serve(balancer, listener, stop.clone()));
        let exposition = Arc::new(Exposition::default());
        let metrics_addr = match metrics {
            Some((listener, bound)) => {
                let served = serve_metrics(exposition.clone(), listener, stop.clone());
                tokio::spawn(async move {
                    if let Err(error) = served.await {
                        tracing::warn!(%error, "the metrics server stopped");
                    }
                });
                bound
            }
            None => None,
        };
        let (status_sender, status) = watch::channel(Vec::new());
        let zero = events.start_clock();
        let controller = Controller {
            groups,
            autoscalers,
            events: events.clone(),
            recorder,
            metrics: exposition.cluster_metrics(),
            status: status_sender,
            next_replica,
        };
        let controller = tokio::spawn(controller.run(zero, stop.clone()));
        Ok(Self {
            addr,
            metrics_addr,
            exposition,
            stop,
            controller,
            events,
            status,
            _logs: temporary_logs,
        })
    }

    /// The load balancer's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The registry of the cluster's gauges, for the run's metrics to join (with `--plan`).
    pub fn exposition(&self) -> Arc<Exposition> {
        self.exposition.clone()
    }

    /// Where Prometheus can scrape `/metrics`, when asked for.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Every scaling and health event so far.
    pub fn events(&self) -> Vec<Event> {
        self.events.events()
    }

    /// Every group over the last second.
    pub fn status(&self) -> Vec<GroupStatus> {
        self.status.borrow().clone()
    }

    /// Waits for the measurements of the next second to end.
    pub async fn next_second(&mut self) -> Vec<GroupStatus> {
        self.status.mark_unchanged();
        let _ = self.status.changed().await;
        self.status.borrow_and_update().clone()
    }

    /// Stops the load balancer and every replica (SIGTERM, SIGKILL after each group's grace).
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.controller.await;
    }
}

/// What all embedded replicas together may stress: half the available memory, as one `scalelab
/// serve` takes by default.
fn stress_memory_bytes() -> u64 {
    use procfs::Current;
    procfs::Meminfo::current()
        .map(|m| m.mem_available.unwrap_or(m.mem_free) / 2)
        .unwrap_or(0)
}

/// Launches every group's initial replicas and waits until they pass their health checks (within the
/// longest start-up grace, replacing any that exit meanwhile), or until `interrupt`.
async fn wait_until_in_service(
    groups: &mut [GroupRuntime],
    next_replica: &mut u64,
    interrupt: &CancellationToken,
) -> Result<(), ClusterError> {
    let started = Instant::now();
    let longest_grace = groups
        .iter()
        .map(|g| g.config.startup_grace)
        .max()
        .unwrap_or_default();
    let mut stopping = JoinSet::new();
    let result = loop {
        for group in groups.iter_mut() {
            group.heal(&mut stopping);
            group.reconcile(next_replica, &mut stopping);
        }
        let waiting = groups.iter().find(|g| g.in_service() < g.desired);
        match waiting {
            None => break Ok(()),
            Some(group) if started.elapsed() > longest_grace + Duration::from_secs(1) => {
                let why = match &group.last_exit {
                    Some(reason) => format!("; the last replica to exit: {reason}"),
                    None => String::new(),
                };
                break Err(ClusterError::Group {
                    group: group.name().to_owned(),
                    message: format!(
                        "{} of {} replicas passed their health check within {:?}{why}",
                        group.in_service(),
                        group.desired,
                        started.elapsed()
                    ),
                });
            }
            Some(_) => tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                _ = interrupt.cancelled() => break Err(ClusterError::Interrupted),
            },
        }
    };
    if result.is_err() {
        for group in groups.iter_mut() {
            group.stop_all(&mut stopping);
        }
    }
    while stopping.join_next().await.is_some() {}
    result
}
