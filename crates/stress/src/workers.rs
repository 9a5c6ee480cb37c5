//! Sync mode: at most N requests served at once, up to M more waiting in FIFO order, the rest refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::config::Mode;
use crate::metrics::Metrics;
use crate::params::ApiError;

/// The worker pool of sync mode; in async mode it lets everything through.
#[derive(Clone)]
pub struct Workers(Option<Arc<Pool>>);

struct Pool {
    /// One permit per worker. Tokio's semaphore is fair, so waiters are served first come, first served.
    permits: Arc<Semaphore>,
    backlog: usize,
    waiting: AtomicUsize,
    metrics: Metrics,
}

impl Workers {
    pub fn new(mode: &Mode, metrics: Metrics) -> Self {
        match *mode {
            Mode::Async => Self(None),
            Mode::Sync { workers, backlog } => Self(Some(Arc::new(Pool {
                permits: Arc::new(Semaphore::new(workers)),
                backlog,
                waiting: AtomicUsize::new(0),
                metrics,
            }))),
        }
    }
}

/// Middleware: holds a worker for the whole request, waits in the backlog, or answers 503.
pub async fn limit(State(workers): State<Workers>, request: Request, next: Next) -> Response {
    let Some(pool) = workers.0 else {
        return next.run(request).await;
    };
    let permit = match pool.permits.clone().try_acquire_owned() {
        Ok(permit) => permit,
        Err(_) => {
            if pool.waiting.fetch_add(1, Ordering::SeqCst) >= pool.backlog {
                pool.waiting.fetch_sub(1, Ordering::SeqCst);
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "all workers are busy and the backlog is full",
                )
                .into_response();
            }
            pool.metrics.queue_length.inc();
            let permit = pool.permits.clone().acquire_owned().await;
            pool.metrics.queue_length.dec();
            pool.waiting.fetch_sub(1, Ordering::SeqCst);
            match permit {
                Ok(permit) => permit,
                Err(_) => {
                    return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
                        .into_response();
                }
            }
        }
    };
    let response = next.run(request).await;
    drop(permit);
    response
}
