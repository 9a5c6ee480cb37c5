//! Policy configuration: what a YAML or JSON policy file says. Exactly one rule section
//! (`simple`, `step`, `target_tracking`, `hpa` or `beanstalk`) beside the common capacity settings.

use std::time::Duration;

use scalelab_capacity::ScaleInOrder;
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
    /// AWS target tracking.
    #[serde(default)]
    pub target_tracking: Option<TargetTracking>,
    /// Kubernetes HorizontalPodAutoscaler (autoscaling/v2).
    #[serde(default)]
    pub hpa: Option<Hpa>,
    /// Elastic Beanstalk triggers.
    #[serde(default)]
    pub beanstalk: Option<Beanstalk>,
}

/// The one rule a policy holds.
#[derive(Debug, Clone, Copy)]
pub enum Rule<'a> {
    Simple(&'a [SimpleScaling]),
    Step(&'a [StepScaling]),
    TargetTracking(&'a TargetTracking),
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

/// AWS target tracking: keep `metric` near `target`. Scales out when 3 datapoints (of `period`, one
/// minute on AWS) in a row are above the target, to `ceil(in service x metric / target)`; scales in the
/// same way only after 15 datapoints in a row below 90 % of the target and never while an instance
/// warms up.
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
}

/// Kubernetes HPA v2 with one resource or pods metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hpa {
    #[serde(default)]
    pub metric: Metric,
    /// Target average value (e.g. averageUtilization 60).
    pub target: f64,
    /// No scaling while `|metric / target - 1|` is at most this.
    #[serde(default = "hpa_tolerance")]
    pub tolerance: f64,
    /// How often the controller runs.
    #[serde(default = "fifteen_seconds", with = "scalelab_config::duration_serde")]
    pub sync_period: Duration,
    #[serde(default)]
    pub behavior: HpaBehavior,
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
/// (up: no window, Max of 4 pods and 100 % per 15 s; down: 300 s window, 100 % per 15 s).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HpaRules {
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

    /// Instances at the start.
    pub fn initial(&self) -> u32 {
        self.initial.unwrap_or(self.min)
    }

    /// The policy's one rule.
    pub fn rule(&self) -> Result<Rule<'_>, PolicyError> {
        let mut rules = Vec::new();
        if let Some(simple) = &self.simple {
            rules.push(Rule::Simple(simple));
        }
        if let Some(step) = &self.step {
            rules.push(Rule::Step(step));
        }
        if let Some(target) = &self.target_tracking {
            rules.push(Rule::TargetTracking(target));
        }
        if let Some(hpa) = &self.hpa {
            rules.push(Rule::Hpa(hpa));
        }
        if let Some(beanstalk) = &self.beanstalk {
            rules.push(Rule::Beanstalk(beanstalk));
        }
        match rules[..] {
            [rule] => Ok(rule),
            _ => Err(PolicyError::Invalid(format!(
                "a policy needs exactly one of simple, step, target_tracking, hpa, beanstalk; found {}",
                rules.len()
            ))),
        }
    }

    /// Checks limits and the rule's settings; errors name the field.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let invalid = |m: String| Err(PolicyError::Invalid(m));
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
            Rule::Simple(policies) => {
                for (i, p) in policies.iter().enumerate() {
                    p.alarm
                        .validate(&format!("simple[{i}].alarm"))
                        .map_err(PolicyError::Invalid)?;
                }
            }
            Rule::Step(policies) => {
                for (i, p) in policies.iter().enumerate() {
                    p.alarm
                        .validate(&format!("step[{i}].alarm"))
                        .map_err(PolicyError::Invalid)?;
                    if p.steps.is_empty() {
                        return invalid(format!("step[{i}].steps needs at least one step"));
                    }
                }
            }
            Rule::TargetTracking(t) => {
                positive("target_tracking.target", t.target)?;
                if t.period.is_zero() {
                    return invalid("target_tracking.period must be above 0".into());
                }
            }
            Rule::Hpa(h) => {
                positive("hpa.target", h.target)?;
                if h.sync_period.is_zero() {
                    return invalid("hpa.sync_period must be above 0".into());
                }
            }
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
    fn exactly_one_rule_and_sane_limits() {
        let none = Policy::from_yaml("max: 3\n").unwrap_err().to_string();
        assert!(none.contains("exactly one of"), "{none}");
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
