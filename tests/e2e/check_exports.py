"""Checks exported Terraform and Elastic Beanstalk files against what AWS documents.

Terraform: each file must parse with python-hcl2 (an HCL2 parser independent of scalelab's hcl-rs), and
every block type, resource type, argument and nested block must be one the AWS provider documents:
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/autoscaling_policy
  https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudwatch_metric_alarm
  https://developer.hashicorp.com/terraform/language/values/variables (variable blocks)
Enumerated values (policy_type, adjustment_type, comparison_operator, statistic,
metric_aggregation_type, treat_missing_data, predefined_metric_type) are checked against the EC2 Auto
Scaling PutScalingPolicy and CloudWatch PutMetricAlarm API references.

Beanstalk: option_settings namespaces and option names from "General options for all environments"
(https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/command-options-general.html).

Usage: check_exports.py terraform FILE... | beanstalk FILE...   (exit 1 naming every problem)
"""

import sys

import hcl2
import yaml

# Arguments (a name) and nested blocks (a name mapped to its own schema) per the provider docs.
AUTOSCALING_POLICY = {
    "name": None, "autoscaling_group_name": None, "adjustment_type": None, "policy_type": None,
    "estimated_instance_warmup": None, "enabled": None, "min_adjustment_magnitude": None,
    "cooldown": None, "scaling_adjustment": None, "metric_aggregation_type": None,
    "predictive_scaling_configuration": None,
    "step_adjustment": {
        "scaling_adjustment": None, "metric_interval_lower_bound": None,
        "metric_interval_upper_bound": None,
    },
    "target_tracking_configuration": {
        "target_value": None, "disable_scale_in": None,
        "predefined_metric_specification": {"predefined_metric_type": None, "resource_label": None},
        "customized_metric_specification": {
            "metric_name": None, "namespace": None, "statistic": None, "unit": None,
            "metric_dimension": {"name": None, "value": None}, "metrics": None,
        },
    },
}
METRIC_ALARM = {
    name: None for name in [
        "alarm_name", "comparison_operator", "evaluation_periods", "metric_name", "namespace",
        "period", "statistic", "threshold", "threshold_metric_id", "actions_enabled",
        "alarm_actions", "alarm_description", "datapoints_to_alarm", "dimensions",
        "insufficient_data_actions", "ok_actions", "unit", "extended_statistic",
        "treat_missing_data", "evaluate_low_sample_count_percentiles", "metric_query", "tags",
    ]
}
RESOURCES = {"aws_autoscaling_policy": AUTOSCALING_POLICY, "aws_cloudwatch_metric_alarm": METRIC_ALARM}
VARIABLE = {n: None for n in ["type", "default", "description", "validation", "sensitive", "nullable", "ephemeral"]}
ENUMS = {
    "policy_type": {"SimpleScaling", "StepScaling", "TargetTrackingScaling", "PredictiveScaling"},
    "adjustment_type": {"ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"},
    "metric_aggregation_type": {"Minimum", "Maximum", "Average"},
    "comparison_operator": {
        "GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold",
        "LessThanOrEqualToThreshold",
    },
    "statistic": {"SampleCount", "Average", "Sum", "Minimum", "Maximum"},
    "treat_missing_data": {"missing", "ignore", "breaching", "notBreaching"},
    "predefined_metric_type": {
        "ASGAverageCPUUtilization", "ASGAverageNetworkIn", "ASGAverageNetworkOut",
        "ALBRequestCountPerTarget",
    },
}
REQUIRED = {
    "aws_autoscaling_policy": ["name", "autoscaling_group_name"],
    "aws_cloudwatch_metric_alarm": ["alarm_name", "comparison_operator", "evaluation_periods"],
}


def unquote(value):
    return value[1:-1] if isinstance(value, str) and value.startswith('"') and value.endswith('"') else value


def check_body(body, schema, where, problems):
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key not in schema:
            problems.append(f"{where}: `{key}` is not an argument the AWS provider documents here")
            continue
        if key in ENUMS and unquote(value) not in ENUMS[key]:
            problems.append(f"{where}.{key}: {value} is not one of {sorted(ENUMS[key])}")
        nested = schema[key]
        if isinstance(nested, dict):
            for i, block in enumerate(value if isinstance(value, list) else [value]):
                check_body(block, nested, f"{where}.{key}[{i}]", problems)


def check_terraform(path, problems):
    with open(path) as f:
        document = hcl2.load(f)
    resources = 0
    for kind, blocks in document.items():
        if kind.startswith("__"):  # python-hcl2's own keys, e.g. __comments__
            continue
        for block in blocks:
            if kind == "variable":
                for name, body in block.items():
                    check_body(body, VARIABLE, f"{path}: variable {name}", problems)
            elif kind == "resource":
                for rtype, labelled in block.items():
                    rtype = unquote(rtype)
                    if rtype not in RESOURCES:
                        problems.append(f"{path}: resource type {rtype} is not expected in an export")
                        continue
                    for label, body in labelled.items():
                        resources += 1
                        where = f"{path}: {rtype}.{unquote(label)}"
                        check_body(body, RESOURCES[rtype], where, problems)
                        for key in REQUIRED[rtype]:
                            if key not in body:
                                problems.append(f"{where}: required `{key}` is missing")
            else:
                problems.append(f"{path}: top-level block `{kind}` is not expected in an export")
    if resources == 0:
        problems.append(f"{path}: no resources")


BEANSTALK = {
    "aws:autoscaling:asg": {"Availability Zones", "Cooldown", "Custom Availability Zones", "EnableCapacityRebalancing", "MinSize", "MaxSize"},
    "aws:autoscaling:trigger": {
        "BreachDuration", "LowerBreachScaleIncrement", "LowerThreshold", "MeasureName", "Period",
        "EvaluationPeriods", "Statistic", "Unit", "UpperBreachScaleIncrement", "UpperThreshold",
    },
}


def check_beanstalk(path, problems):
    with open(path) as f:
        document = yaml.safe_load(f)
    settings = document.get("option_settings") if isinstance(document, dict) else None
    if not settings:
        problems.append(f"{path}: no option_settings")
        return
    for i, s in enumerate(settings):
        namespace, name = s.get("namespace"), s.get("option_name")
        if name not in BEANSTALK.get(namespace, ()):
            problems.append(f"{path}: option_settings[{i}]: {namespace} {name} is not a documented option")
        if not isinstance(s.get("value"), str):
            problems.append(f"{path}: option_settings[{i}].value must be a string")


def main():
    kind, paths = sys.argv[1], sys.argv[2:]
    check = {"terraform": check_terraform, "beanstalk": check_beanstalk}[kind]
    problems = []
    for path in paths:
        try:
            check(path, problems)
        except Exception as error:  # a parse error is a failed check, named with its file
            problems.append(f"{path}: {type(error).__name__}: {error}")
    for problem in problems:
        print(problem, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
