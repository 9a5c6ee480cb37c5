//! The staircase against the embedded stress service, started in-process on 127.0.0.1:0.

mod common;

use common::{staircase, stairs};
use scalelab_probe::Ended;
use scalelab_probe::analysis::{Bound, Kind};
use scalelab_stress::Mode;

/// A sync server with `workers` workers and 100 ms requests plateaus at workers / 100 ms. The
/// staircase offers 50 %, 80 %, 128 % … of that (requests that wait on a timer: light on a busy
/// machine).
async fn sync_workers_are_counted(workers: usize) {
    let (m, f) = staircase(
        Mode::Sync {
            workers,
            backlog: 64,
        },
        "/timeout?ms=100",
        stairs(5.0 * workers as f64, 1.6, 1000.0),
        false,
    )
    .await;
    assert_eq!(m.ended, Ended::Limit, "{m:#?}");
    let c = f.characterization.expect("characterized");
    let Kind::Sync { workers: w, .. } = c.kind else {
        panic!("{c:#?}")
    };
    let expected = workers as f64;
    assert!((w - expected).abs() <= 0.1 * expected, "W = {w}, {c:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_server_with_two_workers_is_called_sync_with_two() {
    sync_workers_are_counted(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_server_with_six_workers_is_called_sync_with_six() {
    sync_workers_are_counted(6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_server_is_called_async() {
    let (m, f) = staircase(
        Mode::Async,
        "/timeout?ms=40",
        stairs(25.0, 2.0, 200.0),
        false,
    )
    .await;
    assert_eq!(m.ended, Ended::Schedule, "{m:#?}");
    let c = f.characterization.expect("characterized");
    assert_eq!(
        (c.kind.clone(), c.bound),
        (Kind::Async, Bound::Unknown),
        "{c:#?}"
    );
}
