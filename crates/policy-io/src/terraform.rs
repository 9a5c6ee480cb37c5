//! Terraform for the AWS provider: `aws_autoscaling_policy` resources (SimpleScaling, StepScaling,
//! TargetTrackingScaling, any mix on one group) with the `aws_cloudwatch_metric_alarm`s that trigger
//! them, for a group named by a variable. Written with hcl-rs's builder and read with its parser.
//!
//! Argument names are the provider's (registry.terraform.io/providers/hashicorp/aws, resources
//! `autoscaling_policy` and `cloudwatch_metric_alarm`).

use std::collections::HashMap;
use std::time::Duration;

use hcl::expr::{FuncCall, Traversal, TraversalOperator, UnaryOperator};
use hcl::{Block, Body, Expression, Identifier, Object, ObjectKey, Variable};
use scalelab_capacity::ScaleInOrder;
use scalelab_scaling::{
    AdjustmentType, AlarmConfig, Metric, Policy, Rule, SimpleScaling, StepAdjustment, StepScaling,
    TargetTracking,
};

use crate::aws::{self, CloudWatchMetric};
use crate::{ExportError, ExportOptions, Format, ImportError};

/// The variable naming the Auto Scaling group.
const GROUP: &str = "autoscaling_group_name";
/// Seconds from launch to in service: what scalelab simulates; no AWS argument sets it.
const STARTUP: &str = "instance_startup_seconds";
/// The load balancer target group the ALBRequestCountPerTarget metric is for.
const RESOURCE_LABEL: &str = "alb_resource_label";

fn unsupported(field: impl Into<String>, why: impl Into<String>) -> ExportError {
    ExportError::Unsupported {
        format: Format::Terraform,
        field: field.into(),
        why: why.into(),
    }
}

/// `var.NAME`.
fn var_ref(name: &str) -> Expression {
    Traversal::builder(Variable::unchecked("var"))
        .attr(name)
        .build()
        .into()
}

fn seconds(d: Duration) -> i64 {
    d.as_secs() as i64
}

fn whole_seconds(field: &str, d: Duration) -> Result<i64, ExportError> {
    if d.subsec_nanos() == 0 {
        Ok(seconds(d))
    } else {
        Err(unsupported(field, "AWS takes whole seconds"))
    }
}

fn number(value: f64) -> Expression {
    if value.fract() == 0.0 && value.abs() < 9e15 {
        Expression::from(value as i64)
    } else {
        Expression::from(value)
    }
}

/// `policy` as Terraform.
pub fn write(policy: &Policy, options: &ExportOptions) -> Result<String, ExportError> {
    let name = &options.name;
    let mut body = Body::builder();
    let mut resource_label = false;
    let rule = policy
        .rule()
        .map_err(|e| unsupported("policy", e.to_string()))?;
    let mut resources = Vec::new();
    match rule {
        // Every policy of the group, each with its alarm (target tracking's alarms are AWS's own).
        Rule::Aws {
            simple: simples,
            step: steps,
            target_tracking: trackings,
        } => {
            for (i, p) in simples.iter().enumerate() {
                resources.extend(simple(name, &format!("simple_{i}"), p, i)?);
            }
            for (i, p) in steps.iter().enumerate() {
                resources.extend(step(name, &format!("step_{i}"), p, i)?);
            }
            for (i, t) in trackings.iter().enumerate() {
                resource_label |= t.metric == Metric::RequestsPerTarget;
                resources.push(target_tracking(name, t, i)?);
            }
        }
        Rule::Beanstalk(b) => {
            // Elastic Beanstalk's triggers are two simple scaling policies sharing the group's cooldown.
            let periods = b.breach_duration.as_secs_f64() / b.period.as_secs_f64();
            if periods.fract() != 0.0 {
                return Err(unsupported(
                    "beanstalk.breach_duration",
                    "must be a whole number of periods to become evaluation_periods",
                ));
            }
            for (i, (threshold, comparison, increment)) in [
                (
                    b.upper_threshold,
                    scalelab_scaling::Comparison::GreaterThan,
                    b.scale_up_increment,
                ),
                (
                    b.lower_threshold,
                    scalelab_scaling::Comparison::LessThan,
                    b.scale_down_increment,
                ),
            ]
            .into_iter()
            .enumerate()
            {
                let p = SimpleScaling {
                    alarm: AlarmConfig {
                        metric: b.metric,
                        statistic: b.statistic,
                        threshold,
                        comparison,
                        period: b.period,
                        evaluation_periods: periods as u32,
                        datapoints_to_alarm: None,
                    },
                    adjustment_type: AdjustmentType::ChangeInCapacity,
                    adjustment: f64::from(increment),
                    min_adjustment_magnitude: None,
                    cooldown: b.cooldown,
                };
                resources.extend(simple(name, &format!("simple_{i}"), &p, i)?);
            }
        }
        Rule::Hpa(_) => {
            return Err(unsupported(
                "hpa",
                "a Kubernetes HPA has no AWS Auto Scaling equivalent; export it with --format hpa",
            ));
        }
    }
    let variable = |label: &str, kind: Expression, default: Option<Expression>, about: &str| {
        let mut block = Block::builder("variable")
            .add_label(label)
            .add_attribute(("type", kind))
            .add_attribute(("description", about));
        if let Some(default) = default {
            block = block.add_attribute(("default", default));
        }
        block.build()
    };
    let ident = |name: &str| Expression::Variable(Variable::unchecked(name.to_owned()));
    body = body
        .add_block(variable(
            GROUP,
            ident("string"),
            None,
            "Name of the Auto Scaling group these policies scale",
        ))
        .add_block(variable(
            "min_size",
            ident("number"),
            Some(policy.min.into()),
            "The group's min_size",
        ))
        .add_block(variable(
            "max_size",
            ident("number"),
            Some(policy.max.into()),
            "The group's max_size",
        ))
        .add_block(variable(
            "desired_capacity",
            ident("number"),
            Some(policy.initial().into()),
            "The group's desired_capacity at creation",
        ))
        .add_block(variable(
            "termination_policies",
            FuncCall::builder(Identifier::unchecked("list"))
                .arg(ident("string"))
                .build()
                .into(),
            Some(Expression::Array(vec![
                match policy.scale_in {
                    ScaleInOrder::Newest => "NewestInstance",
                    ScaleInOrder::Oldest => "OldestInstance",
                }
                .into(),
            ])),
            "The group's termination_policies: which instances a scale-in removes first",
        ))
        .add_block(variable(
            STARTUP,
            ident("number"),
            Some(seconds(policy.startup).into()),
            "Seconds from launch to in service that the policy was simulated with (no AWS argument; \
             the group's health_check_grace_period should cover it)",
        ));
    if resource_label {
        body = body.add_block(variable(
            RESOURCE_LABEL,
            ident("string"),
            None,
            "app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id> for ALBRequestCountPerTarget",
        ));
    }
    let body = body.add_blocks(resources).build();
    let text = hcl::format::to_string(&body).map_err(|e| ExportError::Write {
        format: Format::Terraform,
        message: e.to_string(),
    })?;
    Ok(format!(
        "# Written by scalelab export: AWS Auto Scaling policies for the group var.{GROUP}.\n\
         # Set the group's min_size, max_size, desired_capacity and termination_policies from the variables.\n\n{text}"
    ))
}

fn policy_block(name: &str, label: &str, policy_type: &str) -> hcl::structure::BlockBuilder {
    Block::builder("resource")
        .add_label("aws_autoscaling_policy")
        .add_label(label)
        .add_attribute(("name", format!("{name}-{}", label.replace('_', "-"))))
        .add_attribute(("autoscaling_group_name", var_ref(GROUP)))
        .add_attribute(("policy_type", policy_type))
}

fn adjustment(
    block: hcl::structure::BlockBuilder,
    field: &str,
    kind: AdjustmentType,
    magnitude: Option<u32>,
) -> Result<hcl::structure::BlockBuilder, ExportError> {
    let mut block = block.add_attribute(("adjustment_type", aws::adjustment_type(kind)));
    if let Some(m) = magnitude {
        if kind != AdjustmentType::PercentChangeInCapacity {
            return Err(unsupported(
                format!("{field}.min_adjustment_magnitude"),
                "AWS accepts it only with adjustment_type PercentChangeInCapacity",
            ));
        }
        block = block.add_attribute(("min_adjustment_magnitude", m));
    }
    Ok(block)
}

fn simple(name: &str, label: &str, p: &SimpleScaling, i: usize) -> Result<Vec<Block>, ExportError> {
    let field = format!("simple[{i}]");
    let amount = aws::whole(&format!("{field}.adjustment"), p.adjustment)
        .map_err(|why| unsupported(format!("{field}.adjustment"), why))?;
    if p.adjustment_type == AdjustmentType::ExactCapacity && amount < 0 {
        return Err(unsupported(
            format!("{field}.adjustment"),
            "an exact capacity cannot be negative",
        ));
    }
    let block = policy_block(name, label, "SimpleScaling");
    let block = adjustment(block, &field, p.adjustment_type, p.min_adjustment_magnitude)?
        .add_attribute(("scaling_adjustment", amount))
        .add_attribute((
            "cooldown",
            whole_seconds(&format!("{field}.cooldown"), p.cooldown)?,
        ))
        .build();
    Ok(vec![block, alarm(name, label, &p.alarm, &field)?])
}

fn step(name: &str, label: &str, p: &StepScaling, i: usize) -> Result<Vec<Block>, ExportError> {
    let field = format!("step[{i}]");
    let block = policy_block(name, label, "StepScaling");
    let mut block = adjustment(block, &field, p.adjustment_type, p.min_adjustment_magnitude)?
        .add_attribute(("metric_aggregation_type", aws::statistic(p.alarm.statistic)))
        .add_attribute((
            "estimated_instance_warmup",
            whole_seconds(&format!("{field}.warmup"), p.warmup)?,
        ));
    for (j, s) in p.steps.iter().enumerate() {
        let amount = aws::whole(&format!("{field}.steps[{j}].adjustment"), s.adjustment)
            .map_err(|why| unsupported(format!("{field}.steps[{j}].adjustment"), why))?;
        let mut adjustment =
            Block::builder("step_adjustment").add_attribute(("scaling_adjustment", amount));
        if let Some(lower) = s.lower {
            adjustment = adjustment.add_attribute(("metric_interval_lower_bound", number(lower)));
        }
        if let Some(upper) = s.upper {
            adjustment = adjustment.add_attribute(("metric_interval_upper_bound", number(upper)));
        }
        block = block.add_block(adjustment.build());
    }
    Ok(vec![block.build(), alarm(name, label, &p.alarm, &field)?])
}

fn alarm(name: &str, label: &str, a: &AlarmConfig, field: &str) -> Result<Block, ExportError> {
    let metric = aws::group_metric(a.metric)
        .map_err(|why| unsupported(format!("{field}.alarm.metric"), why))?;
    let period = whole_seconds(&format!("{field}.alarm.period"), a.period)?;
    if period == 0 || period % 60 != 0 {
        return Err(unsupported(
            format!("{field}.alarm.period"),
            format!(
                "{period} s: {} {} has one-minute datapoints at best, so an alarm period is a \
                 multiple of 60 s",
                metric.namespace, metric.name
            ),
        ));
    }
    if period * i64::from(a.evaluation_periods) > 86_400 {
        return Err(unsupported(
            format!("{field}.alarm.evaluation_periods"),
            "CloudWatch evaluates at most one day (period x evaluation_periods <= 86400 s)",
        ));
    }
    let mut dimensions = Object::new();
    dimensions.insert(
        ObjectKey::Identifier(Identifier::unchecked("AutoScalingGroupName")),
        var_ref(GROUP),
    );
    let action = Traversal::builder(Variable::unchecked("aws_autoscaling_policy"))
        .attr(label)
        .attr("arn")
        .build();
    Ok(Block::builder("resource")
        .add_label("aws_cloudwatch_metric_alarm")
        .add_label(label)
        .add_attribute(("alarm_name", format!("{name}-{}", label.replace('_', "-"))))
        .add_attribute(("namespace", metric.namespace))
        .add_attribute(("metric_name", metric.name))
        .add_attribute(("dimensions", Expression::Object(dimensions)))
        .add_attribute(("statistic", aws::statistic(a.statistic)))
        .add_attribute(("period", period))
        .add_attribute(("evaluation_periods", a.evaluation_periods))
        .add_attribute((
            "datapoints_to_alarm",
            a.datapoints_to_alarm.unwrap_or(a.evaluation_periods),
        ))
        .add_attribute(("threshold", number(a.threshold)))
        .add_attribute(("comparison_operator", aws::comparison(a.comparison)))
        // scalelab counts a period without samples as not breaching; CloudWatch's default is "missing".
        .add_attribute(("treat_missing_data", "notBreaching"))
        .add_attribute(("alarm_actions", Expression::Array(vec![action.into()])))
        .build())
}

fn target_tracking(name: &str, t: &TargetTracking, i: usize) -> Result<Block, ExportError> {
    let field = format!("target_tracking[{i}]");
    if t.period != Duration::from_secs(60) {
        return Err(unsupported(
            format!("{field}.period"),
            "AWS target tracking's alarms use one-minute datapoints",
        ));
    }
    // AWS creates and owns the two alarms; no argument sets their datapoints or scale-in threshold.
    let d = tracking_defaults(t.metric, t.target);
    for (key, default) in [
        (
            "scale_out_datapoints",
            t.scale_out_datapoints == d.scale_out_datapoints,
        ),
        (
            "scale_in_datapoints",
            t.scale_in_datapoints == d.scale_in_datapoints,
        ),
        ("scale_in_below", t.scale_in_below == d.scale_in_below),
    ] {
        if !default {
            return Err(unsupported(
                format!("{field}.{key}"),
                "AWS owns target tracking's alarms (observed: 3 datapoints above the target scale \
                 out, 15 below 0.9 x target scale in); no Terraform argument changes them",
            ));
        }
    }
    let spec = match t.metric {
        Metric::Cpu => predefined("ASGAverageCPUUtilization", false),
        Metric::RequestsPerTarget => predefined("ALBRequestCountPerTarget", true),
        Metric::Memory => customized(aws::MEMORY),
        Metric::InFlightPerTarget => {
            return Err(unsupported(
                format!("{field}.metric"),
                "no CloudWatch metric counts requests in flight per instance",
            ));
        }
    };
    let configuration = Block::builder("target_tracking_configuration")
        .add_block(spec)
        .add_attribute(("target_value", number(t.target)))
        .add_attribute(("disable_scale_in", t.disable_scale_in))
        .build();
    Ok(policy_block(
        name,
        &format!("target_tracking_{i}"),
        "TargetTrackingScaling",
    )
    .add_attribute((
        "estimated_instance_warmup",
        whole_seconds(&format!("{field}.warmup"), t.warmup)?,
    ))
    .add_block(configuration)
    .build())
}

/// A target tracking policy on `metric` with every other setting at the crate's (serde's) default:
/// AWS's observed alarm datapoints and scale-in threshold.
fn tracking_defaults(metric: Metric, target: f64) -> TargetTracking {
    let mut t: TargetTracking = serde_json::from_value(serde_json::json!({ "target": 1 }))
        .expect("a target tracking section with only a target reads");
    t.metric = metric;
    t.target = target;
    t
}

fn predefined(kind: &str, resource_label: bool) -> Block {
    let mut block = Block::builder("predefined_metric_specification")
        .add_attribute(("predefined_metric_type", kind));
    if resource_label {
        block = block.add_attribute(("resource_label", var_ref(RESOURCE_LABEL)));
    }
    block.build()
}

fn customized(metric: CloudWatchMetric) -> Block {
    Block::builder("customized_metric_specification")
        .add_block(
            Block::builder("metric_dimension")
                .add_attribute(("name", "AutoScalingGroupName"))
                .add_attribute(("value", var_ref(GROUP)))
                .build(),
        )
        .add_attribute(("metric_name", metric.name))
        .add_attribute(("namespace", metric.namespace))
        .add_attribute(("statistic", "Average"))
        .build()
}

// ---- reading ----

/// One resource: its type, its label and its body.
struct Resource<'a> {
    kind: &'a str,
    label: &'a str,
    body: &'a Body,
}

/// What the Terraform files say, with `var.NAME` resolved to variables' defaults.
struct Reader<'a> {
    file: &'a str,
    defaults: HashMap<&'a str, &'a Expression>,
    resources: Vec<Resource<'a>>,
}

/// The policy the Terraform `text` (from `file`) describes.
pub fn read(text: &str, file: &str) -> Result<Policy, ImportError> {
    let body: Body = hcl::parse(text).map_err(|e| ImportError::Read {
        file: file.to_owned(),
        message: e.to_string(),
    })?;
    let mut reader = Reader {
        file,
        defaults: HashMap::new(),
        resources: Vec::new(),
    };
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        match (block.identifier(), &labels[..]) {
            ("variable", [name]) => {
                if let Some(default) = block.body().attributes().find(|a| a.key() == "default") {
                    reader.defaults.insert(name, default.expr());
                }
            }
            ("resource", [kind, label]) => reader.resources.push(Resource {
                kind,
                label,
                body: block.body(),
            }),
            _ => {}
        }
    }
    // A resource with `count = 0` is one Terraform does not create: absent, not a policy.
    let mut present = Vec::new();
    for resource in std::mem::take(&mut reader.resources) {
        if reader.created(&resource)? {
            present.push(resource);
        }
    }
    reader.resources = present;
    reader.policy()
}

impl<'a> Reader<'a> {
    fn error(&self, field: impl Into<String>, why: impl Into<String>) -> ImportError {
        ImportError::Unsupported {
            file: self.file.to_owned(),
            field: field.into(),
            why: why.into(),
        }
    }

    /// Whether Terraform creates `r`: its `count` (a number, or a variable's default) is 1 or absent,
    /// not 0; another count would create copies of one policy.
    fn created(&self, r: &Resource) -> Result<bool, ImportError> {
        let field = format!("{}.{}", r.kind, r.label);
        match self.number_in(r.body, "count", &field)? {
            None => Ok(true),
            Some(0.0) => Ok(false),
            Some(1.0) => Ok(true),
            Some(count) => Err(self.error(
                format!("{field}.count"),
                format!("{count}: scalelab reads a resource as one policy or alarm; give 0 or 1"),
            )),
        }
    }

    fn of_kind(&self, kind: &str) -> impl Iterator<Item = &Resource<'a>> {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// An expression with `var.NAME` replaced by the variable's default.
    fn resolve<'e>(
        &'e self,
        expr: &'e Expression,
        field: &str,
    ) -> Result<&'e Expression, ImportError>
    where
        'a: 'e,
    {
        match expr {
            Expression::Traversal(t) => match (&t.expr, &t.operators[..]) {
                (Expression::Variable(v), [TraversalOperator::GetAttr(name)])
                    if v.as_str() == "var" =>
                {
                    self.defaults.get(name.as_str()).copied().ok_or_else(|| {
                        self.error(field, format!("var.{name} has no default to read"))
                    })
                }
                _ => Ok(expr),
            },
            Expression::Parenthesis(inner) => self.resolve(inner, field),
            _ => Ok(expr),
        }
    }

    fn attr<'e>(&'e self, r: &'e Resource<'a>, key: &str) -> Option<&'e Expression> {
        r.body
            .attributes()
            .find(|a| a.key() == key)
            .map(|a| a.expr())
    }

    fn number_in(&self, body: &Body, key: &str, field: &str) -> Result<Option<f64>, ImportError> {
        let Some(expr) = body.attributes().find(|a| a.key() == key).map(|a| a.expr()) else {
            return Ok(None);
        };
        let field = format!("{field}.{key}");
        let value = match self.resolve(expr, &field)? {
            Expression::Number(n) => n.as_f64(),
            Expression::String(s) => s.trim().parse().ok(),
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) if u.operator == UnaryOperator::Neg => {
                    match &u.expr {
                        Expression::Number(n) => n.as_f64().map(|v| -v),
                        _ => None,
                    }
                }
                _ => None,
            },
            _ => None,
        };
        value.filter(|v| v.is_finite()).map(Some).ok_or_else(|| {
            self.error(
                field,
                "must be a number (or a variable with a number default)",
            )
        })
    }

    fn string_in(
        &self,
        body: &Body,
        key: &str,
        field: &str,
    ) -> Result<Option<String>, ImportError> {
        let Some(expr) = body.attributes().find(|a| a.key() == key).map(|a| a.expr()) else {
            return Ok(None);
        };
        let field = format!("{field}.{key}");
        match self.resolve(expr, &field)? {
            Expression::String(s) => Ok(Some(s.clone())),
            _ => Err(self.error(
                field,
                "must be a string (or a variable with a string default)",
            )),
        }
    }

    fn bool_in(&self, body: &Body, key: &str, field: &str) -> Result<Option<bool>, ImportError> {
        let Some(expr) = body.attributes().find(|a| a.key() == key).map(|a| a.expr()) else {
            return Ok(None);
        };
        let field = format!("{field}.{key}");
        match self.resolve(expr, &field)? {
            Expression::Bool(b) => Ok(Some(*b)),
            _ => Err(self.error(field, "must be true or false")),
        }
    }

    fn count_in(&self, body: &Body, key: &str, field: &str) -> Result<Option<u32>, ImportError> {
        match self.number_in(body, key, field)? {
            None => Ok(None),
            Some(v) if v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => {
                Ok(Some(v as u32))
            }
            Some(v) => Err(self.error(
                format!("{field}.{key}"),
                format!("{v} is not a whole number"),
            )),
        }
    }

    fn seconds_in(
        &self,
        body: &Body,
        key: &str,
        field: &str,
    ) -> Result<Option<Duration>, ImportError> {
        Ok(self
            .count_in(body, key, field)?
            .map(|s| Duration::from_secs(u64::from(s))))
    }

    fn policy(&self) -> Result<Policy, ImportError> {
        let policies: Vec<&Resource> = self.of_kind("aws_autoscaling_policy").collect();
        if policies.is_empty() {
            return Err(self.error(
                "aws_autoscaling_policy",
                "no such resource: a Terraform policy needs at least one",
            ));
        }
        let (min, max, initial, scale_in) = self.capacity()?;
        let startup = Duration::from_secs(u64::from(match self.defaults.get(STARTUP) {
            Some(expr) => match expr {
                Expression::Number(n) => n
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        self.error(format!("variable.{STARTUP}"), "must be whole seconds")
                    })?,
                _ => return Err(self.error(format!("variable.{STARTUP}"), "must be a number")),
            },
            None => 0,
        }));
        let mut policy = Policy {
            min,
            max,
            initial,
            startup,
            scale_in,
            simple: None,
            step: None,
            target_tracking: None,
            hpa: None,
            beanstalk: None,
        };
        // Each policy joins its type's list, in the files' order: a group holds any mix.
        let (mut simples, mut steps, mut trackings) = (Vec::new(), Vec::new(), Vec::new());
        for r in &policies {
            let field = format!("aws_autoscaling_policy.{}", r.label);
            match self
                .string_in(r.body, "policy_type", &field)?
                .as_deref()
                .unwrap_or("SimpleScaling")
            {
                "SimpleScaling" => simples.push(self.simple(r)?),
                "StepScaling" => steps.push(self.step(r)?),
                "TargetTrackingScaling" => trackings.push(self.target_tracking(r)?),
                other => {
                    return Err(self.error(
                        format!("{field}.policy_type"),
                        format!(
                            "{other} is not SimpleScaling, StepScaling or TargetTrackingScaling"
                        ),
                    ));
                }
            }
        }
        policy.simple = Some(simples).filter(|l| !l.is_empty());
        policy.step = Some(steps).filter(|l| !l.is_empty());
        policy.target_tracking = Some(trackings).filter(|l| !l.is_empty());
        policy.validate().map_err(|error| ImportError::Policy {
            file: self.file.to_owned(),
            error,
        })?;
        Ok(policy)
    }

    /// min, max, initial and scale-in order: from an `aws_autoscaling_group` resource when there is
    /// one, else from the variables the export writes.
    fn capacity(&self) -> Result<(u32, u32, Option<u32>, ScaleInOrder), ImportError> {
        let groups: Vec<&Resource> = self.of_kind("aws_autoscaling_group").collect();
        let (min, max, desired, termination) = match groups[..] {
            [] => {
                let count = |name: &str| -> Result<Option<u32>, ImportError> {
                    match self.defaults.get(name) {
                        Some(Expression::Number(n)) => n
                            .as_u64()
                            .and_then(|n| u32::try_from(n).ok())
                            .map(Some)
                            .ok_or_else(|| {
                                self.error(format!("variable.{name}"), "must be a whole number")
                            }),
                        Some(_) => Err(self.error(format!("variable.{name}"), "must be a number")),
                        None => Ok(None),
                    }
                };
                let termination = match self.defaults.get("termination_policies") {
                    Some(Expression::Array(items)) => match items.first() {
                        Some(Expression::String(s)) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                };
                (
                    count("min_size")?,
                    count("max_size")?,
                    count("desired_capacity")?,
                    termination,
                )
            }
            [group] => {
                let field = format!("aws_autoscaling_group.{}", group.label);
                let termination = match self.attr(group, "termination_policies") {
                    Some(expr) => match self.resolve(expr, &field)? {
                        Expression::Array(items) => match items.first() {
                            Some(Expression::String(s)) => Some(s.clone()),
                            _ => None,
                        },
                        _ => None,
                    },
                    None => None,
                };
                (
                    self.count_in(group.body, "min_size", &field)?,
                    self.count_in(group.body, "max_size", &field)?,
                    self.count_in(group.body, "desired_capacity", &field)?,
                    termination,
                )
            }
            _ => {
                return Err(self.error(
                    "aws_autoscaling_group",
                    "a scalelab policy is for one group; these files hold several",
                ));
            }
        };
        let max = max.ok_or_else(|| {
            self.error(
                "max_size",
                "neither an aws_autoscaling_group's max_size nor a variable \"max_size\" with a default",
            )
        })?;
        let scale_in = match termination.as_deref() {
            Some("OldestInstance") => ScaleInOrder::Oldest,
            _ => ScaleInOrder::Newest,
        };
        let min = min.unwrap_or(1);
        // Starting at min is the default: written out or not, it is the same policy.
        Ok((min, max, desired.filter(|d| *d != min), scale_in))
    }

    /// The one alarm whose `alarm_actions` name this policy.
    fn alarm_for(&self, policy: &Resource) -> Result<AlarmConfig, ImportError> {
        let wanted = format!("aws_autoscaling_policy.{}.arn", policy.label);
        let mut found = Vec::new();
        for r in self.of_kind("aws_cloudwatch_metric_alarm") {
            if let Some(Expression::Array(actions)) = self.attr(r, "alarm_actions") {
                let names: Vec<String> = actions
                    .iter()
                    .filter_map(|a| hcl::format::to_string(a).ok())
                    .collect();
                if names.iter().any(|n| n.trim() == wanted) {
                    found.push(r);
                }
            }
        }
        let [alarm] = found[..] else {
            return Err(self.error(
                format!("aws_autoscaling_policy.{}", policy.label),
                format!(
                    "needs exactly one aws_cloudwatch_metric_alarm with {wanted} in its alarm_actions; found {}",
                    found.len()
                ),
            ));
        };
        let field = format!("aws_cloudwatch_metric_alarm.{}", alarm.label);
        if alarm
            .body
            .blocks()
            .any(|b| b.identifier() == "metric_query")
        {
            return Err(self.error(
                format!("{field}.metric_query"),
                "metric math alarms are not simulated; give namespace, metric_name and statistic",
            ));
        }
        let namespace = self
            .string_in(alarm.body, "namespace", &field)?
            .unwrap_or_default();
        let name = self
            .string_in(alarm.body, "metric_name", &field)?
            .unwrap_or_default();
        let metric = aws::metric_of(&namespace, &name).ok_or_else(|| {
            self.error(
                format!("{field}.metric_name"),
                format!(
                    "{namespace} {name} is not a metric scalelab measures (AWS/EC2 CPUUtilization, \
                     CWAgent mem_used_percent)"
                ),
            )
        })?;
        let statistic_text = self
            .string_in(alarm.body, "statistic", &field)?
            .ok_or_else(|| {
                self.error(
                    format!("{field}.statistic"),
                    "missing (extended statistics are not simulated)",
                )
            })?;
        let statistic = aws::parse_statistic(&statistic_text).ok_or_else(|| {
            self.error(
                format!("{field}.statistic"),
                format!("{statistic_text}: scalelab folds periods by Average, Maximum or Minimum"),
            )
        })?;
        let comparison_text = self
            .string_in(alarm.body, "comparison_operator", &field)?
            .unwrap_or_default();
        let comparison = aws::parse_comparison(&comparison_text).ok_or_else(|| {
            self.error(
                format!("{field}.comparison_operator"),
                format!("'{comparison_text}' is not one of the four threshold comparisons"),
            )
        })?;
        let threshold = self
            .number_in(alarm.body, "threshold", &field)?
            .ok_or_else(|| self.error(format!("{field}.threshold"), "missing"))?;
        let period = self
            .seconds_in(alarm.body, "period", &field)?
            .ok_or_else(|| self.error(format!("{field}.period"), "missing"))?;
        let evaluation_periods = self
            .count_in(alarm.body, "evaluation_periods", &field)?
            .ok_or_else(|| self.error(format!("{field}.evaluation_periods"), "missing"))?;
        let datapoints = self.count_in(alarm.body, "datapoints_to_alarm", &field)?;
        Ok(AlarmConfig {
            metric,
            statistic,
            threshold,
            comparison,
            period,
            evaluation_periods,
            // All of the evaluated datapoints is the default: written out or not, it is the same alarm.
            datapoints_to_alarm: datapoints.filter(|d| *d != evaluation_periods),
        })
    }

    fn adjustment_type(&self, r: &Resource, field: &str) -> Result<AdjustmentType, ImportError> {
        match self.string_in(r.body, "adjustment_type", field)? {
            None => Ok(AdjustmentType::ChangeInCapacity),
            Some(text) => aws::parse_adjustment_type(&text).ok_or_else(|| {
                self.error(
                    format!("{field}.adjustment_type"),
                    format!(
                        "'{text}' is not ChangeInCapacity, ExactCapacity or PercentChangeInCapacity"
                    ),
                )
            }),
        }
    }

    fn simple(&self, r: &Resource) -> Result<SimpleScaling, ImportError> {
        let field = format!("aws_autoscaling_policy.{}", r.label);
        Ok(SimpleScaling {
            alarm: self.alarm_for(r)?,
            adjustment_type: self.adjustment_type(r, &field)?,
            adjustment: self
                .number_in(r.body, "scaling_adjustment", &field)?
                .ok_or_else(|| self.error(format!("{field}.scaling_adjustment"), "missing"))?,
            min_adjustment_magnitude: self.count_in(r.body, "min_adjustment_magnitude", &field)?,
            // Without its own cooldown a policy takes the group's default cooldown, 300 s.
            cooldown: self
                .seconds_in(r.body, "cooldown", &field)?
                .unwrap_or(Duration::from_secs(300)),
        })
    }

    fn step(&self, r: &Resource) -> Result<StepScaling, ImportError> {
        let field = format!("aws_autoscaling_policy.{}", r.label);
        let alarm = self.alarm_for(r)?;
        if let Some(aggregation) = self.string_in(r.body, "metric_aggregation_type", &field)?
            && aws::parse_statistic(&aggregation) != Some(alarm.statistic)
        {
            return Err(self.error(
                format!("{field}.metric_aggregation_type"),
                format!(
                    "{aggregation} differs from its alarm's statistic ({}); scalelab reads the alarm's datapoint",
                    aws::statistic(alarm.statistic)
                ),
            ));
        }
        let mut steps = Vec::new();
        for (j, block) in r
            .body
            .blocks()
            .filter(|b| b.identifier() == "step_adjustment")
            .enumerate()
        {
            let at = format!("{field}.step_adjustment[{j}]");
            steps.push(StepAdjustment {
                lower: self.number_in(block.body(), "metric_interval_lower_bound", &at)?,
                upper: self.number_in(block.body(), "metric_interval_upper_bound", &at)?,
                adjustment: self
                    .number_in(block.body(), "scaling_adjustment", &at)?
                    .ok_or_else(|| self.error(format!("{at}.scaling_adjustment"), "missing"))?,
            });
        }
        Ok(StepScaling {
            alarm,
            adjustment_type: self.adjustment_type(r, &field)?,
            steps,
            min_adjustment_magnitude: self.count_in(r.body, "min_adjustment_magnitude", &field)?,
            // Without a warm-up AWS falls back on the group's default cooldown, 300 s.
            warmup: self
                .seconds_in(r.body, "estimated_instance_warmup", &field)?
                .unwrap_or(Duration::from_secs(300)),
        })
    }

    fn target_tracking(&self, r: &Resource) -> Result<TargetTracking, ImportError> {
        let field = format!("aws_autoscaling_policy.{}", r.label);
        let at = format!("{field}.target_tracking_configuration");
        let config = r
            .body
            .blocks()
            .find(|b| b.identifier() == "target_tracking_configuration")
            .ok_or_else(|| self.error(&at, "missing"))?
            .body();
        let metric = if let Some(spec) = config
            .blocks()
            .find(|b| b.identifier() == "predefined_metric_specification")
        {
            let spec_field = format!("{at}.predefined_metric_specification");
            match self
                .string_in(spec.body(), "predefined_metric_type", &spec_field)?
                .as_deref()
            {
                Some("ASGAverageCPUUtilization") => Metric::Cpu,
                Some("ALBRequestCountPerTarget") => Metric::RequestsPerTarget,
                other => {
                    return Err(self.error(
                        format!("{spec_field}.predefined_metric_type"),
                        format!(
                            "{other:?}: scalelab measures ASGAverageCPUUtilization and ALBRequestCountPerTarget"
                        ),
                    ));
                }
            }
        } else if let Some(spec) = config
            .blocks()
            .find(|b| b.identifier() == "customized_metric_specification")
        {
            let spec_field = format!("{at}.customized_metric_specification");
            let namespace = self
                .string_in(spec.body(), "namespace", &spec_field)?
                .unwrap_or_default();
            let name = self
                .string_in(spec.body(), "metric_name", &spec_field)?
                .unwrap_or_default();
            aws::metric_of(&namespace, &name).ok_or_else(|| {
                self.error(
                    format!("{spec_field}.metric_name"),
                    format!("{namespace} {name} is not a metric scalelab measures"),
                )
            })?
        } else {
            return Err(self.error(
                &at,
                "needs a predefined_metric_specification or a customized_metric_specification",
            ));
        };
        let target = self
            .number_in(config, "target_value", &at)?
            .ok_or_else(|| self.error(format!("{at}.target_value"), "missing"))?;
        // The alarms' period, datapoints and scale-in threshold are AWS's: the defaults.
        Ok(TargetTracking {
            warmup: self
                .seconds_in(r.body, "estimated_instance_warmup", &field)?
                .unwrap_or(Duration::from_secs(300)),
            disable_scale_in: self
                .bool_in(config, "disable_scale_in", &at)?
                .unwrap_or(false),
            ..tracking_defaults(metric, target)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ExportOptions {
        ExportOptions { name: "api".into() }
    }

    /// Step scaling with an open-ended step on each side: the absent bounds are left out.
    const STEP: &str = "max: 8\nstep:\n  - alarm: {threshold: 60, comparison: greater_than, period: 1m}\n    \
        steps: [{lower: 0, upper: 10, adjustment: 1}, {lower: 10, adjustment: 3}]\n  \
        - alarm: {threshold: 30, comparison: less_than, period: 1m}\n    \
        steps: [{upper: 0, adjustment: -1}]\n";

    #[test]
    fn export_omits_absent_bounds_and_reads_back() {
        let policy = Policy::from_yaml(STEP).unwrap();
        let text = write(&policy, &options()).unwrap();
        assert!(!text.contains("null") && !text.contains("NaN"), "{text}");
        assert_eq!(
            text.matches("metric_interval_lower_bound").count(),
            2,
            "{text}"
        );
        assert_eq!(
            text.matches("metric_interval_upper_bound").count(),
            2,
            "{text}"
        );
        assert_eq!(read(&text, "step.tf").unwrap(), policy);
    }

    #[test]
    fn a_policy_with_a_nan_threshold_is_not_written() {
        let mut policy = Policy::from_yaml(STEP).unwrap();
        policy.step.as_mut().unwrap()[1].alarm.threshold = f64::NAN;
        let error = crate::export(&policy, Format::Terraform, &options())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("step[1].alarm.threshold must be a finite number, not NaN"),
            "{error}"
        );
    }

    #[test]
    fn resources_with_count_0_are_absent() {
        let policy = Policy::from_yaml(STEP).unwrap();
        let text = write(&policy, &options()).unwrap();
        // Switch the scale-in policy and its alarm off, one literally and one through a variable.
        let off =
            text.replacen(
                "resource \"aws_autoscaling_policy\" \"step_1\" {",
                "resource \"aws_autoscaling_policy\" \"step_1\" {\n  count = 0",
                1,
            )
            .replacen(
                "resource \"aws_cloudwatch_metric_alarm\" \"step_1\" {",
                "resource \"aws_cloudwatch_metric_alarm\" \"step_1\" {\n  count = var.scale_in",
                1,
            ) + "variable \"scale_in\" {\n  default = 0\n}\n";
        let read_back = read(&off, "off.tf").unwrap();
        assert_eq!(read_back.step.as_ref().map(Vec::len), Some(1), "{off}");
        assert_eq!(read_back.step.unwrap()[0], policy.step.unwrap()[0]);
        let on = off
            .replace("default = 0", "default = 1")
            .replacen("count = 0", "count = 1", 1);
        assert_eq!(read(&on, "on.tf").unwrap().step.map(|s| s.len()), Some(2));
        let copies = off.replacen("count = 0", "count = 2", 1);
        let error = read(&copies, "copies.tf").unwrap_err().to_string();
        assert!(
            error.contains("copies.tf: aws_autoscaling_policy.step_1.count: 2:"),
            "{error}"
        );
        // With every policy off, there is no policy to read.
        let none = off.replacen(
            "resource \"aws_autoscaling_policy\" \"step_0\" {",
            "resource \"aws_autoscaling_policy\" \"step_0\" {\n  count = 0",
            1,
        );
        let error = read(&none, "none.tf").unwrap_err().to_string();
        assert!(error.contains("no such resource"), "{error}");
    }

    #[test]
    fn import_refuses_what_is_not_a_number_naming_the_field() {
        let written = write(&Policy::from_yaml(STEP).unwrap(), &options()).unwrap();
        let mut replaced = false;
        let text: String = written
            .lines()
            .map(|line| {
                if !replaced && line.trim_start().starts_with("threshold ") {
                    replaced = true;
                    "  threshold = \"high\"\n".to_owned()
                } else {
                    format!("{line}\n")
                }
            })
            .collect();
        let error = read(&text, "bad.tf").unwrap_err().to_string();
        assert!(
            error
                .contains("bad.tf: aws_cloudwatch_metric_alarm.step_0.threshold: must be a number"),
            "{error}\n{text}"
        );
    }
}
