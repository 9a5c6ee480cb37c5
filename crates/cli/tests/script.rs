//! `scalelab run script.js` as a real process: `-e KEY=VALUE` fills `__ENV`, relative URLs go to
//! the embedded service, `--out` writes the script's endpoints, exceptions show in the summary; an
//! unsupported import exits 104 naming file and line, an exception in `setup()` exits 107,
//! `test.abort()` stops the run at once and exits 108.

use std::process::Command;

fn scalelab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_scalelab"))
}

#[test]
fn a_script_runs_with_env_and_writes_its_results() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("test.js");
    std::fs::write(
        &script,
        "import http from 'k6/http';\nimport { check } from 'k6';\n\
         export const options = { vus: 2, iterations: 6, thresholds: { checks: ['rate==1'] } };\n\
         export default function () {\n  const res = http.get(__ENV.PATH_TO_PING, { tags: { name: 'ping' } });\n  check(res, { 'status is 200': (r) => r.status === 200 });\n  if (__ITER === 0 && __VU === 1) throw new Error('first iteration');\n}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = scalelab()
        .args([
            "run",
            script.to_str().unwrap(),
            "-e",
            "PATH_TO_PING=/ping",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("GET ping"), "{stdout}");
    assert!(stdout.contains("✓ checks rate==1"), "{stdout}");
    assert!(
        stdout.contains("script exceptions: 1 uncaught") && stdout.contains("test.js:7:"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["requests"], 6);
    assert_eq!(summary["totals"]["checks_passed"], 6);
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(csv.contains(",ping,GET,200,"), "{csv}");
}

#[test]
fn a_scenarios_exec_and_env_run_without_a_warning_that_they_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("exec.js");
    std::fs::write(
        &script,
        "import http from 'k6/http';
         export const options = { scenarios: { s: { executor: 'per-vu-iterations', vus: 1,          iterations: 3, exec: 'hit', env: { WHERE: '/ping' } } } };
         export function hit() { http.get(__ENV.WHERE, { tags: { name: 'hit' } }); }
         export default function () { throw new Error('not this one'); }
",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = scalelab()
        .args(["run", script.to_str().unwrap(), "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("is ignored"), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["requests"], 3);
    assert_eq!(summary["endpoints"][0]["name"], "hit");
}

#[test]
fn every_vu_gets_its_turn_when_iterations_never_wait() {
    // 8 VUs on one loader thread, iterations without a request: each VU must iterate, as in k6
    // (before, the first VU kept the thread to itself).
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fair.js");
    let thresholds: Vec<String> = (1..=8)
        .map(|vu| format!("'turns{{vu:{vu}}}': ['count>0']"))
        .collect();
    std::fs::write(
        &script,
        format!(
            "import {{ Counter }} from 'k6/metrics';
const turns = new Counter('turns');
             export const options = {{ vus: 8, duration: '1s', thresholds: {{ {} }} }};
             export default function () {{ turns.add(1, {{ vu: String(__VU) }}); }}
",
            thresholds.join(", ")
        ),
    )
    .unwrap();
    let output = scalelab()
        .args(["run", script.to_str().unwrap(), "--quiet", "--threads", "1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.matches("✓ turns{vu:").count(), 8, "{stdout}");
}

#[test]
fn open_refuses_what_is_not_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("zero.js");
    std::fs::write(
        &script,
        "const data = open('/dev/zero');
export default function () {}
",
    )
    .unwrap();
    let output = scalelab()
        .args(["run", script.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(104), "{stderr}");
    assert!(
        stderr.contains("open(/dev/zero)") && stderr.contains("not a regular file"),
        "{stderr}"
    );
}

#[test]
fn an_unsupported_import_exits_104_and_a_setup_exception_107() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws.js");
    std::fs::write(
        &ws,
        "import http from 'k6/http';\nimport ws from 'k6/ws';\nexport default function () {}\n",
    )
    .unwrap();
    let output = scalelab()
        .args(["run", ws.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(104), "{stderr}");
    assert!(
        stderr.contains("ws.js:2: import 'k6/ws' is not supported"),
        "{stderr}"
    );

    let setup = dir.path().join("setup.js");
    std::fs::write(&setup, "export function setup() {\n  throw new Error('no token');\n}\nexport default function () {}\n").unwrap();
    let output = scalelab()
        .args(["run", setup.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(107), "{stderr}");
    assert!(
        stderr.contains("setup(): Error: no token at setup") && stderr.contains("setup.js:2:"),
        "{stderr}"
    );
}

#[test]
fn test_abort_cannot_be_caught_ends_the_run_and_exits_108() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("abort.js");
    // Without the abort the run would last 30 s and exit 0; the catch must never run (k6's abort
    // cannot be caught).
    std::fs::write(
        &script,
        "import http from 'k6/http';\nimport { check } from 'k6';\nimport exec from 'k6/execution';\n\
         export const options = { vus: 2, duration: '30s' };\n\
         export default function () {\n  http.get('/ping');\n  if (__VU === 1 && __ITER === 2) {\n    \
         try { exec.test.abort('enough'); } catch (e) { check(null, { 'after abort': () => true }); }\n  }\n}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = scalelab()
        .args(["run", script.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(108), "{stderr}");
    assert!(stderr.contains("VU 1: test.abort(): enough"), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["totals"]["checks_passed"], 0, "{summary}");
    assert!(summary["totals"]["requests"].as_u64().unwrap() >= 3);
}

#[test]
fn custom_metrics_are_printed_and_a_failed_threshold_on_one_exits_99() {
    let dir = tempfile::tempdir().unwrap();
    let run = |threshold: &str| {
        let script = dir.path().join("metrics.js");
        std::fs::write(
            &script,
            format!(
                "import {{ Counter, Rate }} from 'k6/metrics';\nconst hits = new Counter('hits');\n\
                 const good = new Rate('good');\n\
                 export const options = {{ vus: 1, iterations: 4, thresholds: {{ hits: ['{threshold}'] }} }};\n\
                 export default function () {{ hits.add(3); good.add(__ITER !== 0); }}\n"
            ),
        )
        .unwrap();
        scalelab()
            .args(["run", script.to_str().unwrap(), "--quiet"])
            .output()
            .unwrap()
    };
    // 4 iterations × 3 = 12 hits; 3 of 4 good = 75 %.
    let passed = run("count==12");
    let stdout = String::from_utf8_lossy(&passed.stdout);
    assert!(passed.status.success(), "{stdout}");
    assert!(stdout.contains("✓ hits count==12"), "{stdout}");
    assert!(stdout.contains("good: 75.00 % of 4"), "{stdout}");
    let failed = run("count>12");
    let stdout = String::from_utf8_lossy(&failed.stdout);
    assert_eq!(failed.status.code(), Some(99), "{stdout}");
    assert!(stdout.contains("✗ hits count>12 (observed 12)"), "{stdout}");
}
