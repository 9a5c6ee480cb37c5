//! What only k6 option files have: the `_requests`/`_sleep_s` annotations that stand for the script's
//! default function, and the k6 options scalelab accepts but does not act on.

use super::model::{Defaults, Flow, Step, Think};
use super::native::{self, IterationParts};
use super::node::{Ctx, Obj, Result};

/// k6 options that change nothing in a scalelab run (or that scalelab cannot honour).
const IGNORED: &[&str] = &[
    "noConnectionReuse",
    "noVUConnectionReuse",
    "noCookiesReset",
    "batch",
    "batchPerHost",
    "httpDebug",
    "maxRedirects",
    "minIterationDuration",
    "rps",
    "setupTimeout",
    "teardownTimeout",
    "noSetup",
    "noTeardown",
    "summaryTrendStats",
    "summaryTimeUnit",
    "systemTags",
    "tags",
    "hosts",
    "dns",
    "tlsVersion",
    "tlsCipherSuites",
    "tlsAuth",
    "blacklistIPs",
    "blockHostnames",
    "localIPs",
    "throw",
    "noThresholds",
    "noSummary",
    "ext",
    "cloud",
    "paused",
    "linger",
    "noUsageReport",
    "executionSegment",
    "executionSegmentSequence",
];

/// Top-level k6 options besides the execution ones: `userAgent`, `insecureSkipTLSVerify`, the
/// ignored ones, and a misplaced `executor` (k6 ignores it: only shortcuts and scenarios count).
pub(super) fn top_options(top: &mut Obj, ctx: &mut Ctx, defaults: &mut Defaults) -> Result<()> {
    if let Some(node) = top.get(ctx, "userAgent") {
        defaults.user_agent = Some(node.text(ctx, "'userAgent'")?);
    }
    if let Some(node) = top.get(ctx, "insecureSkipTLSVerify") {
        defaults.insecure = node.bool(ctx, "'insecureSkipTLSVerify'")?;
    }
    if let Some(node) = top.get(ctx, "discardResponseBodies") {
        defaults.discard_response_bodies = node.bool(ctx, "'discardResponseBodies'")?;
    }
    top.ignore(
        ctx,
        "executor",
        "k6 has no top-level 'executor' option; the executor comes from the shortcuts \
         (stages: ramping-vus, duration: constant-vus, iterations: shared-iterations) or from a scenario",
    );
    for name in IGNORED {
        top.ignore(ctx, name, "scalelab does not use this k6 option");
    }
    Ok(())
}

/// Scenario options scalelab does not act on: `exec`, `env` (but a script's code does),
/// `options`.
pub(super) fn scenario_options(obj: &mut Obj, ctx: &mut Ctx) {
    if ctx.script {
        // Read by the script runtime, which calls `exec` with `env` added to `__ENV`.
        obj.get(ctx, "exec");
        obj.get(ctx, "env");
    } else {
        obj.ignore(
            ctx,
            "exec",
            "scalelab runs the plan's requests, not a script function",
        );
        obj.ignore(
            ctx,
            "env",
            "scalelab has no script to pass environment variables to",
        );
    }
    obj.ignore(ctx, "options", "browser options need the k6 browser module");
}

/// `_requests` (the HTTP calls of one iteration, in order, as one flow) and `_sleep_s` (the sleep
/// at the end of an iteration).
pub(super) fn annotations(top: &mut Obj, ctx: &mut Ctx) -> Result<IterationParts> {
    let think = match top.get(ctx, "_sleep_s") {
        Some(node) => Some(Think::Fixed(node.duration(ctx, "'_sleep_s'")?)),
        None => None,
    };
    let Some(node) = top.get(ctx, "_requests") else {
        return Ok(IterationParts { flows: None, think });
    };
    let items = node.seq(ctx, "'_requests'")?;
    if items.is_empty() {
        return Err(ctx.error(
            node.pos,
            "'_requests' is empty: the script makes no HTTP calls (it has no default function, \
             so k6 refuses to run it too); add 'requests' or 'flow' to give scalelab something to run",
        ));
    }
    let mut steps = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let mut obj = item.map(ctx, &format!("request {} of '_requests'", i + 1))?;
        let request = native::request(&mut obj, ctx)?;
        obj.ignore(
            ctx,
            "batch",
            "scalelab sends the requests of k6 http.batch() one after another, not in parallel",
        );
        obj.finish(ctx)?;
        steps.push(Step::Request(request));
    }
    Ok(IterationParts {
        flows: Some(vec![Flow {
            name: "default".to_string(),
            weight: 1,
            steps,
        }]),
        think,
    })
}
