//! AWS names of scalelab's metrics, statistics, comparisons and adjustment types, as the EC2 Auto
//! Scaling and CloudWatch APIs spell them.

use scalelab_scaling::{AdjustmentType, Comparison, Metric, Statistic};

/// A CloudWatch metric an alarm or a customized target tracking metric watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloudWatchMetric {
    pub namespace: &'static str,
    pub name: &'static str,
    /// The metric's unit, for Elastic Beanstalk's trigger.
    pub unit: &'static str,
}

/// The Auto Scaling group's average CPU, published by EC2.
pub const CPU: CloudWatchMetric = CloudWatchMetric {
    namespace: "AWS/EC2",
    name: "CPUUtilization",
    unit: "Percent",
};

/// Memory used, published by the CloudWatch agent (`mem_used_percent`, aggregated by group).
pub const MEMORY: CloudWatchMetric = CloudWatchMetric {
    namespace: "CWAgent",
    name: "mem_used_percent",
    unit: "Percent",
};

/// The CloudWatch metric that measures `metric` per Auto Scaling group, or why there is none.
pub fn group_metric(metric: Metric) -> Result<CloudWatchMetric, String> {
    match metric {
        Metric::Cpu => Ok(CPU),
        Metric::Memory => Ok(MEMORY),
        Metric::RequestsPerTarget => Err("CloudWatch's RequestCountPerTarget is a Sum per alarm \
            period, not a rate per instance; scale on requests per target with target_tracking \
            (ALBRequestCountPerTarget) instead"
            .into()),
        Metric::InFlightPerTarget => {
            Err("no CloudWatch metric counts requests in flight per instance".into())
        }
    }
}

/// The scalelab metric a CloudWatch metric measures.
pub fn metric_of(namespace: &str, name: &str) -> Option<Metric> {
    [(CPU, Metric::Cpu), (MEMORY, Metric::Memory)]
        .into_iter()
        .find(|(m, _)| m.namespace == namespace && m.name == name)
        .map(|(_, metric)| metric)
}

pub fn statistic(statistic: Statistic) -> &'static str {
    match statistic {
        Statistic::Average => "Average",
        Statistic::Maximum => "Maximum",
        Statistic::Minimum => "Minimum",
    }
}

pub fn parse_statistic(text: &str) -> Option<Statistic> {
    [Statistic::Average, Statistic::Maximum, Statistic::Minimum]
        .into_iter()
        .find(|s| statistic(*s) == text)
}

pub fn comparison(comparison: Comparison) -> &'static str {
    match comparison {
        Comparison::GreaterThan => "GreaterThanThreshold",
        Comparison::GreaterThanOrEqual => "GreaterThanOrEqualToThreshold",
        Comparison::LessThan => "LessThanThreshold",
        Comparison::LessThanOrEqual => "LessThanOrEqualToThreshold",
    }
}

pub fn parse_comparison(text: &str) -> Option<Comparison> {
    [
        Comparison::GreaterThan,
        Comparison::GreaterThanOrEqual,
        Comparison::LessThan,
        Comparison::LessThanOrEqual,
    ]
    .into_iter()
    .find(|c| comparison(*c) == text)
}

pub fn adjustment_type(kind: AdjustmentType) -> &'static str {
    match kind {
        AdjustmentType::ChangeInCapacity => "ChangeInCapacity",
        AdjustmentType::ExactCapacity => "ExactCapacity",
        AdjustmentType::PercentChangeInCapacity => "PercentChangeInCapacity",
    }
}

pub fn parse_adjustment_type(text: &str) -> Option<AdjustmentType> {
    [
        AdjustmentType::ChangeInCapacity,
        AdjustmentType::ExactCapacity,
        AdjustmentType::PercentChangeInCapacity,
    ]
    .into_iter()
    .find(|k| adjustment_type(*k) == text)
}

/// A whole number, or why not (`field` names the value).
pub fn whole(field: &str, value: f64) -> Result<i64, String> {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e9 {
        Ok(value as i64)
    } else {
        Err(format!(
            "{field} is {value}; AWS takes whole numbers of instances or percent"
        ))
    }
}
