//! The CPU cost of a request, recovered by the staircase's fit. In its own test binary: the service
//! runs in this process, whose CPU must be the service's and its load generator's alone.

mod common;

use std::time::Duration;

use common::{staircase, stairs};
use scalelab_stress::Mode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpu_cost_of_a_request_is_recovered() {
    // /heavy?ms=50 burns 50 ms of CPU per request. The service runs in this process, so the process
    // CPU also counts the load generator's share (about 2 ms a request in a debug build). On a busy
    // machine the wall time of a request grows, not its CPU time: the staircase is told to ignore
    // latency, as this test is about the CPU fit. 2, 3, 4.5/s: at most a quarter of a core.
    let mut stairs = stairs(2.0, 1.5, 5.0);
    stairs.step = Duration::from_secs(4);
    stairs.limits.latency_growth = f64::INFINITY;
    let (m, f) = staircase(Mode::Async, "/heavy?ms=50", stairs, true).await;
    let model = f.capacity_file(m.vcpus).expect("a capacity model");
    let cost = model.cpu.cpu_seconds_per_request;
    assert!((cost - 0.050).abs() <= 0.005, "{model:#?}");
    assert!(model.cpu.r2 > 0.9, "{model:#?}");
    assert!(model.memory.is_some(), "{model:#?}");
}
