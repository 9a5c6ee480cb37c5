//! The entry points: read a plan file, detect its dialect, and load it.

use std::path::Path;

use serde_saphyr::options::{DuplicateKeyPolicy, NonFiniteFloatPolicy};

use super::error::{PlanError, Pos};
use super::model::Plan;
use super::node::{Ctx, Dialect, Node, Value};
use super::{artillery, options};

/// How to load a plan.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The Artillery environment to merge over `config` (Artillery's `-e`).
    pub environment: Option<String>,
    /// A base URL that replaces the plan's target, `{{ target }}` in Artillery URLs included
    /// (`--target`).
    pub target: Option<String>,
}

/// Loads the plan in `path` (native, k6 options or Artillery; YAML, or JSON when the name ends in
/// `.json`).
pub fn load_file(path: &Path, options: &LoadOptions) -> Result<Plan, PlanError> {
    let origin = path.display().to_string();
    let text = scalelab_config::read_text_bounded(path, scalelab_config::MAX_CONFIG_BYTES)
        .map_err(|source| PlanError::Read {
            path: origin.clone(),
            source,
        })?;
    load_str(&text, &origin, options)
}

/// Loads a plan from `text`; `origin` names it in messages and decides JSON (`*.json`) or YAML.
pub fn load_str(text: &str, origin: &str, options: &LoadOptions) -> Result<Plan, PlanError> {
    let root = parse(text, origin, origin.to_ascii_lowercase().ends_with(".json"))?;
    let dialect = detect(&root);
    let mut ctx = Ctx::new(origin, dialect);
    let mut plan = match dialect {
        Dialect::Artillery => artillery::load(&root, &mut ctx, options)?,
        Dialect::Native | Dialect::K6 => {
            if let Some(name) = &options.environment {
                ctx.warn(
                    root.pos,
                    format!("the environment '{name}' is ignored: environments are for Artillery scripts, and this is a {}", dialect.label()),
                );
            }
            options::load(&root, &mut ctx)?
        }
    };
    if let Some(target) = &options.target {
        plan.target = Some(target.clone());
    }
    plan.warnings = ctx.warnings;
    Ok(plan)
}

/// Loads the `options` a k6 script exports, given as pretty-printed JSON (positions in messages are
/// its lines; `origin` names it): its scenarios carry their executors, and the script's code is
/// what each iteration runs.
pub fn load_script_options(json: &str, origin: &str) -> Result<Plan, PlanError> {
    let root = parse(json, origin, true)?;
    let mut ctx = Ctx::new(origin, Dialect::K6);
    ctx.script = true;
    let mut plan = options::load(&root, &mut ctx)?;
    plan.warnings = ctx.warnings;
    Ok(plan)
}

/// The document as a tree of positioned nodes. JSON is checked by serde_json first, for its precise
/// syntax errors, then read like YAML (whose flow style it is) with the last duplicate key winning.
fn parse(text: &str, origin: &str, json: bool) -> Result<Node, PlanError> {
    let invalid = |line, column, message: String| PlanError::Invalid {
        origin: origin.to_string(),
        line,
        column,
        message,
    };
    if json {
        serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m);
            invalid(
                e.line() as u64,
                e.column() as u64,
                format!("invalid JSON: {message}"),
            )
        })?;
    }
    let options = serde_saphyr::options! {
        duplicate_keys: if json { DuplicateKeyPolicy::LastWins } else { DuplicateKeyPolicy::Error },
        // NaN and infinities reach the field that reads them, which refuses them by name.
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
    };
    serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| {
        let pos = e.location().map_or(Pos { line: 1, column: 1 }, |l| Pos {
            line: l.line(),
            column: l.column(),
        });
        let message = e.without_snippet().to_string();
        let message = message
            .rsplit_once(" at line ")
            .map_or(message.as_str(), |(m, _)| m);
        invalid(pos.line, pos.column, format!("invalid YAML: {message}"))
    })
}

/// Keys only native plans have, at the top level and in scenarios.
const NATIVE_KEYS: &[&str] = &["target", "defaults", "requests", "flow", "think", "phases"];

/// Artillery: a top-level `config`. k6 options: `_` annotation keys, or only k6 option keys.
/// Native: anything with scalelab's own keys (`requests`, `flow`, `think`, `target`, ...).
fn detect(root: &Node) -> Dialect {
    let Value::Map(entries) = &root.value else {
        return Dialect::Native;
    };
    let native = |entries: &[super::node::Entry]| {
        entries.iter().any(|e| {
            NATIVE_KEYS.contains(&e.key.as_str())
                || (e.key == "executor" && e.value.value == Value::Str("phases".into()))
        })
    };
    if entries.iter().any(|e| e.key == "config") {
        return Dialect::Artillery;
    }
    if entries.iter().any(|e| e.key.starts_with('_')) {
        return Dialect::K6;
    }
    let scenarios_native = entries
        .iter()
        .filter(|e| e.key == "scenarios")
        .filter_map(|e| match &e.value.value {
            Value::Map(scenarios) => Some(scenarios),
            _ => None,
        })
        .flatten()
        .any(|s| matches!(&s.value.value, Value::Map(keys) if native(keys)));
    if native(entries) || scenarios_native {
        Dialect::Native
    } else {
        Dialect::K6
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Step;

    #[test]
    fn a_plan_that_is_not_a_regular_file_is_refused_at_once() {
        let error = load_file(Path::new("/dev/zero"), &LoadOptions::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "/dev/zero: not a regular file (a FIFO, socket or device)"
        );
    }

    #[test]
    fn target_replaces_the_plans_own_and_artillery_target_templates() {
        let script = "config:\n  target: http://plan-host:8080\n  phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow:\n      - get: {url: \"{{ target }}/users/1\"}\n      - get: {url: /relative}\n";
        let options = LoadOptions {
            target: Some("http://127.0.0.1:9000".into()),
            ..LoadOptions::default()
        };
        let plan = load_str(script, "a.yaml", &options).unwrap();
        assert_eq!(plan.target.as_deref(), Some("http://127.0.0.1:9000"));
        let urls: Vec<&str> = plan.scenarios[0].iteration.flows[0]
            .steps
            .iter()
            .filter_map(|step| match step {
                Step::Request(request) => Some(request.url.as_str()),
                Step::Think(_) | Step::Loop { .. } => None,
            })
            .collect();
        assert_eq!(urls, ["http://127.0.0.1:9000/users/1", "/relative"]);
        let own = load_str(script, "a.yaml", &LoadOptions::default()).unwrap();
        assert_eq!(own.target.as_deref(), Some("http://plan-host:8080"));
        // Native and k6 plans: the target is replaced too.
        let native = load_str(
            "target: http://plan-host\nvus: 1\nduration: 1s\nrequests: [{path: /}]\n",
            "n.yaml",
            &options,
        )
        .unwrap();
        assert_eq!(native.target.as_deref(), Some("http://127.0.0.1:9000"));
    }
}
