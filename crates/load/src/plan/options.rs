//! k6 options — thresholds, the execution shortcuts (`vus`, `duration`, `iterations`, `stages`) and
//! `scenarios` with their executors — read the same way for native plans and k6 option files.

use std::time::Duration;

use scalelab_shape::Stage;

use super::model::limits::{MAX_ITERATIONS, MAX_RATE, MAX_SCENARIOS, MAX_VUS};
use super::model::{Defaults, Executor, Iteration, Plan, Scenario, Threshold};
use super::native::{self, IterationParts};
use super::node::{Ctx, Dialect, Node, Obj, Result, Value};
use super::{artillery, k6};

const EXECUTORS: &[&str] = &[
    "constant-vus",
    "ramping-vus",
    "constant-arrival-rate",
    "ramping-arrival-rate",
    "per-vu-iterations",
    "shared-iterations",
    "phases",
];

/// Why the number of virtual users is bounded.
pub(super) const VUS_WHY: &str =
    "one scalelab process runs at most 100000 virtual users (each holds a connection)";
/// Why an arrival rate is bounded.
pub(super) const RATE_WHY: &str =
    "one scalelab process schedules at most 1000000 arrivals per second";
/// Why an arrival rate per `time_unit` is bounded, naming the time unit when it is not 1 s.
fn rate_why(time_unit: Duration) -> String {
    if time_unit == Duration::from_secs(1) {
        RATE_WHY.to_owned()
    } else {
        format!(
            "{RATE_WHY}, {} per 'timeUnit' of {}",
            MAX_RATE * time_unit.as_secs_f64(),
            humantime::format_duration(time_unit)
        )
    }
}
/// Why a count of iterations is bounded.
const ITERATIONS_WHY: &str =
    "more than one scalelab process can run: 1000000 per second for a year";

/// k6 defaults.
const GRACEFUL: Duration = Duration::from_secs(30);
const MAX_DURATION: Duration = Duration::from_secs(600);

/// A native plan or a k6 options file.
pub(super) fn load(root: &Node, ctx: &mut Ctx) -> Result<Plan> {
    let mut top = root.map(ctx, ctx.dialect.label())?;
    let target = match top.get(ctx, "target") {
        Some(node) => Some(node.str(ctx, "'target'")?.to_string()),
        None => None,
    };
    let mut defaults = Defaults::default();
    if let Some(node) = top.get(ctx, "defaults") {
        native::defaults(node, ctx, &mut defaults)?;
    }
    k6::top_options(&mut top, ctx, &mut defaults)?;
    let thresholds = match top.get(ctx, "thresholds") {
        Some(node) => thresholds(node, ctx)?,
        None => Vec::new(),
    };
    let mut fallback = native::iteration(&mut top, ctx, "default")?;
    if ctx.dialect == Dialect::K6 && !ctx.script {
        if fallback.flows.is_none() {
            fallback = fallback.or(&k6::annotations(&mut top, ctx)?);
        }
        top.skip_annotations();
    }
    let scenarios = scenarios(&mut top, ctx, &fallback)?;
    top.finish(ctx)?;
    Ok(Plan {
        target,
        defaults,
        thresholds,
        scenarios,
        warnings: Vec::new(),
    })
}

/// The scenarios: from a shortcut, from `scenarios`, or k6's default of one VU running once.
fn scenarios(top: &mut Obj, ctx: &mut Ctx, fallback: &IterationParts) -> Result<Vec<Scenario>> {
    let vus = match top.get(ctx, "vus") {
        Some(node) => Some(node.u64_at_most(ctx, "'vus'", MAX_VUS, VUS_WHY)?),
        None => None,
    };
    let iterations = top.entry(ctx, "iterations");
    let duration = top.entry(ctx, "duration");
    let stages = top.entry(ctx, "stages");
    let phases = top.entry(ctx, "phases");
    let shortcuts: Vec<_> = [iterations, duration, stages, phases]
        .into_iter()
        .flatten()
        .collect();
    let named = top.entry(ctx, "scenarios");
    if let (Some(first), Some(named)) = (shortcuts.first(), named) {
        return Err(ctx.error(
            named.key_pos,
            format!(
                "using the shortcut '{}' (line {}) and 'scenarios' together is not allowed, \
                 as in k6; move it into a scenario",
                first.key, first.key_pos.line
            ),
        ));
    }
    if let [_, .., second] = shortcuts.as_slice()
        && !(iterations.is_some() && duration.is_some() && shortcuts.len() == 2)
    {
        return Err(ctx.error(
            second.key_pos,
            format!(
                "the shortcuts {} cannot be combined, as in k6",
                shortcuts
                    .iter()
                    .map(|e| format!("'{}'", e.key))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }
    let executor = if let Some(entry) = iterations {
        Executor::SharedIterations {
            vus: vus.unwrap_or(1),
            iterations: entry.value.u64_at_most(
                ctx,
                "'iterations'",
                MAX_ITERATIONS,
                ITERATIONS_WHY,
            )?,
            max_duration: match duration {
                Some(d) => at_least_a_second(&d.value, ctx, "'duration'")?,
                None => MAX_DURATION,
            },
        }
    } else if let Some(entry) = duration {
        Executor::ConstantVus {
            vus: vus.unwrap_or(1),
            duration: at_least_a_second(&entry.value, ctx, "'duration'")?,
        }
    } else if let Some(entry) = stages {
        Executor::RampingVus {
            start_vus: vus.unwrap_or(1),
            stages: self::stages(&entry.value, ctx, "the plan", (MAX_VUS as f64, VUS_WHY))?,
            graceful_ramp_down: GRACEFUL,
        }
    } else if let Some(entry) = phases {
        let (phases, max_vus) = artillery::phases(&entry.value, ctx, "'phases'")?;
        Executor::Phases { phases, max_vus }
    } else if let Some(named) = named {
        let mut map = named.value.map(ctx, "'scenarios'")?;
        let entries = map.all();
        if entries.is_empty() {
            return Err(ctx.error(named.value.pos, "'scenarios' is empty"));
        }
        if entries.len() > MAX_SCENARIOS {
            return Err(ctx.error(
                named.value.pos,
                format!(
                    "'scenarios' has {} scenarios, above {MAX_SCENARIOS}: one scalelab process runs at most {MAX_SCENARIOS}",
                    entries.len()
                ),
            ));
        }
        return entries
            .into_iter()
            .map(|e| scenario(&e.key, &e.value, ctx, fallback))
            .collect();
    } else {
        Executor::PerVuIterations {
            vus: vus.unwrap_or(1),
            iterations: 1,
            max_duration: MAX_DURATION,
        }
    };
    Ok(vec![Scenario {
        name: "default".to_string(),
        executor,
        iteration: resolve(fallback.clone(), top, ctx)?,
        start_time: Duration::ZERO,
        graceful_stop: GRACEFUL,
        tags: Vec::new(),
    }])
}

/// The iteration, or an error saying what is missing.
fn resolve(parts: IterationParts, obj: &Obj, ctx: &Ctx) -> Result<Iteration> {
    if ctx.script {
        // The script's code is the iteration.
        return Ok(Iteration {
            flows: Vec::new(),
            think: None,
        });
    }
    let Some(flows) = parts.flows else {
        let annotation = if ctx.dialect == Dialect::K6 {
            ", or list the script's HTTP calls in '_requests'"
        } else {
            ""
        };
        return Err(ctx.error(
            obj.pos,
            format!(
                "{} has nothing to run: give it 'requests' or 'flow', or give the plan \
                 top-level ones{annotation}",
                obj.what
            ),
        ));
    };
    Ok(Iteration {
        flows,
        think: parts.think,
    })
}

fn scenario(name: &str, node: &Node, ctx: &mut Ctx, fallback: &IterationParts) -> Result<Scenario> {
    let what = format!("scenario '{name}'");
    let mut obj = node.map(ctx, &what)?;
    let kind = match (obj.get(ctx, "executor"), obj.entry(ctx, "phases")) {
        (Some(node), _) => {
            let kind = node.str(ctx, &format!("'executor' in {what}"))?;
            if kind == "externally-controlled" {
                return Err(ctx.error(
                    node.pos,
                    format!(
                        "{what}: scalelab does not support the k6 executor 'externally-controlled'"
                    ),
                ));
            }
            EXECUTORS
                .iter()
                .find(|e| **e == kind)
                .copied()
                .ok_or_else(|| {
                    ctx.error(
                        node.pos,
                        format!(
                            "unknown executor '{kind}' in {what}{}; executors: {}",
                            scalelab_config::did_you_mean(kind, EXECUTORS.iter().copied()),
                            EXECUTORS.join(", ")
                        ),
                    )
                })?
        }
        (None, Some(_)) => "phases",
        (None, None) => {
            return Err(ctx.error(
                obj.pos,
                format!(
                    "missing required option 'executor' in {what} (one of {})",
                    EXECUTORS.join(", ")
                ),
            ));
        }
    };
    let executor = executor(kind, &mut obj, ctx)?;
    // The timeline is built here once to be validated; running the plan builds it from the same
    // function.
    executor
        .shape()
        .map_err(|e| ctx.error(obj.pos, format!("{what}: {e}")))?;
    let start_time = opt_duration(&mut obj, ctx, "startTime", Duration::ZERO)?;
    let graceful_stop = opt_duration(&mut obj, ctx, "gracefulStop", GRACEFUL)?;
    let tags = match obj.get(ctx, "tags") {
        Some(node) => native::pairs(node, ctx, &format!("'tags' in {what}"))?,
        None => Vec::new(),
    };
    k6::scenario_options(&mut obj, ctx);
    let iteration = resolve(
        native::iteration(&mut obj, ctx, name)?.or(fallback),
        &obj,
        ctx,
    )?;
    obj.finish(ctx)?;
    Ok(Scenario {
        name: name.to_string(),
        executor,
        iteration,
        start_time,
        graceful_stop,
        tags,
    })
}

fn executor(kind: &str, obj: &mut Obj, ctx: &mut Ctx) -> Result<Executor> {
    let what = format!("{} ({kind})", obj.what);
    Ok(match kind {
        "constant-vus" => Executor::ConstantVus {
            vus: at_least_one(obj, ctx, "vus", &what)?,
            duration: at_least_a_second(
                obj.require(ctx, "duration")?,
                ctx,
                &format!("'duration' in {what}"),
            )?,
        },
        "ramping-vus" => Executor::RampingVus {
            start_vus: opt_u64(obj, ctx, "startVUs", 1, (MAX_VUS, VUS_WHY))?,
            stages: stages(
                obj.require(ctx, "stages")?,
                ctx,
                &what,
                (MAX_VUS as f64, VUS_WHY),
            )?,
            graceful_ramp_down: opt_duration(obj, ctx, "gracefulRampDown", GRACEFUL)?,
        },
        "constant-arrival-rate" => {
            let time_unit = time_unit(obj, ctx, &what)?;
            let rate = obj.require(ctx, "rate")?.f64_at_most(
                ctx,
                &format!("'rate' in {what}"),
                MAX_RATE * time_unit.as_secs_f64(),
                &rate_why(time_unit),
            )?;
            let duration = obj.require(ctx, "duration")?;
            let duration = at_least_a_second(duration, ctx, &format!("'duration' in {what}"))?;
            let (pre_allocated_vus, max_vus) = vu_pool(obj, ctx, &what)?;
            Executor::ConstantArrivalRate {
                rate,
                time_unit,
                duration,
                pre_allocated_vus,
                max_vus,
            }
        }
        "ramping-arrival-rate" => {
            let time_unit = time_unit(obj, ctx, &what)?;
            let (max_rate, why) = (MAX_RATE * time_unit.as_secs_f64(), rate_why(time_unit));
            let start_rate = match obj.get(ctx, "startRate") {
                Some(node) => {
                    node.f64_at_most(ctx, &format!("'startRate' in {what}"), max_rate, &why)?
                }
                None => 0.0,
            };
            let stages = stages(obj.require(ctx, "stages")?, ctx, &what, (max_rate, &why))?;
            let (pre_allocated_vus, max_vus) = vu_pool(obj, ctx, &what)?;
            Executor::RampingArrivalRate {
                start_rate,
                time_unit,
                stages,
                pre_allocated_vus,
                max_vus,
            }
        }
        "per-vu-iterations" | "shared-iterations" => {
            let vus = at_least_one(obj, ctx, "vus", &what)?;
            let iterations = opt_u64(obj, ctx, "iterations", 1, (MAX_ITERATIONS, ITERATIONS_WHY))?;
            let max_duration = match obj.get(ctx, "maxDuration") {
                Some(node) => at_least_a_second(node, ctx, &format!("'maxDuration' in {what}"))?,
                None => MAX_DURATION,
            };
            if kind == "per-vu-iterations" {
                Executor::PerVuIterations {
                    vus,
                    iterations,
                    max_duration,
                }
            } else {
                if iterations < vus {
                    return Err(ctx.error(
                        obj.pos,
                        format!("{what}: 'iterations' ({iterations}) cannot be less than 'vus' ({vus}), as in k6"),
                    ));
                }
                Executor::SharedIterations {
                    vus,
                    iterations,
                    max_duration,
                }
            }
        }
        _ => {
            let (phases, max_vus) = artillery::phases(obj.require(ctx, "phases")?, ctx, &what)?;
            let max_vus = match obj.get(ctx, "maxVusers") {
                Some(node) => Some(node.u64_at_most(
                    ctx,
                    &format!("'maxVusers' in {what}"),
                    MAX_VUS,
                    VUS_WHY,
                )?),
                None => max_vus,
            };
            Executor::Phases { phases, max_vus }
        }
    })
}

/// `name`, at most `max.0` (`max.1` says why).
fn opt_u64(
    obj: &mut Obj,
    ctx: &mut Ctx,
    name: &'static str,
    default: u64,
    max: (u64, &str),
) -> Result<u64> {
    let what = format!("'{name}' in {}", obj.what);
    obj.get(ctx, name).map_or(Ok(default), |node| {
        node.u64_at_most(ctx, &what, max.0, max.1)
    })
}

fn at_least_one(obj: &mut Obj, ctx: &mut Ctx, name: &'static str, what: &str) -> Result<u64> {
    let vus = opt_u64(obj, ctx, name, 1, (MAX_VUS, VUS_WHY))?;
    if vus == 0 {
        return Err(ctx.error(obj.pos, format!("'{name}' in {what} must be at least 1")));
    }
    Ok(vus)
}

/// A duration k6 refuses below 1 s (exit 104): `constant-vus` and `constant-arrival-rate`'s
/// `duration`, `maxDuration` of `per-vu-iterations` and `shared-iterations` (k6 v1.1.0: "the
/// duration must be at least 1s").
fn at_least_a_second(node: &Node, ctx: &Ctx, what: &str) -> Result<Duration> {
    let duration = node.duration(ctx, what)?;
    if duration < Duration::from_secs(1) {
        return Err(ctx.error(
            node.pos,
            format!(
                "{what} must be at least 1s, as in k6, but is {}",
                humantime::format_duration(duration)
            ),
        ));
    }
    Ok(duration)
}

fn opt_duration(
    obj: &mut Obj,
    ctx: &mut Ctx,
    name: &'static str,
    default: Duration,
) -> Result<Duration> {
    let what = format!("'{name}' in {}", obj.what);
    obj.get(ctx, name)
        .map_or(Ok(default), |node| node.duration(ctx, &what))
}

fn time_unit(obj: &mut Obj, ctx: &mut Ctx, what: &str) -> Result<Duration> {
    match obj.get(ctx, "timeUnit") {
        Some(node) => native::positive(node, ctx, &format!("'timeUnit' in {what}")),
        None => Ok(Duration::from_secs(1)),
    }
}

/// `preAllocatedVUs` (required) and `maxVUs` (default: `preAllocatedVUs`).
fn vu_pool(obj: &mut Obj, ctx: &mut Ctx, what: &str) -> Result<(u64, u64)> {
    let pre = obj.require(ctx, "preAllocatedVUs")?.u64_at_most(
        ctx,
        &format!("'preAllocatedVUs' in {what}"),
        MAX_VUS,
        VUS_WHY,
    )?;
    let Some(node) = obj.get(ctx, "maxVUs") else {
        return Ok((pre, pre));
    };
    let max = node.u64_at_most(ctx, &format!("'maxVUs' in {what}"), MAX_VUS, VUS_WHY)?;
    if max < pre {
        return Err(ctx.error(
            node.pos,
            format!(
                "'maxVUs' ({max}) in {what} cannot be less than 'preAllocatedVUs' ({pre}), as in k6"
            ),
        ));
    }
    Ok((pre, max))
}

/// k6 stages: `[{duration, target}]`; `target` defaults to 0 as in k6 and is at most `max.0`
/// (VUs or arrivals per time unit), `max.1` saying why.
pub(super) fn stages(
    node: &Node,
    ctx: &mut Ctx,
    what: &str,
    max: (f64, &str),
) -> Result<Vec<Stage>> {
    let items = node.seq(ctx, &format!("'stages' in {what}"))?;
    if items.is_empty() {
        return Err(ctx.error(
            node.pos,
            format!("'stages' in {what} needs at least one stage"),
        ));
    }
    let mut stages = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut obj = item.map(ctx, &format!("stage {} of {what}", i + 1))?;
        let stage_what = obj.what.clone();
        let duration = obj
            .require(ctx, "duration")?
            .duration(ctx, &format!("'duration' in {stage_what}"))?;
        let target = match obj.get(ctx, "target") {
            Some(node) => {
                node.f64_at_most(ctx, &format!("'target' in {stage_what}"), max.0, max.1)?
            }
            None => 0.0,
        };
        obj.finish(ctx)?;
        stages.push(Stage { duration, target });
    }
    Ok(stages)
}

/// `thresholds`: metric -> conditions, each a text or `{threshold, abortOnFail, delayAbortEval}`.
fn thresholds(node: &Node, ctx: &mut Ctx) -> Result<Vec<Threshold>> {
    let mut thresholds = Vec::new();
    for entry in node.map(ctx, "'thresholds'")?.all() {
        let what = format!("threshold '{}'", entry.key);
        let items = match &entry.value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![&entry.value],
        };
        let mut plain = Threshold {
            metric: entry.key.clone(),
            conditions: Vec::new(),
            abort_on_fail: false,
            delay_abort_eval: Duration::ZERO,
        };
        let mut detailed = Vec::new();
        for item in items {
            if let Value::Map(_) = item.value {
                let mut obj = item.map(ctx, &what)?;
                let condition = obj
                    .require(ctx, "threshold")?
                    .str(ctx, &format!("'threshold' in {what}"))?;
                let abort_on_fail = match obj.get(ctx, "abortOnFail") {
                    Some(node) => node.bool(ctx, &format!("'abortOnFail' in {what}"))?,
                    None => false,
                };
                let delay_abort_eval =
                    opt_duration(&mut obj, ctx, "delayAbortEval", Duration::ZERO)?;
                obj.finish(ctx)?;
                detailed.push(Threshold {
                    metric: entry.key.clone(),
                    conditions: vec![condition.to_string()],
                    abort_on_fail,
                    delay_abort_eval,
                });
            } else {
                plain.conditions.push(
                    item.str(ctx, &format!("a condition of {what}"))?
                        .to_string(),
                );
            }
        }
        if !plain.conditions.is_empty() {
            thresholds.push(plain);
        }
        thresholds.extend(detailed);
    }
    Ok(thresholds)
}
