//! A local server for script tests (127.0.0.1, port 0) and a helper that runs a script as
//! `scalelab run` does: load, compile, setup, run, teardown.
#![allow(dead_code)] // Shared by the test files; each uses a part.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{any, get};
use scalelab_load::engine::{self, Observer, Progress, RunOptions, RunOutcome};
use scalelab_metrics::Interval;
use scalelab_script::Script;

/// Hits on `/teardown`, so a test can see `teardown()` ran.
#[derive(Default)]
pub struct Hits(pub AtomicU64);

/// Starts the test server: `/json` (a JSON document and an `X-Test` header), `/echo` (method,
/// body, content type and `X-Custom` back as JSON), `/status/{code}`, `/slow` (2 s) and
/// `/teardown` (counted). Returns its base URL.
pub async fn server(hits: Arc<Hits>) -> String {
    let app = Router::new()
        .route(
            "/json",
            get(|| async {
                (
                    [("x-test", "yes"), ("content-type", "application/json")],
                    r#"{"a":{"b":[10,20,30]},"name":"scalelab"}"#,
                )
            }),
        )
        .route(
            "/echo",
            any(
                |method: Method, headers: HeaderMap, body: Bytes| async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_owned()
                    };
                    serde_json::json!({
                        "method": method.as_str(),
                        "body": String::from_utf8_lossy(&body),
                        "content_type": header("content-type"),
                        "custom": header("x-custom"),
                    })
                    .to_string()
                },
            ),
        )
        .route(
            "/status/{code}",
            get(|UrlPath(code): UrlPath<u16>| async move {
                StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST)
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(2)).await;
                "late"
            }),
        )
        .route(
            "/teardown",
            get(|State(hits): State<Arc<Hits>>| async move {
                hits.0.fetch_add(1, Ordering::SeqCst);
                "ok"
            }),
        )
        .with_state(hits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct Quiet;

impl Observer for Quiet {
    fn on_interval(&mut self, _: &Interval, _: &Progress<'_>) {}
}

/// Writes `files` (name, text) into a scratch directory; the path of the first.
pub fn write(dir: &Path, files: &[(&str, &str)]) -> std::path::PathBuf {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir.join(files[0].0)
}

/// Runs a loaded script against `base` as `scalelab run` does, on two loader threads.
pub async fn run(script: &Script, base: &str) -> RunOutcome {
    run_on(script, base, 2).await
}

/// Runs a loaded script against `base` as `scalelab run` does, on `threads` loader threads.
pub async fn run_on(script: &Script, base: &str, threads: usize) -> RunOutcome {
    let compiled = Arc::new(script.compile(base).expect("compiles"));
    script.setup(&compiled).await.expect("setup");
    let outcome = engine::run(
        compiled.clone(),
        RunOptions {
            threads,
            ..RunOptions::default()
        },
        &mut Quiet,
    )
    .await
    .expect("run");
    script.teardown(&compiled).await.expect("teardown");
    outcome
}

/// Passes and failures of the check named `name`.
pub fn check(outcome: &RunOutcome, name: &str) -> (u64, u64) {
    let check = outcome
        .summary
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check '{name}' in {:?}", outcome.summary.checks));
    (check.passed, check.failed)
}
