//! Kubernetes HorizontalPodAutoscaler manifests: written as `autoscaling/v2`, one metric per policy
//! metric, with `behavior` (every field explicit) exactly when the policy has one, since the API server
//! leaves a missing `behavior` unset and the controller then applies its legacy rules; read from
//! `autoscaling/v2` (or `v2beta2`) and `autoscaling/v1`.
//!
//! Field names and limits are the Kubernetes API's (`HorizontalPodAutoscalerSpec`,
//! `HPAScalingRules`: periodSeconds 1–1800, stabilizationWindowSeconds 0–3600).

use std::collections::BTreeMap;
use std::time::Duration;

use scalelab_capacity::ScaleInOrder;
use scalelab_scaling::{
    Hpa, HpaBehavior, HpaMetric, HpaPolicy, HpaPolicyKind, HpaRules, Metric, Policy, Rule,
    SelectPolicy,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ExportError, ExportOptions, Format, ImportError};

/// Annotations carrying what an HPA has no field for, so that export then import gives the same
/// policy: the instance start-up the policy was simulated with, the Deployment's initial replicas and
/// the scale-in order.
const STARTUP: &str = "scalelab/startup-seconds";
const INITIAL: &str = "scalelab/initial-replicas";
const SCALE_IN: &str = "scalelab/scale-in";

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    api_version: String,
    kind: String,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Metadata {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    scale_target_ref: TargetRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_replicas: Option<u32>,
    max_replicas: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metrics: Option<Vec<MetricSpec>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    behavior: Option<Behavior>,
    /// autoscaling/v1 only.
    #[serde(default, skip_serializing, rename = "targetCPUUtilizationPercentage")]
    target_cpu_utilization_percentage: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetRef {
    #[serde(default)]
    api_version: String,
    kind: String,
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct MetricSpec {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<ResourceMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pods: Option<PodsMetric>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ResourceMetric {
    name: String,
    target: Target,
}

#[derive(Debug, Serialize, Deserialize)]
struct PodsMetric {
    metric: MetricName,
    target: Target,
}

#[derive(Debug, Serialize, Deserialize)]
struct MetricName {
    name: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    average_utilization: Option<u32>,
    /// A quantity: a string such as "150" or "1500m" (a bare number is accepted too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    average_value: Option<Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Behavior {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale_up: Option<Rules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale_down: Option<Rules>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rules {
    /// Kubernetes 1.33+ (`HPAConfigurableTolerance`): a quantity such as "50m".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tolerance: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stabilization_window_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    select_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policies: Option<Vec<RatePolicy>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RatePolicy {
    #[serde(rename = "type")]
    kind: String,
    value: u32,
    period_seconds: u32,
}

fn unsupported(field: impl Into<String>, why: impl Into<String>) -> ExportError {
    ExportError::Unsupported {
        format: Format::Hpa,
        field: field.into(),
        why: why.into(),
    }
}

/// Kubernetes' defaults for one direction (`pkg/apis/autoscaling/v2/defaults.go`): up: no window,
/// Max of 4 pods and 100 % per 15 s; down: a 300 s window, 100 % per 15 s.
fn defaults(up: bool) -> (Duration, SelectPolicy, Vec<HpaPolicy>) {
    let per_15s = |kind, value| HpaPolicy {
        kind,
        value,
        period: Duration::from_secs(15),
    };
    if up {
        (
            Duration::ZERO,
            SelectPolicy::Max,
            vec![
                per_15s(HpaPolicyKind::Pods, 4),
                per_15s(HpaPolicyKind::Percent, 100),
            ],
        )
    } else {
        (
            Duration::from_secs(300),
            SelectPolicy::Max,
            vec![per_15s(HpaPolicyKind::Percent, 100)],
        )
    }
}

fn select_name(select: SelectPolicy) -> &'static str {
    match select {
        SelectPolicy::Max => "Max",
        SelectPolicy::Min => "Min",
        SelectPolicy::Disabled => "Disabled",
    }
}

/// `policy` as an autoscaling/v2 HorizontalPodAutoscaler for the Deployment `options.name`.
pub fn write(policy: &Policy, options: &ExportOptions) -> Result<String, ExportError> {
    let hpa = match policy
        .rule()
        .map_err(|e| unsupported("policy", e.to_string()))?
    {
        Rule::Hpa(hpa) => hpa,
        Rule::Aws { .. } => {
            return Err(unsupported(
                aws_fields(policy),
                "a HorizontalPodAutoscaler is written from an `hpa` section; this policy holds AWS \
                 policies (export it with --format terraform)",
            ));
        }
        Rule::Beanstalk(_) => {
            return Err(unsupported(
                "beanstalk",
                "a HorizontalPodAutoscaler is written from an `hpa` section; this policy holds \
                 Elastic Beanstalk triggers (export it with --format beanstalk or terraform)",
            ));
        }
    };
    if policy.min == 0 {
        return Err(unsupported(
            "min",
            "minReplicas 0 needs the alpha HPAScaleToZero feature gate",
        ));
    }
    controller_flags(hpa)?;
    let mut metrics = Vec::new();
    for (i, m) in hpa.metric_targets().iter().enumerate() {
        let field = if hpa.metrics.is_some() {
            format!("hpa.metrics[{i}].target")
        } else {
            "hpa.target".to_owned()
        };
        metrics.push(write_metric(m, &field)?);
    }
    let behavior = match &hpa.behavior {
        None => None,
        Some(b) => Some(Behavior {
            scale_up: Some(rules(&b.scale_up, true, "hpa.behavior.scale_up")?),
            scale_down: Some(rules(&b.scale_down, false, "hpa.behavior.scale_down")?),
        }),
    };
    let mut annotations = BTreeMap::new();
    annotations.insert(STARTUP.into(), policy.startup.as_secs().to_string());
    annotations.insert(INITIAL.into(), policy.initial().to_string());
    annotations.insert(
        SCALE_IN.into(),
        match policy.scale_in {
            ScaleInOrder::Newest => "newest",
            ScaleInOrder::Oldest => "oldest",
        }
        .into(),
    );
    if policy.startup.subsec_nanos() != 0 {
        return Err(unsupported("startup", "written in whole seconds"));
    }
    let manifest = Manifest {
        api_version: "autoscaling/v2".into(),
        kind: "HorizontalPodAutoscaler".into(),
        metadata: Metadata {
            name: options.name.clone(),
            annotations,
        },
        spec: Spec {
            scale_target_ref: TargetRef {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: options.name.clone(),
            },
            min_replicas: Some(policy.min),
            max_replicas: policy.max,
            metrics: Some(metrics),
            behavior,
            target_cpu_utilization_percentage: None,
        },
    };
    let yaml = serde_saphyr::to_string(&manifest).map_err(|e| ExportError::Write {
        format: Format::Hpa,
        message: e.to_string(),
    })?;
    let about = if hpa.behavior.is_some() {
        "Every behavior field is explicit (Kubernetes' defaults\n# written out)."
    } else {
        "No `behavior`, as in the policy: the controller's legacy rules apply\n\
         # (scale-up capped at max(2 x current, 4) per sync, the downscale stabilization window)."
    };
    Ok(format!(
        "# Written by scalelab export. {about}\n\
         # Deploy with the Deployment's spec.replicas = {}.\n{yaml}",
        policy.initial()
    ))
}

/// The AWS sections `policy` holds, as the fields an HPA or Beanstalk export cannot take.
pub(crate) fn aws_fields(policy: &Policy) -> String {
    [
        policy.simple.as_ref().map(|_| "simple"),
        policy.step.as_ref().map(|_| "step"),
        policy.target_tracking.as_ref().map(|_| "target_tracking"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// An `hpa` section with its given metrics and every kube-controller-manager setting at its
/// default (serde's defaults, so the crate's own).
fn controller_defaults(metrics: Vec<HpaMetric>) -> Hpa {
    let mut hpa: Hpa = serde_json::from_value(serde_json::json!({ "target": 1 }))
        .expect("an hpa section with only a target reads");
    hpa.target = None;
    hpa.metrics = Some(metrics);
    hpa
}

/// The kube-controller-manager flags are not fields of the HPA: only their defaults are written.
fn controller_flags(hpa: &Hpa) -> Result<(), ExportError> {
    let d = controller_defaults(Vec::new());
    let flags = [
        (
            "tolerance",
            hpa.tolerance == d.tolerance,
            "tolerance",
            "0.1",
        ),
        (
            "sync_period",
            hpa.sync_period == d.sync_period,
            "sync-period",
            "15s",
        ),
        (
            "downscale_stabilization",
            hpa.downscale_stabilization == d.downscale_stabilization,
            "downscale-stabilization",
            "5m",
        ),
        (
            "cpu_initialization_period",
            hpa.cpu_initialization_period == d.cpu_initialization_period,
            "cpu-initialization-period",
            "5m",
        ),
        (
            "initial_readiness_delay",
            hpa.initial_readiness_delay == d.initial_readiness_delay,
            "initial-readiness-delay",
            "30s",
        ),
    ];
    match flags.into_iter().find(|(_, default, _, _)| !default) {
        Some((field, _, flag, default)) => Err(unsupported(
            format!("hpa.{field}"),
            format!(
                "it is kube-controller-manager's --horizontal-pod-autoscaler-{flag} (default \
                 {default}), not a field of the HPA"
            ),
        )),
        None => Ok(()),
    }
}

/// One metric of the HPA: a Utilization target for cpu and memory, an AverageValue per pod else.
fn write_metric(m: &HpaMetric, field: &str) -> Result<MetricSpec, ExportError> {
    Ok(match m.metric {
        // The policy's validation keeps these targets whole percents within int32.
        Metric::Cpu | Metric::Memory => MetricSpec {
            kind: "Resource".into(),
            resource: Some(ResourceMetric {
                name: if m.metric == Metric::Cpu {
                    "cpu"
                } else {
                    "memory"
                }
                .into(),
                target: Target {
                    kind: "Utilization".into(),
                    average_utilization: Some(m.target as u32),
                    average_value: None,
                },
            }),
            pods: None,
        },
        Metric::RequestsPerTarget | Metric::InFlightPerTarget => MetricSpec {
            kind: "Pods".into(),
            resource: None,
            pods: Some(PodsMetric {
                metric: MetricName {
                    name: m.metric.to_string(),
                },
                target: Target {
                    kind: "AverageValue".into(),
                    average_utilization: None,
                    average_value: Some(Value::String(
                        quantity(m.target).map_err(|why| unsupported(field, why))?,
                    )),
                },
            }),
        },
    })
}

/// One direction with Kubernetes' defaults written out.
fn rules(rules: &HpaRules, up: bool, field: &str) -> Result<Rules, ExportError> {
    let (window, select, policies) = defaults(up);
    let window = rules.stabilization_window.unwrap_or(window);
    if window.subsec_nanos() != 0 || window > Duration::from_secs(3600) {
        return Err(unsupported(
            format!("{field}.stabilization_window"),
            "stabilizationWindowSeconds is whole seconds from 0 to 3600",
        ));
    }
    let policies = rules.policies.clone().unwrap_or(policies);
    if policies.is_empty() {
        return Err(unsupported(
            format!("{field}.policies"),
            "Kubernetes needs at least one policy (use select_policy: disabled to stop scaling)",
        ));
    }
    let mut written = Vec::new();
    for (i, p) in policies.iter().enumerate() {
        let seconds = p.period.as_secs();
        if p.period.subsec_nanos() != 0 || !(1..=1800).contains(&seconds) {
            return Err(unsupported(
                format!("{field}.policies[{i}].period"),
                "periodSeconds is whole seconds from 1 to 1800",
            ));
        }
        if p.value == 0 {
            return Err(unsupported(
                format!("{field}.policies[{i}].value"),
                "Kubernetes needs a value above 0",
            ));
        }
        written.push(RatePolicy {
            kind: match p.kind {
                HpaPolicyKind::Pods => "Pods",
                HpaPolicyKind::Percent => "Percent",
            }
            .into(),
            value: p.value,
            period_seconds: seconds as u32,
        });
    }
    let tolerance = match rules.tolerance {
        None => None,
        Some(t) => {
            Some(Value::String(quantity(t).map_err(|why| {
                unsupported(format!("{field}.tolerance"), why)
            })?))
        }
    };
    Ok(Rules {
        tolerance,
        stabilization_window_seconds: Some(window.as_secs() as u32),
        select_policy: Some(select_name(rules.select_policy.unwrap_or(select)).into()),
        policies: Some(written),
    })
}

/// A Kubernetes quantity for `value`: whole, or in thousandths ("1500m").
fn quantity(value: f64) -> Result<String, String> {
    let milli = value * 1000.0;
    if value.fract() == 0.0 && value.abs() < 9e15 {
        Ok(format!("{}", value as i64))
    } else if (milli - milli.round()).abs() < 1e-6 && milli.abs() < 9e15 {
        Ok(format!("{}m", milli.round() as i64))
    } else {
        Err(format!(
            "{value}: a Kubernetes quantity has at most three decimals"
        ))
    }
}

/// A quantity's value. Written by hand: no maintained crate parses Kubernetes quantities without
/// pulling in the whole API; this covers decimal numbers with the m, k, M, G and T suffixes.
fn parse_quantity(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(text) => {
            let text = text.trim();
            // Milli-units are divided, not multiplied by 1e-3, so that "100m" is exactly 0.1.
            let (number, scale, divisor) = match text.char_indices().last()? {
                (i, 'm') => (&text[..i], 1.0, 1e3),
                (i, 'k') => (&text[..i], 1e3, 1.0),
                (i, 'M') => (&text[..i], 1e6, 1.0),
                (i, 'G') => (&text[..i], 1e9, 1.0),
                (i, 'T') => (&text[..i], 1e12, 1.0),
                _ => (text, 1.0, 1.0),
            };
            number
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| v * scale / divisor)
        }
        _ => None,
    }
}

/// Whether `text` holds a HorizontalPodAutoscaler (among other YAML documents or alone).
pub fn is_hpa(text: &str) -> bool {
    serde_saphyr::from_str_multiple::<Value, Vec<Value>>(text)
        .map(|docs| docs.iter().any(is_hpa_document))
        .unwrap_or(false)
}

fn is_hpa_document(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("HorizontalPodAutoscaler")
}

/// The policy of the one HorizontalPodAutoscaler in `text`.
pub fn read(text: &str, file: &str) -> Result<Policy, ImportError> {
    let error = |field: &str, why: String| ImportError::Unsupported {
        file: file.to_owned(),
        field: field.to_owned(),
        why,
    };
    let docs = serde_saphyr::from_str_multiple::<Value, Vec<Value>>(text).map_err(|e| {
        ImportError::Read {
            file: file.to_owned(),
            message: e.to_string(),
        }
    })?;
    let hpas: Vec<&Value> = docs.iter().filter(|d| is_hpa_document(d)).collect();
    let [doc] = hpas[..] else {
        return Err(error(
            "kind",
            format!(
                "a policy is one HorizontalPodAutoscaler; this file holds {}",
                hpas.len()
            ),
        ));
    };
    let manifest: Manifest =
        serde_json::from_value(doc.clone()).map_err(|e| ImportError::Read {
            file: file.to_owned(),
            message: format!("HorizontalPodAutoscaler: {e}"),
        })?;
    let spec = &manifest.spec;
    let metrics = match manifest.api_version.as_str() {
        // Kubernetes' default CPU target (pkg/apis/autoscaling DefaultCPUUtilization).
        "autoscaling/v1" => vec![HpaMetric {
            metric: Metric::Cpu,
            target: f64::from(spec.target_cpu_utilization_percentage.unwrap_or(80)),
        }],
        "autoscaling/v2" | "autoscaling/v2beta2" => match spec.metrics.as_deref() {
            None | Some([]) => vec![HpaMetric {
                metric: Metric::Cpu,
                target: 80.0,
            }],
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    read_metric(m).map_err(|why| error(&format!("spec.metrics[{i}]"), why))
                })
                .collect::<Result<_, _>>()?,
        },
        other => {
            return Err(error(
                "apiVersion",
                format!("{other}: read are autoscaling/v2, v2beta2 and v1"),
            ));
        }
    };
    // Without `behavior` the controller's legacy rules apply: the API server does not default it.
    let behavior = match &spec.behavior {
        None => None,
        Some(b) => Some(HpaBehavior {
            scale_up: read_rules(b.scale_up.as_ref(), true)
                .map_err(|(f, why)| error(&format!("spec.behavior.scaleUp{f}"), why))?,
            scale_down: read_rules(b.scale_down.as_ref(), false)
                .map_err(|(f, why)| error(&format!("spec.behavior.scaleDown{f}"), why))?,
        }),
    };
    let mut hpa = controller_defaults(Vec::new());
    hpa.behavior = behavior;
    match &metrics[..] {
        // One metric reads as `metric` and `target`, as a policy with one is written.
        [one] => {
            hpa.metrics = None;
            hpa.metric = one.metric;
            hpa.target = Some(one.target);
        }
        _ => hpa.metrics = Some(metrics),
    }
    let annotation = |key: &str| manifest.metadata.annotations.get(key);
    let number = |key: &str| -> Result<Option<u32>, ImportError> {
        annotation(key)
            .map(|v| {
                v.trim().parse::<u32>().map_err(|_| {
                    error(
                        &format!("metadata.annotations.{key}"),
                        format!("'{v}' is not a whole number"),
                    )
                })
            })
            .transpose()
    };
    let scale_in = match annotation(SCALE_IN).map(String::as_str) {
        None | Some("newest") => ScaleInOrder::Newest,
        Some("oldest") => ScaleInOrder::Oldest,
        Some(other) => {
            return Err(error(
                &format!("metadata.annotations.{SCALE_IN}"),
                format!("'{other}' is not newest or oldest"),
            ));
        }
    };
    // Kubernetes' default minReplicas.
    let min = spec.min_replicas.unwrap_or(1);
    let policy = Policy {
        min,
        max: spec.max_replicas,
        // Starting at min is the default: written out or not, it is the same policy.
        initial: number(INITIAL)?.filter(|i| *i != min),
        startup: Duration::from_secs(u64::from(number(STARTUP)?.unwrap_or(0))),
        scale_in,
        simple: None,
        step: None,
        target_tracking: None,
        hpa: Some(hpa),
        beanstalk: None,
    };
    policy.validate().map_err(|error| ImportError::Policy {
        file: file.to_owned(),
        error,
    })?;
    Ok(policy)
}

fn read_metric(metric: &MetricSpec) -> Result<HpaMetric, String> {
    match (metric.kind.as_str(), &metric.resource, &metric.pods) {
        ("Resource", Some(resource), _) => {
            let kind = match resource.name.as_str() {
                "cpu" => Metric::Cpu,
                "memory" => Metric::Memory,
                other => return Err(format!("resource '{other}' is not cpu or memory")),
            };
            match (
                resource.target.kind.as_str(),
                resource.target.average_utilization,
            ) {
                ("Utilization", Some(percent)) => Ok(HpaMetric {
                    metric: kind,
                    target: f64::from(percent),
                }),
                (other, _) => Err(format!(
                    "target type {other}: scalelab simulates Utilization targets of resources"
                )),
            }
        }
        ("Pods", _, Some(pods)) => {
            let kind = match pods.metric.name.as_str() {
                "requests_per_target" => Metric::RequestsPerTarget,
                "in_flight_per_target" => Metric::InFlightPerTarget,
                other => {
                    return Err(format!(
                        "pods metric '{other}': scalelab measures requests_per_target and in_flight_per_target"
                    ));
                }
            };
            let value = pods
                .target
                .average_value
                .as_ref()
                .and_then(parse_quantity)
                .ok_or("a pods metric needs target.averageValue, a quantity")?;
            Ok(HpaMetric {
                metric: kind,
                target: value,
            })
        }
        (other, _, _) => Err(format!(
            "metric type {other}: scalelab simulates Resource (cpu, memory) and Pods metrics"
        )),
    }
}

/// One direction; each field equal to Kubernetes' default reads as unset, so that an explicit
/// default and an omitted field give the same policy.
fn read_rules(rules: Option<&Rules>, up: bool) -> Result<HpaRules, (String, String)> {
    let Some(rules) = rules else {
        return Ok(HpaRules::default());
    };
    let (window, select, policies) = defaults(up);
    let stabilization_window = rules
        .stabilization_window_seconds
        .map(|s| Duration::from_secs(u64::from(s)))
        .filter(|w| *w != window);
    let select_policy = match rules.select_policy.as_deref() {
        None => None,
        Some("Max") => Some(SelectPolicy::Max),
        Some("Min") => Some(SelectPolicy::Min),
        Some("Disabled") => Some(SelectPolicy::Disabled),
        Some(other) => {
            return Err((
                ".selectPolicy".into(),
                format!("'{other}' is not Max, Min or Disabled"),
            ));
        }
    }
    .filter(|s| *s != select);
    let read = match &rules.policies {
        None => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, p)| {
                    let kind = match p.kind.as_str() {
                        "Pods" => HpaPolicyKind::Pods,
                        "Percent" => HpaPolicyKind::Percent,
                        other => {
                            return Err((
                                format!(".policies[{i}].type"),
                                format!("'{other}' is not Pods or Percent"),
                            ));
                        }
                    };
                    Ok(HpaPolicy {
                        kind,
                        value: p.value,
                        period: Duration::from_secs(u64::from(p.period_seconds)),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    }
    .filter(|p| *p != policies);
    let tolerance = match &rules.tolerance {
        None => None,
        Some(t) => Some(parse_quantity(t).filter(|t| *t >= 0.0).ok_or((
            ".tolerance".to_owned(),
            format!("{t}: not a non-negative quantity"),
        ))?),
    };
    Ok(HpaRules {
        tolerance,
        stabilization_window,
        select_policy,
        policies: read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ExportOptions {
        ExportOptions { name: "web".into() }
    }

    #[test]
    fn export_writes_only_set_fields_and_reads_back() {
        // One direction's rules set in part: the rest is Kubernetes' defaults, written out.
        let policy = Policy::from_yaml(
            "min: 2\nmax: 9\nstartup: 20s\nhpa:\n  metrics: [{metric: cpu, target: 60}, \
             {metric: requests_per_target, target: 2.5}]\n  behavior: {scale_up: {stabilization_window: 30s}}\n",
        )
        .unwrap();
        let text = write(&policy, &options()).unwrap();
        for absent in ["null", "NaN", "~", "tolerance"] {
            assert!(!text.contains(absent), "{absent} in\n{text}");
        }
        assert!(text.contains("averageValue: 2500m"), "{text}");
        assert_eq!(read(&text, "web.yaml").unwrap(), policy);
        let legacy = Policy::from_yaml("max: 4\nhpa: {target: 70}\n").unwrap();
        let text = write(&legacy, &options()).unwrap();
        assert!(
            !text.contains("behavior:") && !text.contains("null"),
            "{text}"
        );
        assert_eq!(read(&text, "legacy.yaml").unwrap(), legacy);
    }

    #[test]
    fn import_refuses_numbers_out_of_bounds_naming_the_field() {
        let manifest = |metric: &str, max: &str| {
            format!(
                "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\n\
                 spec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  \
                 maxReplicas: {max}\n  metrics:\n  - {metric}\n"
            )
        };
        let pods = |value: &str| {
            format!(
                "type: Pods\n    pods: {{metric: {{name: requests_per_second}}, target: {{type: AverageValue, averageValue: {value}}}}}"
            )
        };
        let cpu = "type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}";
        for (text, says) in [
            (manifest(&pods(".nan"), "5"), "web.yaml: error: line 9"),
            (manifest(&pods("\"1e400\""), "5"), "spec.metrics[0]"),
            (manifest(cpu, "4000000000"), "must be at most 1000000"),
            (manifest(cpu, "-1"), "web.yaml"),
        ] {
            let error = read(&text, "web.yaml").unwrap_err().to_string();
            assert!(error.contains(says), "{text}\n{error}");
        }
        assert!(read(&manifest(cpu, "5"), "web.yaml").is_ok());
    }
}
