//! The stress service: an HTTP target that behaves like the services people load-test.
//!
//! | endpoint | behaviour |
//! | --- | --- |
//! | `GET /ping` | answers at once |
//! | `GET /timeout?ms=` | waits `ms` without using CPU (I/O-bound) |
//! | `GET /heavy?ms=` | burns `ms` of thread CPU time (CPU-bound) |
//! | `GET /stress/cpu?percent=&seconds=` | background duty-cycled load on every core |
//! | `GET /stress/memory?percent=&seconds=` | allocates, touches and holds a share of physical memory |
//! | `GET /health` | 200 while accepting work, 503 while draining |
//! | `GET /metrics` | Prometheus text exposition |
//!
//! [`start`] runs the service in-process on any address (port 0 allowed) and returns a [`RunningTarget`].

mod config;
mod handlers;
mod metrics;
mod params;
mod process;
mod stress;
mod workers;

pub use config::{Mode, TargetConfig};
pub use process::{ProcessUsage, process_usage, thread_cpu_time};

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

/// Shared state of one running service.
pub(crate) struct AppState {
    pub config: TargetConfig,
    pub draining: AtomicBool,
    pub metrics: metrics::Metrics,
    pub stress: Arc<stress::StressJobs>,
    pub rng: std::sync::Mutex<rand::rngs::StdRng>,
}

/// A service started by [`start`]: its bound address and the means to stop it.
pub struct RunningTarget {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: CancellationToken,
    server: JoinHandle<Result<(), TargetError>>,
}

/// A cloneable handle that begins a graceful shutdown of a [`RunningTarget`].
#[derive(Clone, Debug)]
pub struct ShutdownHandle(CancellationToken);

impl ShutdownHandle {
    /// Begin draining: stress jobs stop, in-flight requests finish (within the grace period) and,
    /// until they have, each new connection gets one 503 (`/health` included); then the listener
    /// closes.
    pub fn shutdown(&self) {
        self.0.cancel();
    }
}

impl RunningTarget {
    /// The address the service listens on (with the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the service, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A handle that can stop the service from elsewhere (a signal handler, another task).
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.stop.clone())
    }

    /// Stop gracefully and wait until in-flight requests finished (or the grace period ran out).
    pub async fn shutdown(self) -> Result<(), TargetError> {
        self.stop.cancel();
        self.wait().await
    }

    /// Wait until the service has stopped (after a [`ShutdownHandle::shutdown`]).
    pub async fn wait(self) -> Result<(), TargetError> {
        let result = match self.server.await {
            Ok(result) => result,
            Err(join) => Err(TargetError::Serve(std::io::Error::other(join))),
        };
        self.state.stress.stop_all();
        result
    }
}

/// Start the stress service on `config.listen` and return once it accepts connections.
pub async fn start(config: TargetConfig) -> Result<RunningTarget, TargetError> {
    config.validate()?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| TargetError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(TargetError::Serve)?;
    let stress = Arc::new(stress::StressJobs::new(
        config.memory_cap_bytes(),
        config.cpu_cap,
    ));
    let state = Arc::new(AppState {
        metrics: metrics::Metrics::new(stress.gauges.clone()),
        stress,
        draining: AtomicBool::new(false),
        rng: std::sync::Mutex::new(config.rng()),
        config,
    });
    let stop = CancellationToken::new();
    let app = router(state.clone());
    let grace = state.config.grace;
    let server = tokio::spawn(serve(listener, app, state.clone(), stop.clone(), grace));
    tracing::info!(%addr, mode = %state.config.mode, "stress service listening");
    Ok(RunningTarget {
        addr,
        state,
        stop,
        server,
    })
}

/// Serves `app` until `stop`, then lets open connections finish their requests for up to `grace`,
/// answering new connections once each meanwhile (503: draining). A client that does not send a
/// request head within the header timeout (counted from the connection's start or its previous
/// response) is disconnected: slow and idle clients cannot hold the service's connections.
async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    stop: CancellationToken,
    grace: Duration,
) -> Result<(), TargetError> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(state.config.header_timeout)
        .keep_alive_timeout(state.config.header_timeout);
    let builder = Arc::new(builder);
    let connections = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            accepted = accept(&listener) => accepted,
            _ = stop.cancelled() => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let (builder, stop) = (builder.clone(), stop.clone());
        connections.spawn(async move {
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = stop.cancelled() => connection.as_mut().graceful_shutdown(),
            }
            let _ = connection.await;
        });
    }
    state.draining.store(true, Ordering::SeqCst);
    state.stress.stop_all();
    tracing::info!("draining: finishing in-flight requests");
    connections.close();
    drain(&listener, &connections, &state, grace).await;
    Ok(())
}

/// Until the `connections` open at the stop are done (or `grace` is over), answers each new
/// connection once and closes it: `/health` and anything else answer 503, so a load balancer or a
/// client sees why.
async fn drain(
    listener: &TcpListener,
    connections: &TaskTracker,
    state: &Arc<AppState>,
    grace: Duration,
) {
    let mut once = auto::Builder::new(TokioExecutor::new()).http1_only();
    once.http1()
        .keep_alive(false)
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    let once = Arc::new(once);
    let draining = Router::new()
        .route("/health", get(handlers::health))
        .fallback(handlers::shutting_down)
        .with_state(state.clone());
    let drained = tokio::time::timeout(grace, connections.wait());
    let mut drained = std::pin::pin!(drained);
    loop {
        let stream = tokio::select! {
            accepted = accept(listener) => accepted,
            done = drained.as_mut() => {
                if done.is_err() {
                    tracing::warn!(?grace, "grace period over: dropping unfinished requests");
                }
                return;
            }
        };
        let service = TowerToHyperService::new(draining.clone());
        let once = once.clone();
        tokio::spawn(async move {
            let _ = once.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// The next connection; a failed accept (out of file descriptors, most often) waits for connections
/// to close.
async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    let stress = Router::new()
        .route("/stress/cpu", get(handlers::stress_cpu))
        .route("/stress/memory", get(handlers::stress_memory))
        .route_layer(from_fn_with_state(state.clone(), handlers::require_token));
    let work = Router::new()
        .route("/ping", get(handlers::ping))
        .route("/timeout", get(handlers::timeout))
        .route("/heavy", get(handlers::heavy))
        .merge(stress)
        .fallback(handlers::not_found)
        .layer(from_fn_with_state(
            workers::Workers::new(&state.config.mode, state.metrics.clone()),
            workers::limit,
        ));
    Router::new()
        .route("/health", get(handlers::health))
        .route("/metrics", get(handlers::metrics))
        .merge(work)
        .layer(from_fn_with_state(state.clone(), metrics::record))
        .with_state(state)
}
