//! A plan resolved for running: endpoint and check tables, prepared requests, parsed thresholds.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use scalelab_metrics::threshold::{Submetric, Threshold};
use scalelab_metrics::{Endpoint, EndpointId};
use scalelab_shape::Shard;

use super::names::Names;
use super::program::Program;
use crate::client::{ClientSettings, PreparedRequest, client_config};
use crate::executor::Schedule;
use crate::plan::{self, Check, Defaults, Executor, Plan, Think};

/// Why a plan cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    #[error(transparent)]
    Request(#[from] crate::client::RequestError),
    #[error(transparent)]
    Threshold(#[from] scalelab_metrics::threshold::ThresholdError),
    #[error("scenario '{0}' has no requests")]
    NoRequests(String),
    #[error("scenario '{0}' has requests, but the plan runs a script")]
    RequestsAndScript(String),
    #[error("every flow of scenario '{0}' has weight 0, so none would ever run")]
    ZeroWeights(String),
    #[error("scenario '{0}': {1}")]
    Shape(String, scalelab_shape::ShapeError),
    #[error("the plan has no scenarios")]
    NoScenarios,
}

/// A plan ready to run.
#[derive(Debug)]
pub struct CompiledPlan {
    /// Endpoint and check names: the plan's, and a script's as it runs.
    pub names: Names,
    pub thresholds: Vec<(Threshold, Duration)>,
    /// Sub-metrics of a script's custom metrics that thresholds name (k6 keeps only those).
    pub submetrics: Vec<Submetric>,
    pub scenarios: Vec<CompiledScenario>,
    pub client: Arc<ClientSettings>,
    /// The code iterations run, instead of the scenarios' flows (a k6 script).
    pub program: Option<Arc<dyn Program>>,
    /// The base URL relative request paths join (a script's requests are resolved as they run).
    pub base: String,
    pub defaults: Defaults,
}

/// A scenario ready to run.
#[derive(Debug)]
pub struct CompiledScenario {
    /// Position in the plan; per-scenario figures are indexed by it.
    pub index: usize,
    pub name: String,
    pub executor: Executor,
    /// The executor with its timeline, built once.
    pub(crate) schedule: Schedule,
    pub start_time: Duration,
    pub graceful_stop: Duration,
    /// Tags every request of the scenario carries (k6's scenario `tags`).
    pub tags: Vec<(String, String)>,
    pub flows: Vec<CompiledFlow>,
    /// Cumulative flow weights, for a weighted pick.
    pub cumulative_weights: Vec<u64>,
    pub think: Option<Think>,
    /// Iterations taken so far, shared by every loader thread (`shared-iterations`).
    pub iterations_taken: Arc<AtomicU64>,
    /// Loader threads done with the scenario: the last counts what `shared-iterations` left
    /// undone.
    pub threads_done: Arc<AtomicU64>,
}

#[derive(Debug)]
pub struct CompiledFlow {
    pub steps: Vec<CompiledStep>,
}

#[derive(Debug)]
pub enum CompiledStep {
    Request(Box<CompiledRequest>),
    Think(Think),
    /// `steps`, `count` times over.
    Loop {
        count: u64,
        steps: Vec<CompiledStep>,
    },
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
    /// How long the scenario starts iterations for, from its start time (its timeline's length).
    pub fn duration(&self) -> Duration {
        self.schedule.duration()
    }

    /// The arrivals per second an open-model scenario's schedule asks for `elapsed` into the run
    /// (`None` for closed-model executors).
    pub fn target_rate(&self, elapsed: Duration) -> Option<f64> {
        let shape = self.schedule.arrival_rate()?;
        let started = elapsed.checked_sub(self.start_time);
        Some(started.map_or(0.0, |t| shape.value(t.as_secs_f64())))
    }
}

impl CompiledPlan {
    /// Resolves `plan` against `base` (the target URL requests with a path are sent to).
    pub fn new(plan: &Plan, base: &str) -> Result<Self, CompileError> {
        Self::build(plan, base, None)
    }

    /// A plan whose iterations run `program` (a k6 script): its scenarios give only the executors.
    pub fn with_program(
        plan: &Plan,
        base: &str,
        program: Arc<dyn Program>,
    ) -> Result<Self, CompileError> {
        Self::build(plan, base, Some(program))
    }

    fn build(
        plan: &Plan,
        base: &str,
        program: Option<Arc<dyn Program>>,
    ) -> Result<Self, CompileError> {
        if plan.scenarios.is_empty() {
            return Err(CompileError::NoScenarios);
        }
        let mut endpoints: Vec<Endpoint> = Vec::new();
        let mut check_names: Vec<String> = Vec::new();
        let mut scenarios = Vec::new();
        for scenario in &plan.scenarios {
            let mut flows = Vec::new();
            for flow in &scenario.iteration.flows {
                let steps = compile_steps(
                    &flow.steps,
                    scenario,
                    base,
                    plan,
                    &mut endpoints,
                    &mut check_names,
                )?;
                // Weight 0: never picked, as in Artillery.
                flows.push((u64::from(flow.weight), CompiledFlow { steps }));
            }
            let requests = scenario
                .iteration
                .flows
                .iter()
                .map(|flow| plan::Step::requests(&flow.steps))
                .fold(0, u64::saturating_add);
            match (requests, &program) {
                (0, None) => return Err(CompileError::NoRequests(scenario.name.clone())),
                (1.., Some(_)) => {
                    return Err(CompileError::RequestsAndScript(scenario.name.clone()));
                }
                _ => {}
            }
            if program.is_none() && flows.iter().all(|(weight, _)| *weight == 0) {
                return Err(CompileError::ZeroWeights(scenario.name.clone()));
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
                schedule: Schedule::new(&scenario.executor)
                    .map_err(|e| CompileError::Shape(scenario.name.clone(), e))?,
                start_time: scenario.start_time,
                graceful_stop: scenario.graceful_stop,
                tags: scenario.tags.clone(),
                flows: flows.into_iter().map(|(_, f)| f).collect(),
                cumulative_weights,
                think: scenario.iteration.think,
                iterations_taken: Arc::default(),
                threads_done: Arc::default(),
            });
        }
        let custom = program
            .as_ref()
            .map(|p| p.custom_metrics())
            .unwrap_or_default();
        let mut thresholds = Vec::new();
        for threshold in &plan.thresholds {
            for condition in &threshold.conditions {
                thresholds.push((
                    Threshold::parse_with(
                        &threshold.metric,
                        condition,
                        threshold.abort_on_fail,
                        &custom,
                    )?,
                    threshold.delay_abort_eval,
                ));
            }
        }
        let mut submetrics: Vec<Submetric> = Vec::new();
        for (threshold, _) in &thresholds {
            if let Some(sub) = threshold.submetric()
                && !submetrics.iter().any(|s| s.key == sub.key)
            {
                submetrics.push(sub);
            }
        }
        let names = Names::default();
        for endpoint in endpoints {
            names.endpoint(endpoint);
        }
        for check in &check_names {
            names.check(check);
        }
        Ok(Self {
            names,
            thresholds,
            submetrics,
            scenarios,
            client: Arc::new(ClientSettings {
                timeout: plan.defaults.timeout,
                http: plan.defaults.http,
                tls: client_config(plan.defaults.http, plan.defaults.insecure),
            }),
            program,
            base: base.to_owned(),
            defaults: plan.defaults.clone(),
        })
    }

    /// Every endpoint so far (a script's grow as it runs), in id order.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.names.endpoints()
    }

    /// Every check name so far, in id order.
    pub fn check_names(&self) -> Vec<String> {
        self.names.checks()
    }

    /// Whether any scenario paces arrivals (the open model), so latency counts from intended times.
    pub fn open_model(&self) -> bool {
        self.scenarios.iter().any(|s| s.executor.is_open_model())
    }

    /// The most VUs k6 plans for at once (`vus_max` before any unplanned VU): each scenario
    /// holds its planned VUs from its `startTime` to its end plus `gracefulStop`, and scenarios
    /// that overlap add up (k6's execution plan, `lib/execution.go`). `shard` takes its share.
    pub fn planned_vus(&self, shard: Shard) -> u64 {
        self.vus_held(shard, |s| s.executor.planned_vus())
    }

    /// The most VUs the plan may run at once, as k6's `inspect --execution-requirements` gives
    /// `maxVUs`: [`CompiledPlan::planned_vus`] with each arrival-rate scenario at its `maxVUs`.
    /// `None` when a scenario has no bound (Artillery phases without `maxVusers`).
    pub fn max_vus(&self, shard: Shard) -> Option<u64> {
        if self
            .scenarios
            .iter()
            .any(|s| s.executor.max_vus().is_none())
        {
            return None;
        }
        Some(self.vus_held(shard, |s| s.executor.max_vus().unwrap_or(0)))
    }

    /// The most of `vus` (per scenario) held at once, each scenario holding them from its start
    /// to its end plus its graceful stop.
    fn vus_held(&self, shard: Shard, vus: impl Fn(&CompiledScenario) -> u64) -> u64 {
        let mut changes: Vec<(Duration, i128)> = Vec::new();
        for s in &self.scenarios {
            let vus = i128::from(shard.share(vus(s)));
            changes.push((s.start_time, vus));
            changes.push((s.start_time + s.duration() + s.graceful_stop, -vus));
        }
        // At the same instant a scenario's end comes before the next one's start.
        changes.sort_by_key(|&(at, change)| (at, change));
        let mut held: i128 = 0;
        let mut most = 0;
        for (_, change) in changes {
            held += change;
            most = most.max(held);
        }
        u64::try_from(most).unwrap_or(0)
    }

    /// The longest the run may take: the latest scenario end plus its graceful stop.
    pub fn max_duration(&self) -> Duration {
        self.scenarios
            .iter()
            .map(|s| s.start_time + s.duration() + s.graceful_stop)
            .max()
            .unwrap_or_default()
    }

    /// What will run, before it runs, as k6 shows it: one line for the plan, one per scenario.
    pub fn banner(&self) -> String {
        let mut text = format!(
            "  scenarios: {} scenario{}, {} max duration (incl. graceful stop):\n",
            self.scenarios.len(),
            if self.scenarios.len() == 1 { "" } else { "s" },
            scalelab_config::format_duration(self.max_duration())
        );
        for scenario in &self.scenarios {
            let start = if scenario.start_time.is_zero() {
                String::new()
            } else {
                format!(
                    ", startTime: {}",
                    scalelab_config::format_duration(scenario.start_time)
                )
            };
            text += &format!(
                "           * {}: {} [{}] (gracefulStop: {}{start})\n",
                scenario.name,
                scenario.executor.describe(),
                scenario.executor.kind(),
                scalelab_config::format_duration(scenario.graceful_stop)
            );
        }
        text
    }

    /// When the last scenario ends (before graceful stops).
    pub fn duration(&self) -> Duration {
        self.scenarios
            .iter()
            .map(|s| s.start_time + s.duration())
            .max()
            .unwrap_or_default()
    }
}

/// A request's tags: its scenario's, then its own (which win over a scenario tag of the same name).
pub(crate) fn tagged(
    scenario: &[(String, String)],
    request: &[(String, String)],
) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = scenario
        .iter()
        .filter(|(name, _)| request.iter().all(|(own, _)| own != name))
        .cloned()
        .collect();
    tags.extend(request.iter().cloned());
    tags
}

/// Resolves a flow's steps (loops stay loops), adding their endpoints and checks to the tables.
fn compile_steps(
    steps: &[plan::Step],
    scenario: &plan::Scenario,
    base: &str,
    plan: &Plan,
    endpoints: &mut Vec<Endpoint>,
    check_names: &mut Vec<String>,
) -> Result<Vec<CompiledStep>, CompileError> {
    let mut compiled = Vec::new();
    for step in steps {
        compiled.push(match step {
            plan::Step::Think(think) => CompiledStep::Think(*think),
            plan::Step::Loop { count, steps } => CompiledStep::Loop {
                count: *count,
                steps: compile_steps(steps, scenario, base, plan, endpoints, check_names)?,
            },
            plan::Step::Request(request) => {
                let endpoint = Endpoint {
                    scenario: scenario.name.clone(),
                    name: request.name.clone(),
                    method: request.method.to_ascii_uppercase(),
                    tags: tagged(&scenario.tags, &request.tags),
                };
                let id = index_of(endpoints, endpoint);
                let prepared =
                    PreparedRequest::new(request, base, &plan.defaults, EndpointId(id as u32))?;
                let checks: Vec<(usize, Check)> = request
                    .checks
                    .iter()
                    .map(|check| (index_of(check_names, check.label()), check.clone()))
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
    Ok(compiled)
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
