//! `k6/metrics`: a script's Trend, Counter, Rate and Gauge reach the summary with the figures k6
//! would give (computed by hand below), thresholds can use them, and bad definitions are refused
//! at init with their position.

mod common;

use std::sync::Arc;

use common::{run, server, write};
use scalelab_metrics::{CustomKind, CustomSummary, Summary};
use scalelab_script::{Script, ScriptError};

/// One VU, ten iterations (`__ITER` 0–9): the trend gets 1..=10 (tagged `kind:low` up to 5, `high`
/// after), the counter 2 each time (tagged `even:true` on even iterations), the rate true on
/// iterations 0, 4 and 8, the gauge 2 × __ITER − 5 (−5, −3, …, 13).
const SCRIPT: &str = "import { Trend, Counter, Rate, Gauge } from 'k6/metrics';
const trend = new Trend('my_trend', true);
const counter = new Counter('my_counter');
const rate = new Rate('my_rate');
const gauge = new Gauge('my_gauge');
const again = new Trend('my_trend');
export const options = {
  vus: 1,
  iterations: 10,
  thresholds: THRESHOLDS,
};
export default function () {
  trend.add(__ITER + 1, { kind: __ITER < 5 ? 'low' : 'high' });
  counter.add(2, { even: __ITER % 2 === 0 });
  rate.add(__ITER % 4 === 0);
  gauge.add(2 * __ITER - 5);
}
";

fn metric<'a>(metrics: &'a [CustomSummary], name: &str) -> &'a CustomSummary {
    metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {metrics:?}"))
}

async fn run_with(thresholds: &str) -> Summary {
    let base = server(Arc::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[("m.js", &SCRIPT.replace("THRESHOLDS", thresholds))],
    );
    let script = Script::load(&path, Vec::new()).unwrap();
    let outcome = run(&script, &base).await;
    assert_eq!(script.exceptions().first, None);
    outcome.summary
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_four_types_reach_the_summary_with_k6_figures() {
    let summary = run_with("{}").await;
    let metrics = &summary.custom_metrics;
    assert_eq!(metrics.len(), 4, "{metrics:?}");

    let trend = metric(metrics, "my_trend");
    assert_eq!((trend.kind, trend.count), (CustomKind::Trend, 10));
    let stats = trend.trend.unwrap();
    // 1..=10: avg 55 / 10 = 5.5. k6's percentile: rank p × (n − 1), interpolated:
    // med 0.5 × 9 = 4.5 -> 5 + 0.5 × (6 − 5) = 5.5; p(90) 8.1 -> 9.1; p(95) 8.55 -> 9.55.
    let close = |a: f64, b: f64| (a - b).abs() <= b * 0.001 + 1e-9;
    assert!(close(stats.avg, 5.5), "{stats:?}");
    assert!(close(stats.min, 1.0) && close(stats.max, 10.0), "{stats:?}");
    assert!(close(stats.p50, 5.5), "{stats:?}");
    assert!(close(stats.p90, 9.1), "{stats:?}");
    assert!(close(stats.p95, 9.55), "{stats:?}");

    let counter = metric(metrics, "my_counter");
    // 10 × 2 = 20; the rate is that over the run's duration.
    assert_eq!(
        (counter.kind, counter.sum),
        (CustomKind::Counter, Some(20.0))
    );
    assert!(close(
        counter.rate.unwrap(),
        20.0 / summary.duration_seconds
    ));

    let rate = metric(metrics, "my_rate");
    // 3 of 10 non-zero (iterations 0, 4, 8).
    assert_eq!(
        (rate.kind, rate.count, rate.rate),
        (CustomKind::Rate, 10, Some(0.3))
    );

    let gauge = metric(metrics, "my_gauge");
    // Last added 2 × 9 − 5 = 13; smallest 2 × 0 − 5 = −5.
    assert_eq!(
        (gauge.kind, gauge.value, gauge.min, gauge.max),
        (CustomKind::Gauge, Some(13.0), Some(-5.0), Some(13.0))
    );

    // summary.json keeps them and reads back.
    let json = serde_json::to_string(&summary).unwrap();
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back.custom_metrics, summary.custom_metrics);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thresholds_use_k6_aggregations_on_custom_metrics() {
    // Each pair: a condition that holds on the figures above, and one just past them (trend
    // values are kept to 0.1 %, so an exact == is no test of them).
    let summary = run_with(
        "{ my_trend: ['p(95)<9.6', 'p(95)<9.5', 'avg>5.49'], my_counter: ['count>10', 'count>20'], \
         my_rate: ['rate>0.25', 'rate>0.3'], my_gauge: ['value<14', 'value<13'], \
         'my_trend{kind:low}': ['max<5.1', 'max<4.9'], 'my_trend{kind:high}': ['min>5.9'], \
         'my_counter{even:true}': ['count==10'], 'my_counter{even:maybe}': ['count==0'], \
         'my_trend{kind:none}': ['max<100'] }",
    )
    .await;
    let verdicts: Vec<(String, bool)> = summary
        .thresholds
        .iter()
        .map(|t| (format!("{} {}", t.metric, t.condition), t.passed))
        .collect();
    let expected = [
        ("my_trend p(95)<9.6", true),
        ("my_trend p(95)<9.5", false),
        ("my_trend avg>5.49", true),
        ("my_counter count>10", true),
        ("my_counter count>20", false),
        ("my_rate rate>0.25", true),
        ("my_rate rate>0.3", false),
        ("my_gauge value<14", true),
        ("my_gauge value<13", false),
        // Sub-metrics: kind:low has 1..=5, kind:high 6..=10; even:true 5 × 2 = 10; no value was
        // added with even:maybe (a counter's 0) or kind:none (a trend with no samples fails).
        ("my_trend{kind:low} max<5.1", true),
        ("my_trend{kind:low} max<4.9", false),
        ("my_trend{kind:high} min>5.9", true),
        ("my_counter{even:true} count==10", true),
        ("my_counter{even:maybe} count==0", true),
        ("my_trend{kind:none} max<100", false),
    ];
    // The sub-metrics thresholds named are in the summary too, as in k6's.
    let low = metric(&summary.custom_metrics, "my_trend{kind:low}");
    assert_eq!(low.count, 5);
    for (name, passed) in expected {
        assert!(
            verdicts.contains(&(name.to_owned(), passed)),
            "{name}: {verdicts:?}"
        );
    }
}

fn load_error(files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), files);
    match Script::load(&path, Vec::new()) {
        Err(e @ (ScriptError::Exception(_) | ScriptError::Options(_))) => e.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn bad_definitions_and_thresholds_are_refused_at_load() {
    let reused = load_error(&[(
        "reuse.js",
        "import { Trend, Counter } from 'k6/metrics';\nconst a = new Trend('latency');\nconst b = new Counter('latency');\nexport default function () {}\n",
    )]);
    assert!(
        reused.contains("metric 'latency' already exists as a trend, not a counter")
            && reused.contains("reuse.js:3"),
        "{reused}"
    );
    let bad_name = load_error(&[(
        "name.js",
        "import { Rate } from 'k6/metrics';\nconst r = new Rate('my-rate');\nexport default function () {}\n",
    )]);
    assert!(
        bad_name.contains("invalid metric name 'my-rate'") && bad_name.contains("name.js:2"),
        "{bad_name}"
    );
    let added_in_init = load_error(&[(
        "init.js",
        "import { Counter } from 'k6/metrics';\nconst c = new Counter('c');\nc.add(1);\nexport default function () {}\n",
    )]);
    assert!(
        added_in_init.contains("init context") && added_in_init.contains("init.js:3"),
        "{added_in_init}"
    );
}

#[test]
fn thresholds_on_custom_metrics_are_checked_when_compiled() {
    let compile_error = |thresholds: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            &[("t.js", &SCRIPT.replace("THRESHOLDS", thresholds))],
        );
        Script::load(&path, Vec::new())
            .unwrap()
            .compile("http://127.0.0.1:1")
            .unwrap_err()
            .to_string()
    };
    assert!(compile_error("{ my_gauge: ['rate<1'] }").contains("'my_gauge' takes value"));
    assert!(compile_error("{ my_counter: ['p(95)<1'] }").contains("takes count or rate"));
    assert!(compile_error("{ 'my_trend{kind}': ['p(95)<1'] }").contains("key:value"));
    assert!(compile_error("{ my_trnd: ['p(95)<1'] }").contains("unknown metric 'my_trnd'"));
}
