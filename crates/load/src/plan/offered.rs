//! The offered load of a plan, in requests per second, for the simulator.

use scalelab_shape::Shape;

use super::{Plan, Step};

impl Plan {
    /// Requests per second the plan offers over time: each arrival-rate scenario's schedule times
    /// its requests per iteration (averaged over its weighted flows), summed over the scenarios from
    /// their start times. A closed-model scenario (VUs) has no offered load of its own — its rate
    /// depends on the latency it meets — so it is an error that names it.
    pub fn offered_load(&self) -> Result<Shape, String> {
        let mut parts = Vec::new();
        for scenario in &self.scenarios {
            let shape = scenario
                .executor
                .shape()
                .map_err(|e| format!("scenario '{}': {e}", scenario.name))?;
            let rate = shape.filter(|_| scenario.executor.is_open_model()).ok_or_else(|| {
                format!(
                    "scenario '{}' runs virtual users (closed model): its request rate depends on the \
                     latency it meets, so it offers no load to simulate; use an arrival-rate executor, \
                     Artillery phases, --stages or --trace",
                    scenario.name
                )
            })?;
            let flows = &scenario.iteration.flows;
            let total_weight: f64 = flows.iter().map(|f| f64::from(f.weight)).sum();
            let requests_per_iteration = if total_weight == 0.0 {
                0.0
            } else {
                flows
                    .iter()
                    .map(|f| f64::from(f.weight) * Step::requests(&f.steps) as f64)
                    .sum::<f64>()
                    / total_weight
            };
            parts.push((scenario.start_time, rate.scaled(requests_per_iteration)));
        }
        if parts.is_empty() {
            return Err("the plan has no scenarios".into());
        }
        let parts: Vec<_> = parts
            .iter()
            .map(|(offset, shape)| (*offset, shape))
            .collect();
        Ok(Shape::sum(&parts))
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{LoadOptions, load_str};

    #[test]
    fn arrival_rates_times_requests_per_iteration() {
        let plan = load_str(
            "scenarios:\n  a:\n    executor: constant-arrival-rate\n    rate: 600\n    timeUnit: 1m\n    duration: 10s\n    preAllocatedVUs: 1\n    flow: [{path: /a}, {think: 1s}, {path: /b}]\n  b:\n    executor: ramping-arrival-rate\n    startTime: 5s\n    startRate: 0\n    preAllocatedVUs: 1\n    stages: [{duration: 10s, target: 20}]\n    requests: [{path: /x, weight: 1}, {path: /y, weight: 3}]\n",
            "plan.yaml",
            &LoadOptions::default(),
        )
        .unwrap();
        let load = plan.offered_load().unwrap();
        // a: 10 iterations/s x 2 requests = 20/s for 10 s; b: 0 -> 20/s from 5 s to 15 s, 1 request each.
        assert!((load.value(2.0) - 20.0).abs() < 1e-9);
        assert!((load.value(10.0) - 10.0).abs() < 1e-9);
        assert!((load.integral(15.0) - (200.0 + 100.0)).abs() < 1e-6);
    }

    #[test]
    fn closed_model_scenarios_are_named_in_the_error() {
        let plan = load_str("scenarios:\n  users:\n    executor: constant-vus\n    vus: 2\n    duration: 1s\n    requests: [{path: /}]\n", "p.yaml", &LoadOptions::default()).unwrap();
        assert!(
            plan.offered_load()
                .unwrap_err()
                .contains("scenario 'users' runs virtual users")
        );
    }
}
