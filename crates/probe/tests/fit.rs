//! `fit` on a real run's results and its CPU series in each format users export (see
//! tests/fixtures/README.md for how the fixtures were made: CPU % = 0.5 × requests/s + 3).

use std::path::Path;

use scalelab_probe::fit::{RunLoad, align, fit};
use scalelab_probe::series::Series;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new("tests/fixtures").join(name)).unwrap()
}

#[test]
fn every_format_gives_the_model_it_was_made_from() {
    let load = RunLoad::read(Path::new("tests/fixtures/run")).unwrap();
    for name in ["cpu-cloudwatch.json", "cpu-prometheus.json", "cpu.csv"] {
        let series = Series::parse(&fixture(name)).unwrap();
        let pairs = align(&load, &series).unwrap();
        assert_eq!(
            pairs,
            vec![(10.0, 8.0), (20.0, 13.0), (30.0, 18.0), (40.0, 23.0)],
            "{name}"
        );
        let (line, model) = fit(&pairs, 2).unwrap();
        assert!((line.slope - 0.5).abs() < 1e-12 && (line.intercept - 3.0).abs() < 1e-12);
        assert!((line.r2 - 1.0).abs() < 1e-12);
        // 0.5 % of 2 vCPUs per request/s = 0.01 CPU seconds per request.
        assert!((model.cpu.cpu_seconds_per_request - 0.01).abs() < 1e-12);
    }
}

#[test]
fn mismatched_and_empty_series_are_refused_with_the_reason() {
    let load = RunLoad::read(Path::new("tests/fixtures/run")).unwrap();
    // A day earlier: no datapoint within the run.
    let earlier = fixture("cpu.csv").replace("179585", "179576");
    let error = align(&load, &Series::parse(&earlier).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("does not overlap the run") && error.contains("2026-11-28T08:34:20Z"),
        "{error}"
    );
    let empty = Series::parse("timestamp,value\n").unwrap_err().to_string();
    assert!(empty.contains("no data points"), "{empty}");
    // One CPU level for every load: nothing to fit.
    let one = fit(&[(10.0, 5.0), (10.0, 6.0)], 2).unwrap_err().to_string();
    assert!(one.contains("two different loads"), "{one}");
    assert!(RunLoad::read(Path::new("tests/fixtures/none")).is_err());
}
