//! A VU's script runs as a coroutine on its loader thread: JavaScript that runs long without a
//! call lets the thread's other VUs go on, and code that would never end still ends with the run.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use common::{check, run_on, server, write};
use scalelab_script::Script;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_javascript_shares_its_thread_and_ends_with_the_run() {
    let base = server(Arc::default()).await;
    let dir = tempfile::tempdir().unwrap();
    // Three VUs on one loader thread: one never makes a call, one swallows every error and asks
    // again, one makes requests. gracefulStop 0: at 1 s the first two are interrupted.
    let path = write(
        dir.path(),
        &[(
            "busy.js",
            r#"
import http from 'k6/http';
import { check } from 'k6';
const scenario = (exec) => ({ executor: 'constant-vus', vus: 1, duration: '1s', gracefulStop: '0s', exec });
export const options = {
  scenarios: { spin: scenario('spin'), stubborn: scenario('stubborn'), requests: scenario('get') },
};
export function spin() { let n = 0; for (;;) { n += 1; } }
export function stubborn() { for (;;) { try { http.get(`${__ENV.BASE}/slow`); } catch (e) {} } }
export function get() {
  check(http.get(`${__ENV.BASE}/json`), { 'answered': (r) => r.status === 200 });
}
"#,
        )],
    );
    let script = Script::load(&path, vec![("BASE".to_owned(), base.clone())]).unwrap();
    let outcome = tokio::time::timeout(Duration::from_secs(60), run_on(&script, &base, 1))
        .await
        .expect("the run ends although two VUs' code never would");
    let (answered, failed) = check(&outcome, "answered");
    assert!(answered > 0, "the requests VU ran beside the busy one");
    assert_eq!(failed, 0);
    assert_eq!(outcome.summary.totals.interrupted_iterations, 2);
    // Interrupted by the run's end: not the script's exceptions.
    assert_eq!(script.exceptions().count, 0, "{:?}", script.exceptions());
}

#[test]
fn more_vus_than_the_process_can_map_are_refused_before_the_run() {
    // The limit is the machine's (a sysctl), so the skip is decided here and said past the test
    // harness's capture of `eprintln!`, so that `cargo test` shows it.
    let skip = |why: String| {
        let _ = writeln!(
            std::io::stderr(),
            "more_vus_than_the_process_can_map_are_refused_before_the_run: skipped: {why}"
        );
    };
    let Some(limit) = std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    else {
        return skip("no /proc/sys/vm/max_map_count on this system".into());
    };
    // Each VU's stack is two mappings; scenarios of 100,000 VUs (a plan's most) until past it.
    let scenarios = limit / 2 / 100_000 + 1;
    if scenarios > 100 {
        return skip(format!(
            "vm.max_map_count is {limit}, past what a test script should ask for"
        ));
    }
    let list: Vec<String> = (0..scenarios)
        .map(|i| format!("s{i}: {{ executor: 'constant-vus', vus: 100000, duration: '1s' }}"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[(
            "many.js",
            &format!(
                "export const options = {{ scenarios: {{ {} }} }};\nexport default function () {{}}\n",
                list.join(", ")
            ),
        )],
    );
    let script = Script::load(&path, Vec::new()).unwrap();
    let error = script.check_stacks().unwrap_err().to_string();
    assert!(
        error.contains(&format!("up to {} VUs", scenarios * 100_000))
            && error.contains(&limit.to_string())
            && error.contains("max_map_count"),
        "{error}"
    );
    // A small script passes.
    let small = write(
        dir.path(),
        &[(
            "small.js",
            "export const options = { vus: 10, duration: '1s' };\nexport default function () {}\n",
        )],
    );
    Script::load(&small, Vec::new())
        .unwrap()
        .check_stacks()
        .unwrap();
}
