//! `scalelab plan new` plans load back with the shape of their test type.

use std::time::Duration;

use scalelab_load::plan::{load_str, test_plan_yaml};
use scalelab_shape::{Shape, TestType};

#[test]
fn every_test_type_loads_back_with_its_shape() {
    let duration = Duration::from_secs(600);
    for test in TestType::ALL {
        let yaml =
            test_plan_yaml(test, 40.0, duration, Some("http://127.0.0.1:9"), "/api").unwrap();
        let plan = load_str(&yaml, "new.yaml", &Default::default())
            .unwrap_or_else(|e| panic!("{test}: {e}\n{yaml}"));
        assert!(plan.warnings.is_empty(), "{test}: {:?}", plan.warnings);
        assert_eq!(plan.target.as_deref(), Some("http://127.0.0.1:9"));
        let (start, stages) = test.stages(40.0, duration).unwrap();
        let expected = Shape::from_stages(start, &stages).unwrap();
        assert_eq!(plan.offered_load().unwrap(), expected, "{test}");
        assert_eq!(plan.thresholds.len(), 2);
        assert_eq!(
            plan.thresholds.iter().all(|t| t.abort_on_fail),
            test == TestType::Breakpoint
        );
    }
    let embedded = test_plan_yaml(TestType::Load, 5.0, duration, None, "/ping").unwrap();
    assert_eq!(
        load_str(&embedded, "x.yaml", &Default::default())
            .unwrap()
            .target,
        None
    );
}
