//! A week of minute steps (10,080) through the simulator with the worked example's Beanstalk policy and
//! a daily traffic cycle. Time per 1,000 steps = the reported time / 10.08.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use scalelab_capacity::LinearCapacity;
use scalelab_scaling::{Policy, SimConfig, simulate};
use scalelab_shape::Shape;

fn week_of_minutes(c: &mut Criterion) {
    // Each day: 30,000 rpm at night, ramping to 150,000 rpm at midday and back, every hour a point.
    let points: Vec<(f64, f64)> = (0..=7 * 24)
        .map(|hour| {
            let phase = (f64::from(hour % 24) - 12.0).abs() / 12.0;
            (f64::from(hour) * 3600.0, 150_000.0 - 120_000.0 * phase)
        })
        .collect();
    let shape = Shape::from_points(points).expect("a valid shape");
    let policy = Policy::from_yaml(include_str!("../../../examples/beanstalk-policy.yaml"))
        .expect("a valid policy");
    let model = LinearCapacity::new(0.0008967, 0.0).expect("a valid model");
    let config = SimConfig {
        step: Duration::from_secs(60),
        per: Duration::from_secs(60),
        cpu_limit: 50.0,
        usd_per_hour: Some(0.0104),
        record_timeline: true,
        credits: None,
    };
    c.bench_function("simulate a week at 1-minute steps (10,080 steps)", |b| {
        b.iter(|| simulate(black_box(&shape), &model, &policy, &config).expect("simulates"))
    });
}

criterion_group!(benches, week_of_minutes);
criterion_main!(benches);
