//! Every wild plan that loads is also runnable: its requests resolve against a target and its
//! thresholds parse, so `scalelab run` fails on none of them after loading.

use scalelab_load::engine::CompiledPlan;
use scalelab_load::plan::{LoadOptions, load_file};

mod corpus;

#[test]
#[cfg_attr(
    not(wild_plans),
    ignore = "no real-plan corpus: set SCALELAB_WILD_PLANS"
)]
fn every_loadable_wild_plan_compiles() {
    let dir = corpus::dir();
    let mut compiled = 0;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the corpus folder lists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "yaml"))
        .collect();
    entries.sort();
    for path in entries {
        // artillery-04 keeps its phases per environment: run it as a user would, with -e.
        let environment = path
            .ends_with("artillery-04.yaml")
            .then(|| "stepped".to_owned());
        let Ok(plan) = load_file(
            &path,
            &LoadOptions {
                environment,
                ..LoadOptions::default()
            },
        ) else {
            continue;
        };
        let base = plan
            .target
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        CompiledPlan::new(&plan, &base).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        compiled += 1;
    }
    assert_eq!(
        compiled, 19,
        "18 load as they are, artillery-04 with -e; k6-05 and k6-06 are refused"
    );
}
