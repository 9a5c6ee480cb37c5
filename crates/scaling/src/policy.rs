//! Policy configuration: what a YAML or JSON policy file says: the common capacity settings and the
//! rules: `hpa` alone, `beanstalk` alone, or any of AWS's `simple`, `step` and `target_tracking`
//! policies together on one group, as EC2 Auto Scaling allows.

use std::time::Duration;

use scalelab_capacity::{MAX_INSTANCES, ScaleInOrder};
use serde::{Deserialize, Serialize};

use crate::{AdjustmentType, AlarmConfig, Metric, PolicyError};

/// A scaling policy with its capacity limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Fewest instances.
    #[serde(default = "one")]
    pub min: u32,
    /// Most instances.
    pub max: u32,
    /// Instances at the start [default: min].
    #[serde(default)]
    pub initial: Option<u32>,
    /// From launch until an instance is in service (pending meanwhile: billed, serving nothing).
    #[serde(default, with = "scalelab_config::duration_serde")]
    pub startup: Duration,
    /// Which instances a scale-in removes first.
    #[serde(default)]
    pub scale_in: ScaleInOrder,
    /// AWS simple scaling policies, each with its alarm.
    #[serde(default)]
    pub simple: Option<Vec<SimpleScaling>>,
    /// AWS step scaling policies, each with its alarm.
    #[serde(default)]
    pub step: Option<Vec<StepScaling>>,
    /// AWS target tracking policies: one section or a list.
    #[serde(default, deserialize_with = "one_or_many::deserialize")]
    pub target_tracking: Option<Vec<TargetTracking>>,
    /// Kubernetes HorizontalPodAutoscaler (autoscaling/v2).
    #[serde(default)]
    pub hpa: Option<Hpa>,
    /// Elastic Beanstalk triggers.
    #[serde(default)]
    pub beanstalk: Option<Beanstalk>,
}

/// The rules a policy holds.
#[derive(Debug, Clone, Copy)]
pub enum Rule<'a> {
    /// EC2 Auto Scaling policies of any types on one group (each list may be empty, not all).
    Aws {
        simple: &'a [SimpleScaling],
        step: &'a [StepScaling],
        target_tracking: &'a [TargetTracking],
    },
    Hpa(&'a Hpa),
    Beanstalk(&'a Beanstalk),
}

/// An AWS simple scaling policy: when its alarm is in ALARM, change capacity once, then wait for the
/// scaling activity to complete and the cooldown to pass before any simple scaling happens again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimpleScaling {
    pub alarm: AlarmConfig,
    #[serde(default)]
    pub adjustment_type: AdjustmentType,
    /// Instances (or percent, or the exact capacity) to change by.
    pub adjustment: f64,
    /// Smallest change for `percent_change_in_capacity`.
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub cooldown: Duration,
}

/// An AWS step scaling policy: the adjustment depends on how far the alarm's datapoint is from the
/// threshold; instances still warming up count as already added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepScaling {
    pub alarm: AlarmConfig,
    #[serde(default)]
    pub adjustment_type: AdjustmentType,
    pub steps: Vec<StepAdjustment>,
    #[serde(default)]
    pub min_adjustment_magnitude: Option<u32>,
    /// After start-up, how long a new instance's metrics do not count.
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub warmup: Duration,
}

/// One step: applies when `lower <= metric - threshold < upper` above the threshold (or
/// `lower < metric - threshold <= upper` below it); a missing bound is unbounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAdjustment {
    #[serde(default)]
    pub lower: Option<f64>,
    #[serde(default)]
    pub upper: Option<f64>,
    pub adjustment: f64,
}

/// AWS target tracking: keep `metric` near `target` with the two alarms AWS creates and owns. The
/// alarms' datapoint counts and the scale-in threshold are not in the AWS documentation; the defaults
/// are AWS's observed behaviour (console alarm descriptions such as "> 50 for 3 datapoints within 3
/// minutes" and "< 45 for 15 datapoints within 15 minutes" for a target of 50).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetTracking {
    #[serde(default)]
    pub metric: Metric,
    pub target: f64,
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub warmup: Duration,
    #[serde(default)]
    pub disable_scale_in: bool,
    /// Length of one datapoint of the two alarms: one minute on AWS; shorter to watch a live
    /// cluster scale within seconds.
    #[serde(default = "one_minute", with = "scalelab_config::duration_serde")]
    pub period: Duration,
    /// Consecutive datapoints above the target that scale out (observed: 3).
    #[serde(default = "three")]
    pub scale_out_datapoints: u32,
    /// Consecutive datapoints below `scale_in_below x target` that scale in (observed: 15).
    #[serde(default = "fifteen")]
    pub scale_in_datapoints: u32,
    /// The scale-in alarm's threshold as a fraction of the target (observed: 0.9).
    #[serde(default = "nine_tenths")]
    pub scale_in_below: f64,
}

/// Kubernetes HPA (autoscaling/v2) with one metric (`metric`, `target`) or several (`metrics`), and
/// the kube-controller-manager settings that shape its decisions, with their defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hpa {
    #[serde(default)]
    pub metric: Metric,
    /// Target of `metric`: averageUtilization (a whole percent) for `cpu` and `memory`, an
    /// averageValue per pod for the others.
    #[serde(default)]
    pub target: Option<f64>,
    /// Several metrics instead of `metric` and `target`: the largest proposal wins.
    #[serde(default)]
    pub metrics: Option<Vec<HpaMetric>>,
    /// `--horizontal-pod-autoscaler-tolerance`: no scaling while the ratio is within 1 +- this
    /// (both directions, unless `behavior` sets one).
    #[serde(default = "hpa_tolerance")]
    pub tolerance: f64,
    /// `--horizontal-pod-autoscaler-sync-period`: how often the controller runs.
    #[serde(default = "fifteen_seconds", with = "scalelab_config::duration_serde")]
    pub sync_period: Duration,
    /// `--horizontal-pod-autoscaler-downscale-stabilization`: the scale-down window without
    /// `behavior`, and `behavior.scale_down`'s when it sets none.
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub downscale_stabilization: Duration,
    /// `--horizontal-pod-autoscaler-cpu-initialization-period`: a new pod's CPU samples count only
    /// once they cover a whole window after it became ready.
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub cpu_initialization_period: Duration,
    /// `--horizontal-pod-autoscaler-initial-readiness-delay`: after the initialization period, an
    /// unready pod whose readiness last changed within this of its start never was ready.
    #[serde(default = "thirty_seconds", with = "scalelab_config::duration_serde")]
    pub initial_readiness_delay: Duration,
    /// `spec.behavior`; without it the controller's legacy rules apply (see `rules::hpa`).
    #[serde(default)]
    pub behavior: Option<HpaBehavior>,
}

/// One metric of an HPA with several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaMetric {
    pub metric: Metric,
    pub target: f64,
}

/// HPA `behavior`: separate rules for scaling up and down.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaBehavior {
    #[serde(default)]
    pub scale_up: HpaRules,
    #[serde(default)]
    pub scale_down: HpaRules,
}

/// HPA scaling rules for one direction; unset fields take Kubernetes' defaults for that direction
/// (up: no window, Max of 4 pods and 100 % per 15 s; down: the controller's downscale
/// stabilization, 100 % per 15 s; tolerance: the controller's).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaRules {
    /// This direction's tolerance (Kubernetes 1.33+, `HPAConfigurableTolerance`).
    #[serde(default)]
    pub tolerance: Option<f64>,
    #[serde(default, with = "optional_duration")]
    pub stabilization_window: Option<Duration>,
    #[serde(default)]
    pub select_policy: Option<SelectPolicy>,
    #[serde(default)]
    pub policies: Option<Vec<HpaPolicy>>,
}

/// Which of several rate policies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SelectPolicy {
    /// The policy allowing the largest change.
    #[serde(alias = "Max")]
    Max,
    /// The policy allowing the smallest change.
    #[serde(alias = "Min")]
    Min,
    /// No scaling in this direction.
    #[serde(alias = "Disabled")]
    Disabled,
}

/// One HPA rate policy: at most `value` pods, or `value` percent, per `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaPolicy {
    #[serde(rename = "type")]
    pub kind: HpaPolicyKind,
    pub value: u32,
    #[serde(with = "scalelab_config::duration_serde")]
    pub period: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HpaPolicyKind {
    #[serde(alias = "Pods")]
    Pods,
    #[serde(alias = "Percent")]
    Percent,
}

/// Elastic Beanstalk triggers (`aws:autoscaling:trigger`): two alarms on one metric, each breached
/// for `breach_duration`, driving simple scaling by the increments; `cooldown` is the group's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beanstalk {
    #[serde(default)]
    pub metric: Metric,
    #[serde(default)]
    pub statistic: crate::Statistic,
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub period: Duration,
    /// How long the metric must stay beyond a threshold; a whole number of periods.
    #[serde(default = "five_minutes", with = "scalelab_config::duration_serde")]
    pub breach_duration: Duration,
    pub upper_threshold: f64,
    pub lower_threshold: f64,
    #[serde(default = "plus_one")]
    pub scale_up_increment: i32,
    #[serde(default = "minus_one")]
    pub scale_down_increment: i32,
    #[serde(default = "six_minutes", with = "scalelab_config::duration_serde")]
    pub cooldown: Duration,
}

fn one() -> u32 {
    1
}
fn plus_one() -> i32 {
    1
}
fn minus_one() -> i32 {
    -1
}
fn hpa_tolerance() -> f64 {
    0.1
}
fn three() -> u32 {
    3
}
fn fifteen() -> u32 {
    15
}
fn nine_tenths() -> f64 {
    0.9
}
fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}
fn one_minute() -> Duration {
    Duration::from_secs(60)
}
fn fifteen_seconds() -> Duration {
    Duration::from_secs(15)
}
fn five_minutes() -> Duration {
    Duration::from_secs(300)
}
fn six_minutes() -> Duration {
    Duration::from_secs(360)
}

/// Serde helper for a field holding one section or a list of them (`target_tracking`).
pub mod one_or_many {
    use std::marker::PhantomData;

    use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    /// Reads one `T` or a list of `T`; null is `None`.
    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Vec<T>>, D::Error> {
        struct OneOrMany<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
            type Value = Option<Vec<T>>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a section or a list of sections")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|one| Some(vec![one]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(Some)
            }
        }
        d.deserialize_any(OneOrMany(PhantomData))
    }
}

mod optional_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "scalelab_config::duration_serde")] Duration);
        Option::<Wrapped>::deserialize(d).map(|w| w.map(|w| w.0))
    }

    pub fn serialize<S: Serializer>(value: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => scalelab_config::duration_serde::serialize(duration, s),
            None => s.serialize_none(),
        }
    }
}

impl Policy {
    /// Reads a policy from YAML (JSON is YAML too); unknown fields are errors naming the nearest field.
    pub fn from_yaml(text: &str) -> Result<Self, PolicyError> {
        let policy: Self = serde_saphyr::from_str(text)
            .map_err(|e| PolicyError::Parse(scalelab_config::with_nearest_field(&e.to_string())))?;
        policy.validate()?;
        Ok(policy)
    }

    /// The policy in the native format, as [`Policy::from_yaml`] reads it back (every field written,
    /// defaults included).
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).expect("a policy is plain data and serializes")
    }

    /// Instances at the start.
    pub fn initial(&self) -> u32 {
        self.initial.unwrap_or(self.min)
    }

    /// The policy's rules: `hpa` alone, `beanstalk` alone, or AWS policies of any types together.
    pub fn rule(&self) -> Result<Rule<'_>, PolicyError> {
        let aws = [
            self.simple.as_ref().map(|_| "simple"),
            self.step.as_ref().map(|_| "step"),
            self.target_tracking.as_ref().map(|_| "target_tracking"),
        ];
        let mut sections: Vec<&str> = aws.iter().flatten().copied().collect();
        let aws_count = sections.len();
        sections.extend(self.hpa.as_ref().map(|_| "hpa"));
        sections.extend(self.beanstalk.as_ref().map(|_| "beanstalk"));
        match (&self.hpa, &self.beanstalk) {
            (Some(hpa), None) if aws_count == 0 => Ok(Rule::Hpa(hpa)),
            (None, Some(beanstalk)) if aws_count == 0 => Ok(Rule::Beanstalk(beanstalk)),
            (None, None) if aws_count > 0 => Ok(Rule::Aws {
                simple: self.simple.as_deref().unwrap_or_default(),
                step: self.step.as_deref().unwrap_or_default(),
                target_tracking: self.target_tracking.as_deref().unwrap_or_default(),
            }),
            _ => Err(PolicyError::Invalid(format!(
                "a policy needs hpa, beanstalk, or any of simple, step and target_tracking; found {}",
                if sections.is_empty() {
                    "none".to_owned()
                } else {
                    sections.join(", ")
                }
            ))),
        }
    }

    /// Every number of the policy's rules with its field, as the policy file names it.
    fn numbers(&self) -> Vec<(String, f64)> {
        let mut numbers = Vec::new();
        for (i, p) in self.simple.iter().flatten().enumerate() {
            numbers.push((format!("simple[{i}].alarm.threshold"), p.alarm.threshold));
            numbers.push((format!("simple[{i}].adjustment"), p.adjustment));
        }
        for (i, p) in self.step.iter().flatten().enumerate() {
            numbers.push((format!("step[{i}].alarm.threshold"), p.alarm.threshold));
            for (j, s) in p.steps.iter().enumerate() {
                let field = format!("step[{i}].steps[{j}]");
                numbers.extend(s.lower.map(|v| (format!("{field}.lower"), v)));
                numbers.extend(s.upper.map(|v| (format!("{field}.upper"), v)));
                numbers.push((format!("{field}.adjustment"), s.adjustment));
            }
        }
        for (i, t) in self.target_tracking.iter().flatten().enumerate() {
            numbers.push((format!("target_tracking[{i}].target"), t.target));
            numbers.push((
                format!("target_tracking[{i}].scale_in_below"),
                t.scale_in_below,
            ));
        }
        if let Some(h) = &self.hpa {
            numbers.extend(h.target.map(|v| ("hpa.target".to_owned(), v)));
            for (i, m) in h.metrics.iter().flatten().enumerate() {
                numbers.push((format!("hpa.metrics[{i}].target"), m.target));
            }
            numbers.push(("hpa.tolerance".into(), h.tolerance));
            for (direction, rules) in h
                .behavior
                .iter()
                .flat_map(|b| [("scale_up", &b.scale_up), ("scale_down", &b.scale_down)])
            {
                numbers.extend(
                    rules
                        .tolerance
                        .map(|v| (format!("hpa.behavior.{direction}.tolerance"), v)),
                );
            }
        }
        if let Some(b) = &self.beanstalk {
            numbers.push(("beanstalk.upper_threshold".into(), b.upper_threshold));
            numbers.push(("beanstalk.lower_threshold".into(), b.lower_threshold));
        }
        numbers
    }

    /// Checks limits and the rule's settings; errors name the field.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |m: String| Err(PolicyError::Invalid(m));
        if self.max > MAX_INSTANCES {
            return invalid(format!(
                "max ({}) must be at most {MAX_INSTANCES} instances",
                self.max
            ));
        }
        if let Some((field, value)) = self.numbers().into_iter().find(|(_, v)| !v.is_finite()) {
            return invalid(format!("{field} must be a finite number, not {value}"));
        }
        if self.max == 0 || self.min > self.max {
            return invalid(format!(
                "min ({}) must not exceed max ({}), and max must be at least 1",
                self.min, self.max
            ));
        }
        if !(self.min..=self.max).contains(&self.initial()) {
            return invalid(format!(
                "initial ({}) must be between min ({}) and max ({})",
                self.initial(),
                self.min,
                self.max
            ));
        }
        let positive = |field: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(())
            } else {
                Err(PolicyError::Invalid(format!(
                    "{field} must be above 0, not {value}"
                )))
            }
        };
        match self.rule()? {
            Rule::Aws {
                simple,
                step,
                target_tracking,
            } => {
                for (i, p) in simple.iter().enumerate() {
                    p.alarm
                        .validate(&format!("simple[{i}].alarm"))
                        .map_err(PolicyError::Invalid)?;
                }
                for (i, p) in step.iter().enumerate() {
                    let field = format!("step[{i}]");
                    p.alarm
                        .validate(&format!("{field}.alarm"))
                        .map_err(PolicyError::Invalid)?;
                    crate::rules::step::validate_steps(&p.steps, &field)
                        .map_err(PolicyError::Invalid)?;
                }
                for (i, t) in target_tracking.iter().enumerate() {
                    let field = format!("target_tracking[{i}]");
                    positive(&format!("{field}.target"), t.target)?;
                    if t.period.is_zero() {
                        return invalid(format!("{field}.period must be above 0"));
                    }
                    if t.scale_out_datapoints == 0 || t.scale_in_datapoints == 0 {
                        return invalid(format!(
                            "{field}.scale_out_datapoints and scale_in_datapoints must be at least 1"
                        ));
                    }
                    if !(t.scale_in_below > 0.0 && t.scale_in_below <= 1.0) {
                        return invalid(format!(
                            "{field}.scale_in_below must be above 0 and at most 1, not {}",
                            t.scale_in_below
                        ));
                    }
                }
            }
            Rule::Hpa(h) => h.validate()?,
            Rule::Beanstalk(b) => {
                if b.period.is_zero() || b.breach_duration < b.period {
                    return invalid(format!(
                        "beanstalk.breach_duration ({:?}) must be at least one period ({:?})",
                        b.breach_duration, b.period
                    ));
                }
                if b.lower_threshold >= b.upper_threshold {
                    return invalid(format!(
                        "beanstalk.lower_threshold ({}) must be below upper_threshold ({})",
                        b.lower_threshold, b.upper_threshold
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Hpa {
    /// The metrics with their targets: `metrics`, or `metric` with `target`.
    pub fn metric_targets(&self) -> Vec<HpaMetric> {
        match (&self.metrics, self.target) {
            (Some(metrics), _) => metrics.clone(),
            (None, Some(target)) => vec![HpaMetric {
                metric: self.metric,
                target,
            }],
            (None, None) => Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |m: String| Err(PolicyError::Invalid(m));
        if self.metrics.is_some() == self.target.is_some() {
            return invalid("hpa needs either target (with metric) or metrics, not both".into());
        }
        let targets = self.metric_targets();
        if targets.is_empty() {
            return invalid("hpa.metrics needs at least one metric".into());
        }
        for HpaMetric { metric, target } in targets {
            let utilization = matches!(metric, Metric::Cpu | Metric::Memory);
            // averageUtilization is an int32 percent; averageValue a quantity we keep to milli-units.
            let valid = if utilization {
                target >= 1.0 && target.fract() == 0.0 && target <= f64::from(i32::MAX)
            } else {
                (0.001..=1e12).contains(&target)
            };
            if !valid {
                return invalid(format!(
                    "hpa target for {metric} must be {}, not {target}",
                    if utilization {
                        "a whole percent of at least 1 (averageUtilization)"
                    } else {
                        "at least 0.001 (averageValue, in milli-units)"
                    }
                ));
            }
        }
        let behavior = self.behavior.clone().unwrap_or_default();
        for (field, tolerance) in [
            ("hpa.tolerance", Some(self.tolerance)),
            (
                "hpa.behavior.scale_up.tolerance",
                behavior.scale_up.tolerance,
            ),
            (
                "hpa.behavior.scale_down.tolerance",
                behavior.scale_down.tolerance,
            ),
        ] {
            if let Some(t) = tolerance
                && !(0.0..=1000.0).contains(&t)
            {
                return invalid(format!("{field} must be between 0 and 1000, not {t}"));
            }
        }
        if self.sync_period.is_zero() {
            return invalid("hpa.sync_period must be above 0".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worked_example_reads_with_durations_and_defaults() {
        let policy =
            Policy::from_yaml(include_str!("../../../examples/beanstalk-policy.yaml")).unwrap();
        assert_eq!((policy.min, policy.max, policy.initial()), (1, 10, 1));
        assert_eq!(policy.startup, Duration::from_secs(240));
        let Rule::Beanstalk(b) = policy.rule().unwrap() else {
            panic!("a beanstalk policy")
        };
        assert_eq!((b.upper_threshold, b.lower_threshold), (25.0, 15.0));
        assert_eq!((b.scale_up_increment, b.scale_down_increment), (1, -1));
        let json = Policy::from_yaml(r#"{"max": 3, "hpa": {"target": 60, "sync_period": "30s"}}"#)
            .unwrap();
        let Rule::Hpa(hpa) = json.rule().unwrap() else {
            panic!("an hpa policy")
        };
        assert_eq!(
            (hpa.tolerance, hpa.sync_period),
            (0.1, Duration::from_secs(30))
        );
        // The controller's defaults (kube-controller-manager flags).
        assert_eq!(
            (
                hpa.downscale_stabilization,
                hpa.cpu_initialization_period,
                hpa.initial_readiness_delay
            ),
            (
                Duration::from_secs(300),
                Duration::from_secs(300),
                Duration::from_secs(30)
            )
        );
        assert_eq!(hpa.behavior, None);
    }

    #[test]
    fn aws_policies_of_several_types_share_a_group() {
        let policy = Policy::from_yaml(
            "max: 9\nsimple:\n  - alarm: {threshold: 80, comparison: greater_than}\n    adjustment: 1\n\
             target_tracking:\n  - {target: 50}\n  - {metric: requests_per_target, target: 100}\n",
        )
        .unwrap();
        let Rule::Aws {
            simple,
            step,
            target_tracking,
        } = policy.rule().unwrap()
        else {
            panic!("aws policies")
        };
        assert_eq!((simple.len(), step.len(), target_tracking.len()), (1, 0, 2));
        // One section reads as a list of one, with the observed defaults.
        let one = Policy::from_yaml("max: 3\ntarget_tracking: {target: 50}\n").unwrap();
        let tracking = &one.target_tracking.unwrap()[0];
        assert_eq!(
            (
                tracking.scale_out_datapoints,
                tracking.scale_in_datapoints,
                tracking.scale_in_below
            ),
            (3, 15, 0.9)
        );
        let typo = Policy::from_yaml("max: 3\ntarget_tracking:\n  targte: 50\n")
            .unwrap_err()
            .to_string();
        assert!(typo.contains("did you mean `target`?"), "{typo}");
    }

    #[test]
    fn every_example_reads_back_from_its_native_text() {
        for text in [
            include_str!("../../../examples/aws-mixed-policy.yaml"),
            include_str!("../../../examples/hpa-policy.yaml"),
            include_str!("../../../examples/beanstalk-policy.yaml"),
            "min: 2\nmax: 6\nstartup: 1.5s\nscale_in: oldest\nhpa:\n  target: 70\n  behavior: \
             {scale_up: {stabilization_window: 30s, policies: [{type: pods, value: 2, period: 15s}]}}\n",
        ] {
            let policy = Policy::from_yaml(text).unwrap();
            let written = policy.to_yaml();
            assert_eq!(Policy::from_yaml(&written).unwrap(), policy, "{written}");
        }
    }

    #[test]
    fn the_mixed_and_hpa_examples_read() {
        let mixed =
            Policy::from_yaml(include_str!("../../../examples/aws-mixed-policy.yaml")).unwrap();
        let Rule::Aws {
            simple,
            step,
            target_tracking,
        } = mixed.rule().unwrap()
        else {
            panic!("aws policies")
        };
        assert_eq!((simple.len(), step.len(), target_tracking.len()), (1, 1, 2));
        let hpa = Policy::from_yaml(include_str!("../../../examples/hpa-policy.yaml")).unwrap();
        let Rule::Hpa(hpa) = hpa.rule().unwrap() else {
            panic!("an hpa policy")
        };
        assert_eq!(hpa.metric_targets().len(), 2);
        assert_eq!(hpa.behavior, None);
    }

    #[test]
    fn hpa_targets_are_checked_per_metric() {
        let fraction = Policy::from_yaml("max: 3\nhpa: {target: 50.5}\n")
            .unwrap_err()
            .to_string();
        assert!(fraction.contains("whole percent"), "{fraction}");
        let several = Policy::from_yaml(
            "max: 3\nhpa:\n  metrics:\n    - {metric: cpu, target: 50}\n    - {metric: requests_per_target, target: 0.5}\n",
        )
        .unwrap();
        assert_eq!(several.hpa.unwrap().metric_targets().len(), 2);
        let both =
            Policy::from_yaml("max: 3\nhpa: {target: 50, metrics: [{metric: cpu, target: 50}]}\n")
                .unwrap_err()
                .to_string();
        assert!(both.contains("not both"), "{both}");
    }

    #[test]
    fn unknown_fields_suggest_the_nearest_name() {
        let error =
            Policy::from_yaml("max: 3\nbeanstalk:\n  uper_threshold: 25\n  lower_threshold: 15\n")
                .unwrap_err()
                .to_string();
        assert!(
            error.contains("uper_threshold") && error.contains("did you mean `upper_threshold`?"),
            "{error}"
        );
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn numbers_must_be_finite_and_fleets_bounded() {
        for (text, says) in [
            (
                "max: 3\nbeanstalk: {upper_threshold: .nan, lower_threshold: 10}\n",
                "beanstalk.upper_threshold must be a finite number, not NaN",
            ),
            (
                "max: 3\nsimple:\n  - alarm: {threshold: .inf, comparison: greater_than}\n    adjustment: 1\n",
                "simple[0].alarm.threshold must be a finite number, not inf",
            ),
            (
                "max: 3\nstep:\n  - alarm: {threshold: 50, comparison: greater_than}\n    steps: [{lower: 0, upper: .nan, adjustment: 1}, {lower: .nan, adjustment: 2}]\n",
                "step[0].steps[0].upper must be a finite number, not NaN",
            ),
            (
                "max: 3\nsimple:\n  - alarm: {threshold: 50, comparison: greater_than}\n    adjustment: -.inf\n",
                "simple[0].adjustment must be a finite number, not -inf",
            ),
            (
                "max: 3\nhpa: {target: 50, behavior: {scale_up: {tolerance: .nan}}}\n",
                "hpa.behavior.scale_up.tolerance must be a finite number, not NaN",
            ),
            (
                "min: 1\nmax: 4000000000\ninitial: 4000000000\nhpa: {target: 50}\n",
                "max (4000000000) must be at most 1000000 instances",
            ),
        ] {
            let error = Policy::from_yaml(text).unwrap_err().to_string();
            assert!(error.contains(says), "{text}: {error}");
        }
        assert!(Policy::from_yaml("max: 1000000\nhpa: {target: 50}\n").is_ok());
    }

    #[test]
    fn exactly_one_rule_and_sane_limits() {
        let none = Policy::from_yaml("max: 3\n").unwrap_err().to_string();
        assert!(none.contains("found none"), "{none}");
        let both = Policy::from_yaml("max: 3\nhpa: {target: 50}\ntarget_tracking: {target: 50}\n")
            .unwrap_err()
            .to_string();
        assert!(both.contains("found target_tracking, hpa"), "{both}");
        let limits = Policy::from_yaml("min: 4\nmax: 3\nhpa: {target: 50}\n")
            .unwrap_err()
            .to_string();
        assert!(
            limits.contains("min (4) must not exceed max (3)"),
            "{limits}"
        );
        let duration = Policy::from_yaml("max: 3\nstartup: soon\nhpa: {target: 50}\n")
            .unwrap_err()
            .to_string();
        assert!(duration.contains("soon"), "{duration}");
    }
}
