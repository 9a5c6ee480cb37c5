//! Artillery scripts: `config` (target, phases, environments, defaults, http, tls, ensure) and
//! `scenarios`, each a weighted flow; all flows share one scenario run by [`Executor::Phases`].
//! Artillery `phases` are also accepted in native plans (see [`phases`]).

use std::time::Duration;

use scalelab_shape::Phase;

use super::model::limits::{MAX_LOOP_COUNT, MAX_RATE, MAX_SCENARIOS, MAX_VUS};
use super::model::{
    Body, Check, Defaults, Executor, Flow, Iteration, Plan, Request, Scenario, Step, Think,
    Threshold,
};
use super::native::{pairs, status_codes, weight};
use super::node::{Ctx, Entry, Node, Obj, Result, Value};
use scalelab_config::did_you_mean;

const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options"];

/// Artillery's default response timeout.
const TIMEOUT: Duration = Duration::from_secs(10);

/// An Artillery script, with the environment chosen by `-e` merged over `config`, and the target
/// replaced by `--target` when given.
pub(super) fn load(root: &Node, ctx: &mut Ctx, options: &super::LoadOptions) -> Result<Plan> {
    let environment = options.environment.as_deref();
    let mut top = root.map(ctx, "the Artillery script")?;
    let config = top.require(ctx, "config")?;
    let scenarios = top.require(ctx, "scenarios")?;
    let misplaced = top.entry(ctx, "environments");
    if let Some(entry) = misplaced {
        ctx.warn(
            entry.key_pos,
            "'environments' at the top level is ignored, as Artillery reads only config.environments; move it under 'config'",
        );
    }
    for name in [
        "phases",
        "target",
        "defaults",
        "http",
        "ensure",
        "payload",
        "plugins",
        "processor",
        "variables",
    ] {
        top.ignore(ctx, name, "Artillery reads it only under 'config'");
    }
    top.ignore(ctx, "before", "scalelab does not run 'before' flows");
    top.ignore(ctx, "after", "scalelab does not run 'after' flows");
    top.finish(ctx)?;

    let mut cfg = config_with_environment(config, ctx, environment, misplaced)?;
    let target = match cfg.get(ctx, "target") {
        Some(node) => Some(node.str(ctx, "'target' in 'config'")?.to_string()),
        None => None,
    };
    let target = options.target.clone().or(target);
    let environments = cfg.entry(ctx, "environments");
    let Some(phases_node) = cfg.get(ctx, "phases") else {
        return Err(match environments.filter(|_| environment.is_none()) {
            Some(envs) => ctx.error(
                envs.key_pos,
                format!(
                    "the phases are given only per environment; choose one with -e (environments: {})",
                    names(&envs.value).join(", ")
                ),
            ),
            None => ctx.error(cfg.pos, format!("missing required option 'phases' in {}", cfg.what)),
        });
    };
    let (phases, max_vus) = phases(phases_node, ctx, "config.phases")?;
    let defaults = defaults(&mut cfg, ctx)?;
    let thresholds = match cfg.get(ctx, "ensure") {
        Some(node) => ensure(node, ctx)?,
        None => Vec::new(),
    };
    cfg.ignore(
        ctx,
        "payload",
        "scalelab does not read payload files; '{{ }}' uses of its fields stay literal",
    );
    cfg.ignore(ctx, "processor", "scalelab does not run JavaScript");
    cfg.ignore(ctx, "plugins", "scalelab does not load Artillery plugins");
    cfg.ignore(
        ctx,
        "variables",
        "scalelab does not expand template variables",
    );
    cfg.finish(ctx)?;

    let flows = flows(scenarios, ctx, target.as_deref())?;
    let graceful_stop = drain_time(&flows, defaults.timeout);
    Ok(Plan {
        target,
        defaults,
        thresholds,
        scenarios: vec![Scenario {
            name: "default".to_string(),
            executor: Executor::Phases { phases, max_vus },
            iteration: Iteration { flows, think: None },
            start_time: Duration::ZERO,
            graceful_stop,
            tags: Vec::new(),
        }],
        warnings: Vec::new(),
    })
}

/// `config`, with the entries of `config.environments[environment]` replacing its own.
fn config_with_environment<'a>(
    config: &'a Node,
    ctx: &mut Ctx,
    environment: Option<&str>,
    misplaced: Option<&Entry>,
) -> Result<Obj<'a>> {
    let mut cfg = config.map(ctx, "'config'")?;
    let Some(name) = environment else {
        return Ok(cfg);
    };
    let Some(envs) = cfg.get(ctx, "environments") else {
        let hint = misplaced.map_or(String::new(), |e| {
            format!(
                " (the 'environments' on line {} is at the top level, where Artillery ignores it; move it under 'config')",
                e.key_pos.line
            )
        });
        return Err(ctx.error(
            config.pos,
            format!("environment '{name}' not found: 'config' has no 'environments'{hint}"),
        ));
    };
    let known = names(envs);
    let Value::Map(entries) = &envs.value else {
        return Err(ctx.error(envs.pos, "'environments' in 'config' must be a mapping"));
    };
    let Some(env) = entries.iter().rev().find(|e| e.key == name) else {
        let refs: Vec<&str> = known.iter().map(String::as_str).collect();
        return Err(ctx.error(
            envs.pos,
            format!(
                "unknown environment '{name}'{}; environments: {}",
                did_you_mean(name, refs.iter().copied()),
                known.join(", ")
            ),
        ));
    };
    let Value::Map(overrides) = &env.value.value else {
        return Err(ctx.error(
            env.value.pos,
            format!("environment '{name}' must be a mapping"),
        ));
    };
    let Value::Map(base) = &config.value else {
        unreachable!("config.map succeeded");
    };
    let merged = base
        .iter()
        .filter(|e| !overrides.iter().any(|o| o.key == e.key))
        .chain(overrides)
        .collect();
    cfg = Obj::new(
        config.pos,
        merged,
        &format!("'config' with environment '{name}'"),
    );
    Ok(cfg)
}

fn names(node: &Node) -> Vec<String> {
    match &node.value {
        Value::Map(entries) => entries.iter().map(|e| e.key.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Artillery phases (`duration` + `arrivalRate` [+ `rampTo`], `arrivalCount`, or `pause`) and the
/// largest `maxVusers` any phase sets.
pub(super) fn phases(node: &Node, ctx: &mut Ctx, what: &str) -> Result<(Vec<Phase>, Option<u64>)> {
    let items = node.seq(ctx, &format!("'phases' in {what}"))?;
    if items.is_empty() {
        return Err(ctx.error(
            node.pos,
            format!("'phases' in {what} needs at least one phase"),
        ));
    }
    let mut phases = Vec::new();
    let mut caps: Vec<(u64, Node)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut obj = item.map(ctx, &format!("phase {} of {what}", i + 1))?;
        if let Some(name) = obj.get(ctx, "name") {
            obj.what = format!(
                "phase {} ({}) of {what}",
                i + 1,
                name.text(ctx, "a phase name")?
            );
        }
        let here = obj.what.clone();
        if let Some(cap) = obj.get(ctx, "maxVusers") {
            caps.push((
                cap.u64_at_most(
                    ctx,
                    &format!("'maxVusers' in {here}"),
                    MAX_VUS,
                    super::options::VUS_WHY,
                )?,
                cap.clone(),
            ));
        }
        if let Some(pause) = obj.get(ctx, "pause") {
            let duration = pause.duration(ctx, &format!("'pause' in {here}"))?;
            obj.finish(ctx)?;
            phases.push(Phase::Pause { duration });
            continue;
        }
        let duration = obj
            .require(ctx, "duration")?
            .duration(ctx, &format!("'duration' in {here}"))?;
        let rate = obj.get(ctx, "arrivalRate");
        let ramp_to = obj.get(ctx, "rampTo");
        let count = obj.get(ctx, "arrivalCount");
        let phase = match (rate, ramp_to, count) {
            (None, None, Some(count)) => Phase::Count {
                duration,
                count: count.u64_at_most(
                    ctx,
                    &format!("'arrivalCount' in {here}"),
                    // Over 0 s there is no rate: the timeline's check below says so.
                    if duration.is_zero() {
                        u64::MAX
                    } else {
                        (MAX_RATE * duration.as_secs_f64()) as u64
                    },
                    super::options::RATE_WHY,
                )?,
            },
            (Some(_), _, Some(count)) | (_, Some(_), Some(count)) => {
                return Err(ctx.error(
                    count.pos,
                    format!("{here} gives both 'arrivalCount' and 'arrivalRate'; give one"),
                ));
            }
            (None, None, None) => {
                return Err(ctx.error(
                    obj.pos,
                    format!("{here} needs 'arrivalRate', 'arrivalCount' or 'pause'"),
                ));
            }
            (rate, ramp_to, None) => Phase::Rate {
                duration,
                rate: rate.map_or(Ok(0.0), |n| {
                    n.f64_at_most(
                        ctx,
                        &format!("'arrivalRate' in {here}"),
                        MAX_RATE,
                        super::options::RATE_WHY,
                    )
                })?,
                ramp_to: ramp_to
                    .map(|n| {
                        n.f64_at_most(
                            ctx,
                            &format!("'rampTo' in {here}"),
                            MAX_RATE,
                            super::options::RATE_WHY,
                        )
                    })
                    .transpose()?,
            },
        };
        obj.finish(ctx)?;
        phases.push(phase);
    }
    // The timeline is built here once to be validated (an arrivalCount over 0 s has no rate).
    scalelab_shape::Shape::from_phases(&phases)
        .map_err(|e| ctx.error(node.pos, format!("'phases' in {what}: {e}")))?;
    let max_vus = caps.iter().map(|(cap, _)| *cap).max();
    if let Some((_, node)) = caps.iter().find(|(cap, _)| Some(*cap) != max_vus) {
        ctx.warn(
            node.pos,
            format!("phases of {what} set different 'maxVusers'; scalelab caps the whole run at the largest, {}", max_vus.unwrap_or_default()),
        );
    }
    Ok((phases, max_vus))
}

fn defaults(cfg: &mut Obj, ctx: &mut Ctx) -> Result<Defaults> {
    let mut defaults = Defaults {
        timeout: TIMEOUT,
        ..Defaults::default()
    };
    if let Some(node) = cfg.get(ctx, "defaults") {
        let mut obj = node.map(ctx, "config.defaults")?;
        if let Some(headers) = obj.get(ctx, "headers") {
            defaults.headers = pairs(headers, ctx, "config.defaults.headers")?;
        }
        obj.finish(ctx)?;
    }
    if let Some(node) = cfg.get(ctx, "http") {
        let mut obj = node.map(ctx, "config.http")?;
        if let Some(timeout) = obj.get(ctx, "timeout") {
            defaults.timeout = super::native::positive(timeout, ctx, "config.http.timeout")?;
        }
        obj.finish(ctx)?;
    }
    if let Some(node) = cfg.get(ctx, "tls") {
        let mut obj = node.map(ctx, "config.tls")?;
        if let Some(reject) = obj.get(ctx, "rejectUnauthorized") {
            defaults.insecure = !reject.bool(ctx, "config.tls.rejectUnauthorized")?;
        }
        obj.finish(ctx)?;
    }
    Ok(defaults)
}

/// `config.ensure` as k6 thresholds: `p95`/`p99`/`median`/`max`/`min`/`maxErrorRate` (at most) and
/// `thresholds: [{http.response_time.p95: N}]` (below); `conditions` cannot be evaluated.
fn ensure(node: &Node, ctx: &mut Ctx) -> Result<Vec<Threshold>> {
    if !matches!(node.value, Value::Map(_)) {
        ctx.warn(
            node.pos,
            "'ensure' is ignored, as Artillery ignores it: it takes a mapping (thresholds, conditions, or p95/p99/median/max/maxErrorRate)",
        );
        return Ok(Vec::new());
    }
    let mut obj = node.map(ctx, "config.ensure")?;
    let mut durations = Vec::new();
    let mut failed = Vec::new();
    for (key, stat) in [
        ("median", "med"),
        ("p50", "med"),
        ("p95", "p(95)"),
        ("p99", "p(99)"),
        ("max", "max"),
        ("min", "min"),
    ] {
        if let Some(value) = obj.get(ctx, key) {
            durations.push(format!(
                "{stat}<={}",
                value.f64(ctx, &format!("'{key}' in config.ensure"))?
            ));
        }
    }
    if let Some(value) = obj.get(ctx, "maxErrorRate") {
        failed.push(format!(
            "rate<={}",
            value.f64(ctx, "'maxErrorRate' in config.ensure")? / 100.0
        ));
    }
    if let Some(list) = obj.get(ctx, "thresholds") {
        for item in list.seq(ctx, "config.ensure.thresholds")? {
            for entry in item.map(ctx, "a threshold of config.ensure")?.all() {
                let stat = entry
                    .key
                    .strip_prefix("http.response_time.")
                    .and_then(|s| match s {
                        "median" | "p50" => Some("med".to_string()),
                        "mean" => Some("avg".to_string()),
                        "min" | "max" => Some(s.to_string()),
                        "p75" | "p90" | "p95" | "p99" => Some(format!("p({})", &s[1..])),
                        "p999" => Some("p(99.9)".to_string()),
                        _ => None,
                    });
                match stat {
                    Some(stat) => durations.push(format!("{stat}<{}", entry.value.f64(ctx, &format!("'{}' in config.ensure.thresholds", entry.key))?)),
                    None => ctx.warn(entry.key_pos, format!("the ensure threshold '{}' is not supported; scalelab checks only http.response_time", entry.key)),
                }
            }
        }
    }
    obj.ignore(
        ctx,
        "conditions",
        "scalelab does not evaluate Artillery expressions",
    );
    obj.finish(ctx)?;
    let threshold = |metric: &str, conditions: Vec<String>| Threshold {
        metric: metric.to_string(),
        conditions,
        abort_on_fail: false,
        delay_abort_eval: Duration::ZERO,
    };
    Ok([
        threshold("http_req_duration", durations),
        threshold("http_req_failed", failed),
    ]
    .into_iter()
    .filter(|t| !t.conditions.is_empty())
    .collect())
}

/// Each Artillery scenario as one weighted flow.
fn flows(node: &Node, ctx: &mut Ctx, target: Option<&str>) -> Result<Vec<Flow>> {
    let items = node.seq(ctx, "'scenarios'")?;
    if items.is_empty() {
        return Err(ctx.error(node.pos, "'scenarios' is empty"));
    }
    if items.len() > MAX_SCENARIOS {
        return Err(ctx.error(
            node.pos,
            format!(
                "'scenarios' has {} scenarios, above {MAX_SCENARIOS}: one scalelab process runs at most {MAX_SCENARIOS}",
                items.len()
            ),
        ));
    }
    let mut flows = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut obj = item.map(ctx, &format!("scenario {}", i + 1))?;
        let name = match obj.get(ctx, "name") {
            Some(node) => node.text(ctx, "a scenario name")?,
            None => format!("scenario {}", i + 1),
        };
        obj.what = format!("scenario '{name}'");
        let what = obj.what.clone();
        let weight = match obj.get(ctx, "weight") {
            Some(node) => {
                let w = weight(node, ctx, &format!("'weight' in {what}"))?;
                if w == 0 {
                    ctx.warn(node.pos, format!("{what} has weight 0: it is never chosen"));
                }
                w
            }
            None => 1,
        };
        if let Some(engine) = obj.get(ctx, "engine") {
            let kind = engine.str(ctx, &format!("'engine' in {what}"))?;
            if kind != "http" {
                return Err(ctx.error(
                    engine.pos,
                    format!("{what} uses the '{kind}' engine; scalelab speaks only HTTP"),
                ));
            }
        }
        for hook in [
            "beforeScenario",
            "afterScenario",
            "beforeRequest",
            "afterResponse",
        ] {
            obj.ignore(ctx, hook, "scalelab does not run JavaScript hooks");
        }
        let steps = steps(obj.require(ctx, "flow")?, ctx, target, &what)?;
        obj.finish(ctx)?;
        flows.push(Flow {
            name,
            weight,
            steps,
        });
    }
    Ok(flows)
}

fn steps(node: &Node, ctx: &mut Ctx, target: Option<&str>, what: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    for (i, item) in node
        .seq(ctx, &format!("the flow of {what}"))?
        .iter()
        .enumerate()
    {
        let mut obj = item.map(ctx, &format!("step {} of {what}", i + 1))?;
        let here = obj.what.clone();
        if let Some((method, node)) = METHODS
            .iter()
            .find_map(|m| obj.get(ctx, m).map(|n| (*m, n)))
        {
            steps.push(Step::Request(request(method, node, ctx, target, &here)?));
        } else if let Some(node) = obj.get(ctx, "think") {
            steps.push(Step::Think(Think::Fixed(
                node.duration(ctx, &format!("'think' in {here}"))?,
            )));
        } else if let Some(node) = obj.get(ctx, "loop") {
            steps.push(loop_step(node, &mut obj, ctx, target, &here)?);
        } else if let Some(node) = obj.get(ctx, "function") {
            ctx.warn(
                node.pos,
                format!(
                    "'function: {}' in {here} is skipped: scalelab does not run JavaScript",
                    node.text(ctx, "a function name")?
                ),
            );
        } else if let Some(node) = obj.get(ctx, "log") {
            ctx.warn(node.pos, format!("'log' in {here} is skipped"));
        }
        obj.finish(ctx)?;
    }
    Ok(steps)
}

/// A `loop` with `count` (run `count` times, not unrolled); without a count Artillery loops
/// forever, scalelab runs it once.
fn loop_step(
    node: &Node,
    obj: &mut Obj,
    ctx: &mut Ctx,
    target: Option<&str>,
    what: &str,
) -> Result<Step> {
    let inner = steps(node, ctx, target, &format!("the loop of {what}"))?;
    obj.ignore(
        ctx,
        "over",
        "scalelab does not loop over data; the loop body runs once per 'count'",
    );
    let count = match obj.get(ctx, "count") {
        Some(count) => count.u64_at_most(
            ctx,
            &format!("'count' in {what}"),
            MAX_LOOP_COUNT,
            "a loop repeats at most 1000000 times",
        )?,
        None => {
            ctx.warn(node.pos, format!("the loop in {what} has no 'count' (Artillery repeats it until the run ends); scalelab runs it once"));
            1
        }
    };
    Ok(Step::Loop {
        count,
        steps: inner,
    })
}

fn request(
    method: &str,
    node: &Node,
    ctx: &mut Ctx,
    target: Option<&str>,
    what: &str,
) -> Result<Request> {
    let mut obj = node.map(ctx, &format!("'{method}' in {what}"))?;
    let what = obj.what.clone();
    let url_node = obj.require(ctx, "url")?;
    if let Some((scheme, _)) = url_node
        .str(ctx, &format!("'url' in {what}"))?
        .split_once("://")
        && !matches!(scheme, "http" | "https")
    {
        return Err(ctx.error(
            url_node.pos,
            format!("'url' in {what} must start with http:// or https://"),
        ));
    }
    let mut url = template(
        url_node.str(ctx, &format!("'url' in {what}"))?,
        url_node,
        ctx,
        target,
        &what,
    );
    if let Some(qs) = obj.get(ctx, "qs") {
        let query: Vec<String> = pairs(qs, ctx, &format!("'qs' in {what}"))?
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query.join("&"));
    }
    let headers = match obj.get(ctx, "headers") {
        Some(node) => pairs(node, ctx, &format!("'headers' in {what}"))?
            .into_iter()
            .map(|(k, v)| {
                let v = template(&v, node, ctx, target, &what);
                (k, v)
            })
            .collect(),
        None => Vec::new(),
    };
    let body = match (obj.get(ctx, "json"), obj.get(ctx, "body")) {
        (Some(json), _) => Some(Body::Json(template(
            &json.to_json(ctx, &format!("'json' in {what}"))?.to_string(),
            json,
            ctx,
            target,
            &what,
        ))),
        (None, Some(body)) => Some(Body::Text(template(
            &body.text(ctx, &format!("'body' in {what}"))?,
            body,
            ctx,
            target,
            &what,
        ))),
        (None, None) => None,
    };
    let checks = match obj.get(ctx, "expect") {
        Some(node) => expect(node, ctx, &what)?,
        None => Vec::new(),
    };
    let name = match obj.get(ctx, "name") {
        Some(node) => node.text(ctx, &format!("'name' in {what}"))?,
        None => format!("{} {url}", method.to_ascii_uppercase()),
    };
    obj.ignore(
        ctx,
        "capture",
        "scalelab does not capture response values; '{{ }}' uses of them stay literal",
    );
    for hook in ["beforeRequest", "afterResponse"] {
        obj.ignore(ctx, hook, "scalelab does not run JavaScript hooks");
    }
    for unsupported in [
        "cookie",
        "auth",
        "form",
        "formData",
        "followRedirect",
        "gzip",
        "ifTrue",
        "match",
    ] {
        obj.ignore(ctx, unsupported, "scalelab does not support it");
    }
    obj.finish(ctx)?;
    Ok(Request {
        name,
        method: method.to_ascii_uppercase(),
        url,
        headers,
        body,
        checks,
        tags: Vec::new(),
    })
}

/// `text` with `{{ target }}` replaced by the target; any other `{{ variable }}` stays as written,
/// with a warning.
fn template(text: &str, node: &Node, ctx: &mut Ctx, target: Option<&str>, what: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let mut unresolved = Vec::new();
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start..].find("}}") else {
            break;
        };
        let name = rest[start + 2..start + len].trim();
        out.push_str(&rest[..start]);
        match (name, target) {
            ("target", Some(target)) => out.push_str(target),
            _ => {
                out.push_str(&rest[start..start + len + 2]);
                unresolved.push(name.to_string());
            }
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    if !unresolved.is_empty() {
        ctx.warn(
            node.pos,
            format!(
                "{what} uses the template variable(s) {}: scalelab does not expand templates and sends the text as written",
                unresolved.iter().map(|n| format!("'{{{{ {n} }}}}'")).collect::<Vec<_>>().join(", ")
            ),
        );
    }
    out
}

/// `expect`: `statusCode`, `contentType`, `hasHeader`; other expectations are not supported.
fn expect(node: &Node, ctx: &mut Ctx, what: &str) -> Result<Vec<Check>> {
    let items = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut checks = Vec::new();
    for item in items {
        let mut obj = item.map(ctx, &format!("'expect' in {what}"))?;
        if let Some(code) = obj.get(ctx, "statusCode") {
            checks.push(Check::Status(status_codes(
                code,
                ctx,
                &format!("'statusCode' in {what}"),
            )?));
        }
        if let Some(kind) = obj.get(ctx, "contentType") {
            checks.push(Check::Header {
                name: "content-type".into(),
                contains: kind.text(ctx, "'contentType'")?,
            });
        }
        if let Some(header) = obj.get(ctx, "hasHeader") {
            checks.push(Check::Header {
                name: header.text(ctx, "'hasHeader'")?,
                contains: String::new(),
            });
        }
        for unsupported in [
            "hasProperty",
            "notHasProperty",
            "equals",
            "matchesRegexp",
            "cdnHit",
        ] {
            obj.ignore(
                ctx,
                unsupported,
                "scalelab does not support this expectation",
            );
        }
        obj.finish(ctx)?;
    }
    Ok(checks)
}

/// How long a started user may take to finish (Artillery waits for every one): the longest flow's
/// think time plus one timeout per request, loops counted, at most a year.
fn drain_time(flows: &[Flow], timeout: Duration) -> Duration {
    fn seconds(steps: &[Step], timeout: f64) -> f64 {
        steps
            .iter()
            .map(|step| match step {
                Step::Request(_) => timeout,
                Step::Think(Think::Fixed(d)) | Step::Think(Think::Uniform { max: d, .. }) => {
                    d.as_secs_f64()
                }
                Step::Loop { count, steps } => *count as f64 * seconds(steps, timeout),
            })
            .sum()
    }
    let longest = flows
        .iter()
        .map(|flow| seconds(&flow.steps, timeout.as_secs_f64()))
        .fold(0.0, f64::max);
    Duration::from_secs_f64(longest.min(super::model::limits::MAX_DURATION.as_secs_f64()))
}
