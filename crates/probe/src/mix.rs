//! The request mix of a staircase given as one URL.

use std::time::Duration;

use scalelab_load::plan::{Defaults, Executor, Flow, Iteration, Plan, Request, Scenario, Step};

/// A plan of one scenario that GETs `url` once per iteration (its executor is replaced by the
/// staircase).
pub fn one_url(url: &str) -> Plan {
    let name = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .unwrap_or_else(|| "/".to_owned());
    let request = Request {
        name: name.clone(),
        method: "GET".into(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: None,
        checks: Vec::new(),
        tags: Vec::new(),
    };
    Plan {
        target: Some(url.to_owned()),
        defaults: Defaults {
            timeout: Duration::from_secs(30),
            ..Defaults::default()
        },
        thresholds: Vec::new(),
        scenarios: vec![Scenario {
            name: "capacity".into(),
            executor: Executor::ConstantVus {
                vus: 1,
                duration: Duration::from_secs(1),
            },
            iteration: Iteration {
                flows: vec![Flow {
                    name,
                    weight: 1,
                    steps: vec![Step::Request(request)],
                }],
                think: None,
            },
            start_time: Duration::ZERO,
            graceful_stop: Duration::ZERO,
            tags: Vec::new(),
        }],
        warnings: Vec::new(),
    }
}
