//! A plan resolved for running: endpoint and check tables, prepared requests, parsed thresholds.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use scalelab_metrics::threshold::Threshold;
use scalelab_metrics::{Endpoint, EndpointId};

use crate::client::{ClientSettings, PreparedRequest, client_config};
use crate::plan::{self, Check, Executor, Plan, Think};

/// Why a plan cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Request(#[from] crate::client::RequestError),
    #[error(transparent)]
    Threshold(#[from] scalelab_metrics::threshold::ThresholdError),
    #[error("scenario '{0}' has no requests")]
    NoRequests(String),
    #[error("the plan has no scenarios")]
    NoScenarios,
}

/// A plan ready to run.
#[derive(Debug)]
pub struct CompiledPlan {
    pub endpoints: Vec<Endpoint>,
    pub check_names: Vec<String>,
    pub thresholds: Vec<(Threshold, Duration)>,
    pub scenarios: Vec<CompiledScenario>,
    pub client: Arc<ClientSettings>,
}

/// A scenario ready to run.
#[derive(Debug)]
pub struct CompiledScenario {
    /// Position in the plan; per-scenario figures are indexed by it.
    pub index: usize,
    pub name: String,
    pub executor: Executor,
    pub start_time: Duration,
    pub graceful_stop: Duration,
    pub flows: Vec<CompiledFlow>,
    /// Cumulative flow weights, for a weighted pick.
    pub cumulative_weights: Vec<u64>,
    pub think: Option<Think>,
    /// Iterations taken so far, shared by every loader thread (`shared-iterations`).
    pub iterations_taken: Arc<AtomicU64>,
}

#[derive(Debug)]
pub struct CompiledFlow {
    pub steps: Vec<CompiledStep>,
}

#[derive(Debug)]
pub enum CompiledStep {
    Request(Box<CompiledRequest>),
    Think(Think),
}

/// A request with its checks, each with the id results count it under.
#[derive(Debug)]
pub struct CompiledRequest {
    pub prepared: PreparedRequest,
    pub checks: Vec<(usize, Check)>,
    /// Whether a check reads the body (so it must be kept).
    pub needs_body: bool,
    /// Whether a check reads a header (so the headers must be kept).
    pub needs_headers: bool,
}

impl CompiledScenario {
    /// The arrivals per second an open-model scenario's schedule asks for `elapsed` into the run
    /// (`None` for closed-model executors).
    pub fn target_rate(&self, elapsed: Duration) -> Option<f64> {
        let shape = self.executor.arrival_rate()?;
        let started = elapsed.checked_sub(self.start_time);
        Some(started.map_or(0.0, |t| shape.value(t.as_secs_f64())))
    }
}

impl CompiledPlan {
    /// Resolves `plan` against `base` (the target URL requests with a path are sent to).
    pub fn new(plan: &Plan, base: &str) -> Result<Self, CompileError> {
        if plan.scenarios.is_empty() {
            return Err(CompileError::NoScenarios);
        }
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut check_names: Vec<String> = Vec::new();
        let mut scenarios = Vec::new();
        for scenario in &plan.scenarios {
            let mut flows = Vec::new();
            for flow in &scenario.iteration.flows {
                let mut steps = Vec::new();
                for step in &flow.steps {
                    steps.push(match step {
                        plan::Step::Think(think) => CompiledStep::Think(*think),
                        plan::Step::Request(request) => {
                            let endpoint = Endpoint {
                                scenario: scenario.name.clone(),
                                name: request.name.clone(),
                                method: request.method.to_ascii_uppercase(),
                                tags: request.tags.clone(),
                            };
                            let id = index_of(&mut endpoints, endpoint);
                            let prepared = PreparedRequest::new(
                                request,
                                base,
                                &plan.defaults,
                                EndpointId(id as u32),
                            )?;
                            let checks: Vec<(usize, Check)> = request
                                .checks
                                .iter()
                                .map(|check| {
                                    (index_of(&mut check_names, check.label()), check.clone())
                                })
                                .collect();
                            let needs_body = checks
                                .iter()
                                .any(|(_, c)| matches!(c, Check::BodyContains(_)));
                            let needs_headers = checks
                                .iter()
                                .any(|(_, c)| matches!(c, Check::Header { .. }));
                            CompiledStep::Request(Box::new(CompiledRequest {
                                prepared,
                                checks,
                                needs_body,
                                needs_headers,
                            }))
                        }
                    });
                }
                flows.push((flow.weight.max(1) as u64, CompiledFlow { steps }));
            }
            if !flows.iter().any(|(_, f)| {
                f.steps
                    .iter()
                    .any(|s| matches!(s, CompiledStep::Request(_)))
            }) {
                return Err(CompileError::NoRequests(scenario.name.clone()));
            }
            let cumulative_weights = flows
                .iter()
                .scan(0, |sum, (weight, _)| {
                    *sum += weight;
                    Some(*sum)
                })
                .collect();
            scenarios.push(CompiledScenario {
                index: scenarios.len(),
                name: scenario.name.clone(),
                executor: scenario.executor.clone(),
                start_time: scenario.start_time,
                graceful_stop: scenario.graceful_stop,
                flows: flows.into_iter().map(|(_, f)| f).collect(),
                cumulative_weights,
                think: scenario.iteration.think,
                iterations_taken: Arc::default(),
            });
        }
        let mut thresholds = Vec::new();
        for threshold in &plan.thresholds {
            for condition in &threshold.conditions {
                thresholds.push((
                    Threshold::parse(&threshold.metric, condition, threshold.abort_on_fail)?,
                    threshold.delay_abort_eval,
                ));
            }
        }
        Ok(Self {
            endpoints,
            check_names,
            thresholds,
            scenarios,
            client: Arc::new(ClientSettings {
                timeout: plan.defaults.timeout,
                http: plan.defaults.http,
                tls: client_config(plan.defaults.http, plan.defaults.insecure),
            }),
        })
    }

    /// Whether any scenario paces arrivals (the open model), so latency counts from intended times.
    pub fn open_model(&self) -> bool {
        self.scenarios.iter().any(|s| s.executor.is_open_model())
    }

    /// When the last scenario ends (before graceful stops).
    pub fn duration(&self) -> Duration {
        self.scenarios
            .iter()
            .map(|s| s.start_time + s.executor.duration())
            .max()
            .unwrap_or_default()
    }
}

fn index_of<T: PartialEq>(table: &mut Vec<T>, item: T) -> usize {
    match table.iter().position(|existing| *existing == item) {
        Some(index) => index,
        None => {
            table.push(item);
            table.len() - 1
        }
    }
}
