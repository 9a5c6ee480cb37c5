//! Kubernetes HorizontalPodAutoscaler manifests: written as `autoscaling/v2` with every `behavior`
//! field explicit; read from `autoscaling/v2` (or `v2beta2`) and `autoscaling/v1`.
//!
//! Field names and limits are the Kubernetes API's (`HorizontalPodAutoscalerSpec`,
//! `HPAScalingRules`: periodSeconds 1–1800, stabilizationWindowSeconds 0–3600).

use std::collections::BTreeMap;
use std::time::Duration;

use scalelab_capacity::ScaleInOrder;
use scalelab_scaling::{
    Hpa, HpaBehavior, HpaPolicy, HpaPolicyKind, HpaRules, Metric, Policy, Rule, SelectPolicy,
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
        Rule::Simple(_) | Rule::Step(_) | Rule::TargetTracking(_) | Rule::Beanstalk(_) => {
            return Err(unsupported(
                "policy",
                "a HorizontalPodAutoscaler is written from an `hpa` section; this policy holds an \
                 AWS rule (export it with --format terraform or beanstalk)",
            ));
        }
    };
    if policy.min == 0 {
        return Err(unsupported(
            "min",
            "minReplicas 0 needs the alpha HPAScaleToZero feature gate",
        ));
    }
    if (hpa.tolerance - 0.1).abs() > 1e-12 {
        return Err(unsupported(
            "hpa.tolerance",
            "the tolerance is kube-controller-manager's --horizontal-pod-autoscaler-tolerance \
             (default 0.1), not a field of the HPA",
        ));
    }
    if hpa.sync_period != Duration::from_secs(15) {
        return Err(unsupported(
            "hpa.sync_period",
            "the sync period is kube-controller-manager's --horizontal-pod-autoscaler-sync-period \
             (default 15s), not a field of the HPA",
        ));
    }
    let metric = match hpa.metric {
        Metric::Cpu | Metric::Memory => {
            if hpa.target.fract() != 0.0 || hpa.target > f64::from(i32::MAX) {
                return Err(unsupported(
                    "hpa.target",
                    format!("{}: averageUtilization is a whole percent", hpa.target),
                ));
            }
            MetricSpec {
                kind: "Resource".into(),
                resource: Some(ResourceMetric {
                    name: if hpa.metric == Metric::Cpu {
                        "cpu"
                    } else {
                        "memory"
                    }
                    .into(),
                    target: Target {
                        kind: "Utilization".into(),
                        average_utilization: Some(hpa.target as u32),
                        average_value: None,
                    },
                }),
                pods: None,
            }
        }
        Metric::RequestsPerTarget | Metric::InFlightPerTarget => MetricSpec {
            kind: "Pods".into(),
            resource: None,
            pods: Some(PodsMetric {
                metric: MetricName {
                    name: hpa.metric.to_string(),
                },
                target: Target {
                    kind: "AverageValue".into(),
                    average_utilization: None,
                    average_value: Some(Value::String(
                        quantity(hpa.target).map_err(|why| unsupported("hpa.target", why))?,
                    )),
                },
            }),
        },
    };
    let behavior = Behavior {
        scale_up: Some(rules(
            &hpa.behavior.scale_up,
            true,
            "hpa.behavior.scale_up",
        )?),
        scale_down: Some(rules(
            &hpa.behavior.scale_down,
            false,
            "hpa.behavior.scale_down",
        )?),
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
            metrics: Some(vec![metric]),
            behavior: Some(behavior),
            target_cpu_utilization_percentage: None,
        },
    };
    let yaml = serde_saphyr::to_string(&manifest).map_err(|e| ExportError::Write {
        format: Format::Hpa,
        message: e.to_string(),
    })?;
    Ok(format!(
        "# Written by scalelab export. Every behavior field is explicit: Kubernetes fills in the same\n\
         # defaults, but an HPA without `behavior` follows the older rules (scale-up capped at\n\
         # max(2 x current, 4)). Deploy with the Deployment's spec.replicas = {}.\n{yaml}",
        policy.initial()
    ))
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
    Ok(Rules {
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
            let (number, scale) = match text.char_indices().last()? {
                (i, 'm') => (&text[..i], 1e-3),
                (i, 'k') => (&text[..i], 1e3),
                (i, 'M') => (&text[..i], 1e6),
                (i, 'G') => (&text[..i], 1e9),
                (i, 'T') => (&text[..i], 1e12),
                _ => (text, 1.0),
            };
            number
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| v * scale)
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
    let (metric, target) = match manifest.api_version.as_str() {
        "autoscaling/v1" => (
            Metric::Cpu,
            // Kubernetes' default CPU target (pkg/apis/autoscaling DefaultCPUUtilization).
            f64::from(spec.target_cpu_utilization_percentage.unwrap_or(80)),
        ),
        "autoscaling/v2" | "autoscaling/v2beta2" => match spec.metrics.as_deref() {
            None | Some([]) => (Metric::Cpu, 80.0),
            Some([metric]) => read_metric(metric).map_err(|why| error("spec.metrics[0]", why))?,
            Some(more) => {
                return Err(error(
                    "spec.metrics",
                    format!(
                        "scalelab's hpa scales on one metric; this HPA has {}",
                        more.len()
                    ),
                ));
            }
        },
        other => {
            return Err(error(
                "apiVersion",
                format!("{other}: read are autoscaling/v2, v2beta2 and v1"),
            ));
        }
    };
    let behavior = match &spec.behavior {
        None => HpaBehavior::default(),
        Some(b) => HpaBehavior {
            scale_up: read_rules(b.scale_up.as_ref(), true)
                .map_err(|(f, why)| error(&format!("spec.behavior.scaleUp{f}"), why))?,
            scale_down: read_rules(b.scale_down.as_ref(), false)
                .map_err(|(f, why)| error(&format!("spec.behavior.scaleDown{f}"), why))?,
        },
    };
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
        hpa: Some(Hpa {
            metric,
            target,
            tolerance: 0.1,
            sync_period: Duration::from_secs(15),
            behavior,
        }),
        beanstalk: None,
    };
    policy.validate().map_err(|error| ImportError::Policy {
        file: file.to_owned(),
        error,
    })?;
    Ok(policy)
}

fn read_metric(metric: &MetricSpec) -> Result<(Metric, f64), String> {
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
                ("Utilization", Some(percent)) => Ok((kind, f64::from(percent))),
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
            Ok((kind, value))
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
    Ok(HpaRules {
        stabilization_window,
        select_policy,
        policies: read,
    })
}
