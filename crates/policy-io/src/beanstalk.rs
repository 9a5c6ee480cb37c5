//! Elastic Beanstalk `.ebextensions` option settings: the `aws:autoscaling:asg` and
//! `aws:autoscaling:trigger` namespaces (option names, units and ranges from "General options for all
//! environments" in the Elastic Beanstalk developer guide).

use std::time::Duration;

use scalelab_scaling::{Metric, Policy, Rule};
use serde::Serialize;

use crate::aws;
use crate::{ExportError, ExportOptions, Format};

#[derive(Serialize)]
struct Extension {
    option_settings: Vec<OptionSetting>,
}

#[derive(Serialize)]
struct OptionSetting {
    namespace: &'static str,
    option_name: &'static str,
    value: String,
}

fn unsupported(field: impl Into<String>, why: impl Into<String>) -> ExportError {
    ExportError::Unsupported {
        format: Format::Beanstalk,
        field: field.into(),
        why: why.into(),
    }
}

/// Whole minutes in `range`, as Period and BreachDuration are given.
fn minutes(
    field: &str,
    d: Duration,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ExportError> {
    let seconds = d.as_secs();
    if d.subsec_nanos() != 0 || !seconds.is_multiple_of(60) || !range.contains(&(seconds / 60)) {
        return Err(unsupported(
            field,
            format!(
                "Elastic Beanstalk takes whole minutes from {} to {}",
                range.start(),
                range.end()
            ),
        ));
    }
    Ok(seconds / 60)
}

/// `policy` as `.ebextensions` YAML.
pub fn write(policy: &Policy, options: &ExportOptions) -> Result<String, ExportError> {
    let b = match policy
        .rule()
        .map_err(|e| unsupported("policy", e.to_string()))?
    {
        Rule::Beanstalk(b) => b,
        Rule::Aws { .. } => {
            return Err(unsupported(
                crate::hpa::aws_fields(policy),
                "Elastic Beanstalk's triggers are written from a `beanstalk` section (an upper and a \
                 lower threshold on one metric); AWS policies export with --format terraform",
            ));
        }
        Rule::Hpa(_) => {
            return Err(unsupported(
                "hpa",
                "Elastic Beanstalk's triggers are written from a `beanstalk` section (an upper and a \
                 lower threshold on one metric)",
            ));
        }
    };
    if b.metric != Metric::Cpu {
        return Err(unsupported(
            "beanstalk.metric",
            format!(
                "{}: of the trigger's metrics scalelab measures CPUUtilization only (RequestCount is \
                 the load balancer's total, not per instance)",
                b.metric
            ),
        ));
    }
    if policy.initial() != policy.min {
        return Err(unsupported(
            "initial",
            "an Elastic Beanstalk environment starts with MinSize instances",
        ));
    }
    for (field, value) in [("min", policy.min), ("max", policy.max)] {
        if !(1..=10_000).contains(&value) {
            return Err(unsupported(field, "MinSize and MaxSize are 1 to 10000"));
        }
    }
    for (field, value) in [
        ("beanstalk.upper_threshold", b.upper_threshold),
        ("beanstalk.lower_threshold", b.lower_threshold),
    ] {
        if !(0.0..=20_000_000.0).contains(&value) {
            return Err(unsupported(field, "thresholds are 0 to 20000000"));
        }
    }
    let cooldown = b.cooldown.as_secs();
    if b.cooldown.subsec_nanos() != 0 || cooldown > 10_000 {
        return Err(unsupported(
            "beanstalk.cooldown",
            "Cooldown is whole seconds from 0 to 10000",
        ));
    }
    let period = minutes("beanstalk.period", b.period, 1..=600)?;
    let breach = minutes("beanstalk.breach_duration", b.breach_duration, 1..=600)?;
    if !breach.is_multiple_of(period) {
        return Err(unsupported(
            "beanstalk.breach_duration",
            "BreachDuration must be Period x EvaluationPeriods, or Elastic Beanstalk changes one of them",
        ));
    }
    let asg = |option_name, value: String| OptionSetting {
        namespace: "aws:autoscaling:asg",
        option_name,
        value,
    };
    let trigger = |option_name, value: String| OptionSetting {
        namespace: "aws:autoscaling:trigger",
        option_name,
        value,
    };
    let metric = aws::CPU;
    let extension = Extension {
        option_settings: vec![
            asg("MinSize", policy.min.to_string()),
            asg("MaxSize", policy.max.to_string()),
            asg("Cooldown", cooldown.to_string()),
            trigger("MeasureName", metric.name.into()),
            trigger("Statistic", aws::statistic(b.statistic).into()),
            trigger("Unit", metric.unit.into()),
            trigger("Period", period.to_string()),
            trigger("EvaluationPeriods", (breach / period).to_string()),
            trigger("BreachDuration", breach.to_string()),
            trigger("UpperThreshold", b.upper_threshold.to_string()),
            trigger(
                "UpperBreachScaleIncrement",
                b.scale_up_increment.to_string(),
            ),
            trigger("LowerThreshold", b.lower_threshold.to_string()),
            trigger(
                "LowerBreachScaleIncrement",
                b.scale_down_increment.to_string(),
            ),
        ],
    };
    let yaml = serde_saphyr::to_string(&extension).map_err(|e| ExportError::Write {
        format: Format::Beanstalk,
        message: e.to_string(),
    })?;
    Ok(format!(
        "# Written by scalelab export for the environment of {}: save as .ebextensions/autoscaling.config.\n\
         # Every option is explicit (Elastic Beanstalk's own defaults are NetworkOut in Bytes, 5-minute\n\
         # periods, MaxSize 4, Cooldown 360). Not expressible here: the start-up time the policy was\n\
         # simulated with ({} s) and the scale-in order ({} first; the group's termination policy decides).\n{yaml}",
        options.name,
        policy.startup.as_secs(),
        match policy.scale_in {
            scalelab_capacity::ScaleInOrder::Newest => "newest",
            scalelab_capacity::ScaleInOrder::Oldest => "oldest",
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRIGGERS: &str = "min: 2\nmax: 6\nbeanstalk: {period: 1m, breach_duration: 3m, \
        upper_threshold: 70.5, lower_threshold: 25, cooldown: 2m}\n";

    #[test]
    fn every_option_is_written_as_a_string() {
        let text = write(
            &Policy::from_yaml(TRIGGERS).unwrap(),
            &ExportOptions {
                name: "shop".into(),
            },
        )
        .unwrap();
        let settings = text.lines().filter(|l| l.contains("option_name:")).count();
        assert_eq!(settings, 13, "{text}");
        // Numbers are quoted, so YAML reads each value as the string Elastic Beanstalk takes.
        assert_eq!(text.matches("\n  value: ").count(), 13, "{text}");
        assert!(text.contains("value: CPUUtilization"), "{text}");
        for expected in ["value: \"70.5\"", "value: \"3\"", "value: \"120\""] {
            assert!(text.contains(expected), "{expected} in\n{text}");
        }
        assert!(!text.contains("null") && !text.contains("NaN"), "{text}");
    }

    #[test]
    fn nan_and_out_of_range_thresholds_are_refused_naming_the_field() {
        let mut policy = Policy::from_yaml(TRIGGERS).unwrap();
        policy.beanstalk.as_mut().unwrap().lower_threshold = f64::NAN;
        let options = ExportOptions {
            name: "shop".into(),
        };
        let error = crate::export(&policy, Format::Beanstalk, &options)
            .unwrap_err()
            .to_string();
        assert!(error.contains("beanstalk.lower_threshold"), "{error}");
        let mut policy = Policy::from_yaml(TRIGGERS).unwrap();
        policy.beanstalk.as_mut().unwrap().upper_threshold = 3e7;
        let error = write(&policy, &options).unwrap_err().to_string();
        assert!(
            error.contains("`beanstalk.upper_threshold`: thresholds are 0 to 20000000"),
            "{error}"
        );
    }
}
