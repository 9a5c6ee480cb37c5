//! Shards add up to the whole plan: for every plan of the real-plan corpus (see `corpus/mod.rs`),
//! N shards of 1 to 6 (each split again over 1 or 2 loader threads, as the engine does) schedule
//! exactly the plan's arrivals at the plan's times, the plan's VU curve at every instant, and its
//! iterations and VU pools, computed without sending a request.

use scalelab_load::plan::{Executor, LoadOptions, load_file};
use scalelab_shape::{Arrivals, Shape, Shard};

mod corpus;

/// Every lane of a test split into `shards` processes of `threads` loader threads.
fn lanes(shards: u64, threads: u64) -> Vec<Shard> {
    (0..shards)
        .flat_map(|i| (0..threads).map(move |t| Shard::new(i, shards).unwrap().split(t, threads)))
        .collect()
}

/// The instants at which the engine reads a VU curve (every 50 ms) and each breakpoint with the
/// instants just around it.
fn instants(shape: &Shape) -> Vec<f64> {
    let end = shape.duration().as_secs_f64();
    let steps = (end / 0.05).ceil() as u64;
    assert!(
        steps <= 1_000_000,
        "a plan of {end} s is beyond this test's bound"
    );
    let mut times: Vec<f64> = (0..=steps).map(|i| i as f64 * 0.05).collect();
    for &(t, _) in shape.points() {
        times.extend([t - 1e-6, t, t + 1e-6]);
    }
    times
}

fn check_vu_curve(name: &str, shape: &Shape, lanes: &[Shard]) {
    for t in instants(shape) {
        let whole = shape.vus_at(t);
        let sum: u64 = lanes.iter().map(|lane| lane.share(whole)).sum();
        assert_eq!(sum, whole, "{name}: VUs at {t} s");
    }
}

fn check_arrivals(name: &str, shape: &Shape, whole: &[f64], lanes: &[Shard]) {
    let mut dealt = 0;
    for lane in lanes {
        for (local, at) in lane.arrivals(Arrivals::new(shape)).enumerate() {
            let k = lane.global(local as u64) as usize;
            // The same arrival, at the same time to the bit.
            assert_eq!(
                at.to_bits(),
                whole[k].to_bits(),
                "{name}: arrival {k} in lane {lane}"
            );
            dealt += 1;
        }
    }
    assert_eq!(dealt, whole.len(), "{name}: arrivals dealt");
}

fn check_pool(name: &str, pre_allocated: u64, max: Option<u64>, lanes: &[Shard]) {
    let pre: u64 = lanes.iter().map(|lane| lane.share(pre_allocated)).sum();
    assert_eq!(pre, pre_allocated, "{name}: preAllocatedVUs");
    if let Some(max) = max {
        let limits: Vec<u64> = lanes.iter().map(|lane| lane.vu_limit(max)).collect();
        let sum: u64 = limits.iter().sum();
        assert!(
            limits.iter().all(|&l| l >= 1 || max == 0),
            "{name}: {limits:?}"
        );
        assert_eq!(sum, max.max(lanes.len() as u64), "{name}: maxVUs {max}");
    }
}

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn shards_of_every_corpus_plan_add_up_to_the_plan() {
    let dir = corpus::dir();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
        .collect();
    names.sort();
    let mut scenarios = 0;
    for path in names {
        let Ok(plan) = load_file(&path, &LoadOptions::default()) else {
            continue; // refused plans: wild.rs checks that they are refused
        };
        for scenario in &plan.scenarios {
            scenarios += 1;
            let arrivals = scenario.executor.arrival_rate();
            let shape = arrivals.as_ref();
            let whole: Vec<f64> = shape
                .map(|s| Arrivals::new(s).collect())
                .unwrap_or_default();
            // Shard i of N, thread t of T is lane i + N·t of N·T (a unit test of `Shard::split`
            // proves it): the arrivals of the lanes of N·T are checked once per N·T.
            let mut checked = std::collections::BTreeSet::new();
            for shards in 1..7 {
                for threads in 1..3 {
                    let lanes = lanes(shards, threads);
                    let name = format!(
                        "{} {} over {shards}×{threads}",
                        path.file_name().unwrap().to_string_lossy(),
                        scenario.name
                    );
                    let vu_total = |vus: u64| lanes.iter().map(|l| l.share(vus)).sum::<u64>();
                    match &scenario.executor {
                        Executor::ConstantVus { vus, .. } => assert_eq!(vu_total(*vus), *vus),
                        Executor::RampingVus {
                            start_vus, stages, ..
                        } => {
                            let shape = Shape::from_stages(*start_vus as f64, stages).unwrap();
                            check_vu_curve(&name, &shape, &lanes);
                        }
                        Executor::PerVuIterations {
                            vus, iterations, ..
                        } => {
                            let total: u64 = lanes.iter().map(|l| l.share(*vus) * iterations).sum();
                            assert_eq!(total, vus * iterations, "{name}");
                        }
                        Executor::SharedIterations {
                            vus, iterations, ..
                        } => {
                            // Per shard process (the threads share the shard's count).
                            let total: u64 = (0..shards)
                                .map(|i| Shard::new(i, shards).unwrap())
                                .map(|s| s.shared_iterations(*vus, *iterations))
                                .sum();
                            assert_eq!(total, *iterations, "{name}");
                            assert_eq!(vu_total(*vus), *vus);
                        }
                        Executor::ConstantArrivalRate {
                            pre_allocated_vus,
                            max_vus,
                            ..
                        }
                        | Executor::RampingArrivalRate {
                            pre_allocated_vus,
                            max_vus,
                            ..
                        } => {
                            let max = (*max_vus).max(*pre_allocated_vus);
                            check_pool(&name, *pre_allocated_vus, Some(max), &lanes);
                            if checked.insert(lanes.len()) {
                                check_arrivals(&name, shape.unwrap(), &whole, &lanes);
                            }
                        }
                        Executor::FixedRate { connections, .. } => {
                            check_pool(&name, *connections, Some(*connections), &lanes);
                            if checked.insert(lanes.len()) {
                                check_arrivals(&name, shape.unwrap(), &whole, &lanes);
                            }
                        }
                        Executor::Phases { max_vus, .. } => {
                            check_pool(&name, 0, *max_vus, &lanes);
                            if checked.insert(lanes.len()) {
                                check_arrivals(&name, shape.unwrap(), &whole, &lanes);
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(scenarios >= 18, "only {scenarios} scenarios in the corpus");
}
