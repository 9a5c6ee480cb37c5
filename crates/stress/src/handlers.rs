//! The endpoints of the stress service.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::AppState;
use crate::params::{ApiError, Params};
use crate::stress::Refusal;

type Shared = State<Arc<AppState>>;
type Answer = Result<Json<Value>, ApiError>;

/// Longest `/timeout` wait and `/heavy` burn, in milliseconds.
const MAX_MS: u64 = 600_000;
/// Longest stress job, in seconds.
const MAX_STRESS_SECONDS: u64 = 600;
/// Stress percent picked at random when the request names none.
const RANDOM_PERCENTS: [f64; 4] = [5.0, 10.0, 15.0, 20.0];

pub async fn ping() -> Json<Value> {
    Json(json!({ "status": "ok", "endpoint": "ping" }))
}

pub async fn timeout(Query(query): Query<HashMap<String, String>>) -> Answer {
    let ms = Params(query)
        .get("ms", 0, MAX_MS, Some(5000))?
        .unwrap_or(5000);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Json(json!({ "endpoint": "timeout", "waited_ms": ms })))
}

pub async fn heavy(Query(query): Query<HashMap<String, String>>) -> Answer {
    let ms = Params(query)
        .get("ms", 0, MAX_MS, Some(200))?
        .unwrap_or(200);
    let started = Instant::now();
    let cpu = tokio::task::spawn_blocking(move || burn_cpu_time(Duration::from_millis(ms)))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(json!({
        "endpoint": "heavy",
        "cpu_ms": cpu.as_secs_f64() * 1e3,
        "wall_ms": started.elapsed().as_secs_f64() * 1e3,
    })))
}

/// Spins until this thread has used `budget` of CPU time (not wall time: preemption does not count).
fn burn_cpu_time(budget: Duration) -> Duration {
    let start = crate::thread_cpu_time();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    loop {
        for _ in 0..10_000 {
            x = std::hint::black_box(x.rotate_left(5) ^ x.wrapping_mul(31));
        }
        let used = crate::thread_cpu_time().saturating_sub(start);
        if used >= budget {
            return used;
        }
    }
}

pub async fn stress_cpu(
    State(state): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let params = Params(query);
    let percent = params.get("percent", 0.1, 100.0, None)?;
    let seconds = params
        .get("seconds", 1, MAX_STRESS_SECONDS, Some(60))?
        .unwrap_or(60);
    let (percent, random) = match percent {
        Some(p) => (p, false),
        None => (pick_percent(&state), true),
    };
    let job = state
        .stress
        .start_cpu(percent, Duration::from_secs(seconds))
        .map_err(refusal)?;
    Ok(Json(json!({
        "id": job.id,
        "percent": percent,
        "random_percent": random,
        "seconds": seconds,
        "cores": job.cores,
    })))
}

pub async fn stress_memory(
    State(state): Shared,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let params = Params(query);
    let percent = params.get("percent", 0.01, 100.0, None)?;
    let seconds = params
        .get("seconds", 0.0, MAX_STRESS_SECONDS as f64, Some(3.0))?
        .unwrap_or(3.0);
    let (percent, random) = match percent {
        Some(p) => (p, false),
        None => (pick_percent(&state), true),
    };
    let total = crate::process::memory_total_bytes();
    let bytes = (total as f64 * percent / 100.0) as u64;
    let started = Instant::now();
    state
        .stress
        .hold_memory(bytes, Duration::from_secs_f64(seconds))
        .await
        .map_err(refusal)?;
    Ok(Json(json!({
        "percent": percent,
        "random_percent": random,
        "bytes": bytes,
        "held_seconds": seconds,
        "wall_ms": started.elapsed().as_secs_f64() * 1e3,
    })))
}

fn pick_percent(state: &AppState) -> f64 {
    let mut rng = state.rng.lock().expect("rng lock");
    *RANDOM_PERCENTS.choose(&mut *rng).expect("non-empty")
}

fn refusal(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::OverCap(why) => ApiError::new(StatusCode::TOO_MANY_REQUESTS, why),
        Refusal::AllocationFailed(why) => ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("memory allocation failed: {why}"),
        ),
    }
}

pub async fn health(State(state): Shared) -> Response {
    if state.draining.load(Ordering::SeqCst) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining" })),
        )
            .into_response()
    } else {
        Json(json!({ "status": "ok" })).into_response()
    }
}

pub async fn metrics(State(state): Shared) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn not_found(request: Request) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!(
            "no endpoint {}; try /ping, /timeout, /heavy, /stress/cpu, /stress/memory, /health, /metrics",
            request.uri().path()
        ),
    )
}

/// Anything but `/health` while the service drains (its in-flight requests finish).
pub async fn shutting_down() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "shutting down")
}

/// Middleware on `/stress/*`: with a token configured, requires `Authorization: Bearer <token>`.
pub async fn require_token(State(state): Shared, request: Request, next: Next) -> Response {
    if let Some(token) = &state.config.token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented != Some(token.as_str()) {
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "stress endpoints need 'Authorization: Bearer <token>'",
            )
            .into_response();
        }
    }
    next.run(request).await
}
