//! Scripts written for the tests, run against a local server: every listed API is checked from
//! inside the script (a `check` per behaviour) and from the run's results.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::{Hits, check, run, server, write};
use scalelab_script::{Script, ScriptError};

fn env(base: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = vec![("BASE".to_owned(), base.to_owned())];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// A URL whose port refuses connections: bound, not listening, and held while the socket lives so
/// that no other test's server takes it.
fn refused() -> (String, tokio::net::TcpSocket) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    (format!("http://{}/", socket.local_addr().unwrap()), socket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_http_function_and_the_response_object() {
    let base = server(Arc::default()).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/http.js");
    let (refused, _held) = refused();
    let script = Script::load(&path, env(&base, &[("REFUSED", &refused)])).unwrap();
    let outcome = run(&script, &base).await;
    assert_eq!(script.exceptions().first, None);
    // 1 VU × 2 iterations: every check ran twice and passed.
    for name in [
        "get status",
        "get body",
        "json()",
        "json(selector)",
        "response headers",
        "timings",
        "no error",
        "res.request",
        "JSON.stringify(res)",
        "fields can be set",
        "post body",
        "request headers",
        "object body is form-encoded",
        "patch",
        "del",
        "head",
        "options",
        "request()",
        "batch array",
        "4xx error_code",
        "batch object",
        "binary body",
        "no body",
        "timeout",
        "refused",
        "unsupported scheme",
        "invalid URL",
    ] {
        assert_eq!(check(&outcome, name), (2, 0), "{name}");
    }
    let summary = &outcome.summary;
    assert_eq!(summary.totals.iterations, 2);
    // Names from tags.name; the URL otherwise; group as a tag.
    let endpoint = |name: &str, method: &str| {
        summary
            .endpoints
            .iter()
            .filter(|e| e.name == name && e.method == method)
            .map(|e| e.latency.count)
            .sum::<u64>()
    };
    assert_eq!(endpoint("json", "GET"), 2 * 4);
    assert_eq!(endpoint("json", "HEAD"), 2);
    assert_eq!(endpoint("echo", "POST"), 2 * 3);
    assert_eq!(endpoint(&format!("{base}/status/201"), "GET"), 2);
    assert_eq!(endpoint("grouped", "GET"), 2);
    // As in k6 v1.1.0: an unsupported scheme is a failed request (Go's client refuses it after
    // k6 has started measuring), a URL that does not parse is no request at all.
    assert_eq!(endpoint("notaurl://x", "GET"), 2);
    assert_eq!(endpoint("http://[::1", "GET"), 0);
    assert!(
        summary.thresholds.iter().all(|t| t.passed),
        "{:?}",
        summary.thresholds
    );
    assert_eq!(summary.thresholds.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_reach_thresholds_as_tags() {
    let base = server(Arc::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[(
            "g.js",
            "import http from 'k6/http';\nimport { group } from 'k6';\n\
             export const options = { iterations: 3, thresholds: { 'http_reqs{group:::a::b}': ['count==3'], 'http_reqs{group:::a}': ['count==0'] } };\n\
             export default function () { group('a', () => group('b', () => http.get(`${__ENV.BASE}/status/200`))); }\n",
        )],
    );
    let script = Script::load(&path, env(&base, &[])).unwrap();
    let outcome = run(&script, &base).await;
    assert!(
        outcome.summary.thresholds.iter().all(|t| t.passed),
        "{:?}",
        outcome.summary.thresholds
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k6_module_globals_data_execution_setup_teardown_and_local_imports() {
    let hits = Arc::new(Hits::default());
    let base = server(hits.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let main = "import http from 'k6/http';
import { check, sleep, randomSeed } from 'k6';
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { double } from './lib/math.js';

export const options = {
  scenarios: {
    first: { executor: 'per-vu-iterations', vus: 2, iterations: 3, exec: 'first', env: { WHO: 'scenario' } },
    second: { executor: 'shared-iterations', vus: 1, iterations: 2, startTime: '0s' },
  },
};
const users = new SharedArray('users', () => JSON.parse(open('./users.json')));
const text = open('./users.json');
const vuAtInit = __VU;

export function setup() {
  return { token: 'from-setup', n: double(21) };
}

export function first(data) {
  check(data, { 'setup data': (d) => d.token === 'from-setup' && d.n === 42 });
  check(null, {
    '__VU': () => __VU >= 1 && __VU <= 3 && __VU === vuAtInit && exec.vu.idInTest === __VU,
    '__ITER': () => __ITER === exec.vu.iterationInScenario && __ITER < 3,
    'scenario': () => exec.scenario.name === 'first' && exec.scenario.executor === 'per-vu-iterations',
    '__ENV': () => __ENV.FROM_E === 'e-value' && __ENV.WHO === 'scenario',
    'SharedArray': () => users.length === 2 && users[1].name === 'bo' && Object.isFrozen(users),
    'open': () => text.includes('bo'),
    'local import': () => double(2) === 4,
    'check value': () => check(1, { 'inner true': (v) => v === 1 }) === true,
  });
  randomSeed(7);
  const a = Math.random();
  randomSeed(7);
  check(a, { 'randomSeed repeats': (v) => v === Math.random() && v >= 0 && v < 1 });
  sleep(0.01);
}

export default function () {
  check(null, { 'default runs the unnamed scenario': () => exec.scenario.name === 'second' && __ENV.WHO === undefined });
}

export function teardown(data) {
  if (data.token === 'from-setup') http.get(`${__ENV.BASE}/teardown`);
}
";
    let path = write(
        dir.path(),
        &[
            ("main.js", main),
            (
                "lib/math.js",
                "export function double(x) { return 2 * x; }\n",
            ),
            ("users.json", r#"[{"name":"al"},{"name":"bo"}]"#),
        ],
    );
    let script = Script::load(&path, env(&base, &[("FROM_E", "e-value")])).unwrap();
    let outcome = run(&script, &base).await;
    assert_eq!(script.exceptions().first, None);
    // first: 2 VUs × 3 iterations; second: 2 iterations.
    for name in [
        "setup data",
        "__VU",
        "__ITER",
        "scenario",
        "__ENV",
        "SharedArray",
        "open",
        "local import",
        "check value",
        "randomSeed repeats",
    ] {
        assert_eq!(check(&outcome, name), (6, 0), "{name}");
    }
    assert_eq!(check(&outcome, "inner true"), (6, 0));
    assert_eq!(check(&outcome, "default runs the unnamed scenario"), (2, 0));
    assert_eq!(outcome.summary.totals.iterations, 8);
    assert_eq!(
        hits.0.load(Ordering::SeqCst),
        1,
        "teardown ran once with setup's data"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_in_an_iteration_is_counted_with_its_position_and_the_run_goes_on() {
    let base = server(Arc::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[(
            "throws.js",
            "import { fail, check } from 'k6';\nexport const options = { vus: 1, iterations: 5 };\nexport default function () {\n  check(1, { 'ran': () => true });\n  if (__ITER % 2 === 0) fail('even iteration');\n}\n",
        )],
    );
    let script = Script::load(&path, Vec::new()).unwrap();
    let outcome = run(&script, &base).await;
    let exceptions = script.exceptions();
    // Iterations 0, 2 and 4 threw; all 5 ran.
    assert_eq!(exceptions.count, 3);
    let first = exceptions.first.unwrap();
    assert!(first.contains("Error: even iteration"), "{first}");
    assert!(first.contains("throws.js:5:"), "{first}");
    assert_eq!(check(&outcome, "ran"), (5, 0));
    assert_eq!(outcome.summary.totals.iterations, 5);
}

#[test]
fn unsupported_imports_are_refused_at_their_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    for (import, line) in [
        ("k6/ws", 3),
        ("k6/net/grpc", 3),
        ("k6/browser", 3),
        ("k6/experimental/redis", 3),
        ("k6/x/kafka", 3),
        ("k6/crypto", 3),
        ("https://jslib.k6.io/k6-utils/1.4.0/index.js", 3),
        ("lodash", 3),
    ] {
        let path = write(
            dir.path(),
            &[
                (
                    "main.js",
                    "import './lib.js';\nexport default function () {}\n",
                ),
                (
                    "lib.js",
                    &format!(
                        "// a library\nimport http from 'k6/http';\nimport x from '{import}';\n"
                    ),
                ),
            ],
        );
        let error = Script::load(&path, Vec::new()).unwrap_err();
        let ScriptError::Unsupported { file, line: at, .. } = &error else {
            panic!("{import}: {error}");
        };
        assert!(file.ends_with("lib.js"), "{error}");
        assert_eq!(*at, line, "{error}");
        assert!(
            error.to_string().contains(&format!("import '{import}'")),
            "{error}"
        );
    }
}

#[test]
fn an_exception_in_init_code_stops_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[(
            "init.js",
            "export const options = { vus: 1 };\nconst config = undefined;\nconst url = config.url;\nexport default function () {}\n",
        )],
    );
    let error = Script::load(&path, Vec::new()).unwrap_err().to_string();
    assert!(error.contains("TypeError"), "{error}");
    assert!(error.contains("init.js:3:"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exception_in_setup_stops_the_run_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[(
            "setup.js",
            "export function setup() {\n  throw new Error('no token');\n}\nexport default function () {}\n",
        )],
    );
    let script = Script::load(&path, Vec::new()).unwrap();
    let compiled = script.compile("http://127.0.0.1:1").unwrap();
    let error = script.setup(&compiled).await.unwrap_err().to_string();
    assert!(error.contains("setup(): Error: no token"), "{error}");
    assert!(error.contains("setup.js:2:"), "{error}");
}

#[test]
fn options_go_through_the_k6_loader_and_exec_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[(
            "o.js",
            "export const options = { stages: [{ duration: '10s', target: 20 }, { duration: '5s', target: 0 }] };\nexport default function () {}\n",
        )],
    );
    let script = Script::load(&path, Vec::new()).unwrap();
    assert_eq!(script.plan.scenarios[0].executor.kind(), "ramping-vus");
    assert_eq!(script.plan.scenarios[0].executor.duration().as_secs(), 15);
    // The loader's own errors, positioned in the options' JSON.
    let path = write(
        dir.path(),
        &[(
            "bad.js",
            "export const options = { vus: 1, duration: 'soon' };\nexport default function () {}\n",
        )],
    );
    let error = Script::load(&path, Vec::new()).unwrap_err().to_string();
    assert!(error.contains("bad.js (options, as JSON):3:"), "{error}");
    let path = write(
        dir.path(),
        &[(
            "exec.js",
            "export const options = { scenarios: { s: { executor: 'constant-vus', duration: '1s', exec: 'missing' } } };\nexport default function () {}\n",
        )],
    );
    let error = Script::load(&path, Vec::new()).unwrap_err().to_string();
    assert!(error.contains("runs 'missing'"), "{error}");
}
