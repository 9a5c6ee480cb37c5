//! Export then import gives the same policy, for every rule and adjustment type; real-world-style
//! manifests and Terraform import to the values they state; what a format cannot express is refused,
//! naming the field.

use std::path::Path;
use std::time::Duration;

use scalelab_capacity::{LinearCapacity, ScaleInOrder};
use scalelab_policy_io::{
    ExportError, ExportOptions, Format, export, load_policy, read_terraform, read_yaml,
};
use scalelab_scaling::{
    AdjustmentType, Comparison, HpaPolicy, HpaPolicyKind, Metric, Policy, SimConfig, Statistic,
    simulate,
};

fn policy(yaml: &str) -> Policy {
    Policy::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn options() -> ExportOptions {
    ExportOptions { name: "api".into() }
}

fn terraform_round_trip(original: &Policy) -> Policy {
    let text = export(original, Format::Terraform, &options()).unwrap();
    read_terraform(&text, "exported.tf").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn hpa_round_trip(original: &Policy) -> Policy {
    let text = export(original, Format::Hpa, &options()).unwrap();
    read_yaml(&text, "exported.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn simple_scaling_round_trips_with_every_adjustment_type() {
    for (kind, adjustment, magnitude) in [
        ("change_in_capacity", "2", ""),
        ("exact_capacity", "6", ""),
        (
            "percent_change_in_capacity",
            "25",
            "min_adjustment_magnitude: 2",
        ),
    ] {
        let original = policy(&format!(
            "min: 2\nmax: 12\ninitial: 3\nstartup: 3m\nscale_in: oldest\nsimple:\n\
             - alarm: {{metric: cpu, statistic: maximum, threshold: 62.5, comparison: greater_than_or_equal, period: 2m, evaluation_periods: 3, datapoints_to_alarm: 2}}\n\
             \x20 adjustment_type: {kind}\n  adjustment: {adjustment}\n  {magnitude}\n  cooldown: 4m\n\
             - alarm: {{metric: memory, statistic: minimum, threshold: 20, comparison: less_than, period: 1m, evaluation_periods: 5}}\n\
             \x20 adjustment: -1\n  cooldown: 90s\n"
        ));
        assert_eq!(terraform_round_trip(&original), original, "{kind}");
    }
}

#[test]
fn step_scaling_round_trips_with_every_adjustment_type() {
    for (kind, magnitude) in [
        ("change_in_capacity", ""),
        ("exact_capacity", ""),
        ("percent_change_in_capacity", "min_adjustment_magnitude: 1"),
    ] {
        let original = policy(&format!(
            "max: 20\nstartup: 2m\nstep:\n\
             - alarm: {{metric: cpu, threshold: 60, comparison: greater_than_or_equal, evaluation_periods: 2}}\n\
             \x20 adjustment_type: {kind}\n  {magnitude}\n  warmup: 150s\n\
             \x20 steps: [{{lower: 0, upper: 10.5, adjustment: 2}}, {{lower: 10.5, adjustment: 8}}]\n\
             - alarm: {{metric: cpu, threshold: 30, comparison: less_than}}\n\
             \x20 steps: [{{lower: -10, upper: 0, adjustment: -1}}, {{upper: -10, adjustment: -2}}]\n"
        ));
        assert_eq!(terraform_round_trip(&original), original, "{kind}");
    }
}

#[test]
fn target_tracking_round_trips_on_predefined_and_customized_metrics() {
    for (metric, disable) in [
        ("cpu", false),
        ("requests_per_target", true),
        ("memory", false),
    ] {
        let original = policy(&format!(
            "min: 1\nmax: 8\ninitial: 2\nstartup: 4m\ntarget_tracking: {{metric: {metric}, target: 47.5, warmup: 200s, disable_scale_in: {disable}}}\n"
        ));
        let text = export(&original, Format::Terraform, &options()).unwrap();
        let expected = match metric {
            "cpu" => "predefined_metric_type = \"ASGAverageCPUUtilization\"",
            "requests_per_target" => "resource_label = var.alb_resource_label",
            _ => "namespace = \"CWAgent\"",
        };
        assert!(text.contains(expected), "{text}");
        assert_eq!(terraform_round_trip(&original), original, "{metric}");
    }
}

#[test]
fn aws_policies_of_every_type_on_one_group_round_trip() {
    let original = policy(
        "min: 2\nmax: 20\nstartup: 2m\nsimple:\n\
         - alarm: {threshold: 90, comparison: greater_than, evaluation_periods: 2}\n  adjustment_type: exact_capacity\n  adjustment: 12\n\
         step:\n\
         - alarm: {threshold: 30, comparison: less_than}\n\
         \x20 steps: [{lower: -10, upper: 0, adjustment: -1}, {upper: -10, adjustment: -2}]\n\
         target_tracking:\n  - {target: 50}\n  - {metric: requests_per_target, target: 800, disable_scale_in: true}\n",
    );
    let text = export(&original, Format::Terraform, &options()).unwrap();
    // Each policy is its own resource; the two simple and step alarms are written, target
    // tracking's are AWS's.
    for label in [
        "simple_0",
        "step_0",
        "target_tracking_0",
        "target_tracking_1",
    ] {
        assert!(
            text.contains(&format!("resource \"aws_autoscaling_policy\" \"{label}\"")),
            "{label}\n{text}"
        );
    }
    assert_eq!(
        text.matches("aws_cloudwatch_metric_alarm").count(),
        2,
        "{text}"
    );
    assert_eq!(terraform_round_trip(&original), original);
}

#[test]
fn hpa_round_trips_with_default_and_own_behavior() {
    for yaml in [
        "max: 10\nhpa: {target: 60}\n",
        "min: 2\nmax: 15\ninitial: 4\nstartup: 45s\nscale_in: oldest\nhpa:\n  metric: memory\n  target: 75\n  behavior:\n\
         \x20   scale_up: {stabilization_window: 30s, select_policy: min, policies: [{type: pods, value: 2, period: 60s}]}\n\
         \x20   scale_down: {select_policy: disabled}\n",
        "max: 6\nhpa: {metric: requests_per_target, target: 12.25}\n",
        "max: 6\nhpa: {target: 60, behavior: {}}\n",
        "max: 9\nhpa:\n  metrics: [{metric: cpu, target: 55}, {metric: memory, target: 80}, {metric: in_flight_per_target, target: 0.75}]\n",
        "max: 9\nhpa:\n  target: 50\n  behavior:\n\
         \x20   scale_up: {tolerance: 0.05}\n    scale_down: {tolerance: 0.1, stabilization_window: 10m}\n",
    ] {
        let original = policy(yaml);
        assert_eq!(hpa_round_trip(&original), original, "{yaml}");
    }
}

#[test]
fn hpa_without_behavior_is_written_without_behavior() {
    // Kubernetes does not default a missing behavior: the controller then applies its legacy rules,
    // so writing the defaults out would change the policy.
    let text = export(
        &policy("max: 10\nhpa: {target: 60}\n"),
        Format::Hpa,
        &options(),
    )
    .unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert!(doc["spec"].get("behavior").is_none(), "{text}");
    assert_eq!(
        doc["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        60
    );
}

#[test]
fn hpa_writes_kubernetes_defaults_explicitly() {
    let text = export(
        &policy("max: 10\nhpa: {target: 60, behavior: {}}\n"),
        Format::Hpa,
        &options(),
    )
    .unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let behavior = &doc["spec"]["behavior"];
    // pkg/apis/autoscaling/v2/defaults.go: up 0 s, Max of 4 pods / 100 % per 15 s; down 300 s, 100 % per 15 s.
    assert_eq!(behavior["scaleUp"]["stabilizationWindowSeconds"], 0);
    assert_eq!(behavior["scaleUp"]["selectPolicy"], "Max");
    assert_eq!(
        behavior["scaleUp"]["policies"],
        serde_json::json!([{"type": "Pods", "value": 4, "periodSeconds": 15}, {"type": "Percent", "value": 100, "periodSeconds": 15}])
    );
    assert_eq!(behavior["scaleDown"]["stabilizationWindowSeconds"], 300);
    assert_eq!(
        behavior["scaleDown"]["policies"],
        serde_json::json!([{"type": "Percent", "value": 100, "periodSeconds": 15}])
    );
    assert_eq!(doc["spec"]["minReplicas"], 1);
    assert_eq!(doc["spec"]["scaleTargetRef"]["name"], "api");
    assert_eq!(
        doc["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        60
    );
}

#[test]
fn terraform_alarm_states_every_argument() {
    let original = policy(
        "max: 4\nsimple:\n- alarm: {threshold: 60, comparison: greater_than, period: 5m, evaluation_periods: 3, datapoints_to_alarm: 2}\n  adjustment: 2\n",
    );
    let text = export(&original, Format::Terraform, &options()).unwrap();
    let body: hcl::Body = hcl::from_str(&text).unwrap();
    let alarm = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource" && b.labels()[0].as_str() == "aws_cloudwatch_metric_alarm"
        })
        .unwrap();
    let value = |key: &str| {
        let expr = alarm.body().attributes().find(|a| a.key() == key).unwrap();
        hcl::format::to_string(expr.expr()).unwrap()
    };
    assert_eq!(value("namespace"), "\"AWS/EC2\"");
    assert_eq!(value("metric_name"), "\"CPUUtilization\"");
    assert_eq!(value("statistic"), "\"Average\"");
    assert_eq!(value("period"), "300");
    assert_eq!(value("evaluation_periods"), "3");
    assert_eq!(value("datapoints_to_alarm"), "2");
    assert_eq!(value("threshold"), "60");
    assert_eq!(value("comparison_operator"), "\"GreaterThanThreshold\"");
    // scalelab's missing periods do not breach; CloudWatch's default would be "missing".
    assert_eq!(value("treat_missing_data"), "\"notBreaching\"");
    assert!(value("alarm_actions").contains("aws_autoscaling_policy.simple_0.arn"));
    // The policy's cooldown defaults to 300 s and is written even so.
    assert!(text.contains("cooldown = 300"), "{text}");
}

#[test]
fn beanstalk_settings_state_every_option() {
    let original = policy(include_str!("../../../examples/beanstalk-policy.yaml"));
    let text = export(&original, Format::Beanstalk, &options()).unwrap();
    let doc: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let settings = doc["option_settings"].as_array().unwrap();
    let option = |namespace: &str, name: &str| {
        settings
            .iter()
            .find(|s| s["namespace"] == namespace && s["option_name"] == name)
            .unwrap_or_else(|| panic!("{namespace} {name}"))["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let asg = |name| option("aws:autoscaling:asg", name);
    let trigger = |name| option("aws:autoscaling:trigger", name);
    assert_eq!(
        (asg("MinSize"), asg("MaxSize"), asg("Cooldown")),
        ("1".into(), "10".into(), "0".into())
    );
    assert_eq!(trigger("MeasureName"), "CPUUtilization");
    assert_eq!(trigger("Unit"), "Percent");
    // 1-minute period and breach duration: BreachDuration = Period x EvaluationPeriods = 1 x 1.
    assert_eq!(
        (
            trigger("Period"),
            trigger("EvaluationPeriods"),
            trigger("BreachDuration")
        ),
        ("1".into(), "1".into(), "1".into())
    );
    assert_eq!(
        (
            trigger("UpperThreshold"),
            trigger("UpperBreachScaleIncrement")
        ),
        ("25".into(), "1".into())
    );
    assert_eq!(
        (
            trigger("LowerThreshold"),
            trigger("LowerBreachScaleIncrement")
        ),
        ("15".into(), "-1".into())
    );
    assert_eq!(settings.len(), 13);
}

#[test]
fn beanstalk_as_terraform_scales_exactly_like_the_triggers() {
    // The worked example of docs/sim.md, simulated as Beanstalk triggers and as the two simple
    // scaling policies the Terraform export writes: the same replicas at every step.
    let original = policy(include_str!("../../../examples/beanstalk-policy.yaml"));
    let imported = terraform_round_trip(&original);
    assert!(imported.simple.as_ref().is_some_and(|s| s.len() == 2));
    let shape =
        scalelab_shape::parse_inline_stages("10m:30000,8m:150000,30m:150000", 30000.0).unwrap();
    let model = LinearCapacity::new(0.0008967, 0.0).unwrap();
    let config = SimConfig {
        step: Duration::from_secs(60),
        per: Duration::from_secs(60),
        cpu_limit: 50.0,
        usd_per_hour: None,
        credits: None,
        record_timeline: true,
    };
    let replicas = |p: &Policy| {
        let result = simulate(&shape, &model, p, &config).unwrap();
        result
            .timeline
            .iter()
            .map(|r| (r.in_service, r.pending, r.desired))
            .collect::<Vec<_>>()
    };
    let triggers = replicas(&original);
    assert!(
        triggers.iter().any(|(s, _, _)| *s > 1),
        "the example scales"
    );
    assert_eq!(replicas(&imported), triggers);
}

#[test]
fn what_a_format_cannot_express_is_refused_naming_the_field() {
    let cases = [
        (
            "max: 5\nsimple:\n- alarm: {threshold: 60, comparison: greater_than, period: 5s}\n  adjustment: 1\n",
            Format::Terraform,
            "simple[0].alarm.period",
        ),
        (
            "max: 5\nsimple:\n- alarm: {threshold: 60, comparison: greater_than}\n  adjustment: 1.5\n",
            Format::Terraform,
            "simple[0].adjustment",
        ),
        (
            "max: 5\nsimple:\n- alarm: {metric: requests_per_target, threshold: 60, comparison: greater_than}\n  adjustment: 1\n",
            Format::Terraform,
            "simple[0].alarm.metric",
        ),
        (
            "max: 5\ntarget_tracking: {target: 50, period: 10s}\n",
            Format::Terraform,
            "target_tracking[0].period",
        ),
        (
            "max: 5\ntarget_tracking: [{target: 50}, {target: 60, scale_out_datapoints: 2}]\n",
            Format::Terraform,
            "target_tracking[1].scale_out_datapoints",
        ),
        (
            "max: 5\ntarget_tracking: {target: 50, scale_in_datapoints: 5}\n",
            Format::Terraform,
            "target_tracking[0].scale_in_datapoints",
        ),
        (
            "max: 5\ntarget_tracking: {target: 50, scale_in_below: 0.8}\n",
            Format::Terraform,
            "target_tracking[0].scale_in_below",
        ),
        (
            "max: 5\nhpa: {target: 50, downscale_stabilization: 1m}\n",
            Format::Hpa,
            "hpa.downscale_stabilization",
        ),
        (
            "max: 5\nhpa: {target: 50, cpu_initialization_period: 1m}\n",
            Format::Hpa,
            "hpa.cpu_initialization_period",
        ),
        (
            "max: 5\nhpa: {target: 50, initial_readiness_delay: 10s}\n",
            Format::Hpa,
            "hpa.initial_readiness_delay",
        ),
        (
            "max: 5\nhpa:\n  metrics: [{metric: cpu, target: 50}, {metric: requests_per_target, target: 0.0015}]\n",
            Format::Hpa,
            "hpa.metrics[1].target",
        ),
        (
            "max: 5\nhpa: {target: 50, behavior: {scale_down: {tolerance: 0.0001}}}\n",
            Format::Hpa,
            "hpa.behavior.scale_down.tolerance",
        ),
        (
            "max: 5\nsimple:\n- alarm: {threshold: 60, comparison: greater_than}\n  adjustment: 1\ntarget_tracking: {target: 50}\n",
            Format::Beanstalk,
            "simple, target_tracking",
        ),
        ("max: 5\nhpa: {target: 50}\n", Format::Terraform, "hpa"),
        (
            "max: 5\nhpa: {target: 50, tolerance: 0.05}\n",
            Format::Hpa,
            "hpa.tolerance",
        ),
        (
            "max: 5\nhpa: {target: 50, sync_period: 30s}\n",
            Format::Hpa,
            "hpa.sync_period",
        ),
        (
            "max: 5\ntarget_tracking: {target: 50}\n",
            Format::Hpa,
            "target_tracking",
        ),
        (
            "max: 5\nbeanstalk: {upper_threshold: 60, lower_threshold: 20, period: 90s, breach_duration: 3m}\n",
            Format::Beanstalk,
            "beanstalk.period",
        ),
        (
            "max: 5\nbeanstalk: {metric: memory, upper_threshold: 60, lower_threshold: 20}\n",
            Format::Beanstalk,
            "beanstalk.metric",
        ),
        (
            "max: 5\ninitial: 2\nbeanstalk: {upper_threshold: 60, lower_threshold: 20}\n",
            Format::Beanstalk,
            "initial",
        ),
    ];
    // A policy built in code is checked as one read from a file (here AWS's rule that steps leave
    // no gap).
    let mut gap = policy(
        "max: 5\nstep:\n- alarm: {threshold: 60, comparison: greater_than}\n  steps: [{lower: 0, upper: 10, adjustment: 1}, {lower: 10, adjustment: 2}]\n",
    );
    gap.step.as_mut().unwrap()[0].steps[1].lower = Some(20.0);
    match export(&gap, Format::Terraform, &options()) {
        Err(ExportError::Unsupported { field, why, .. }) => {
            assert_eq!(field, "policy");
            assert!(why.contains("step[0].steps"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    for (yaml, format, field) in cases {
        match export(&policy(yaml), format, &options()) {
            Err(ExportError::Unsupported {
                field: named, why, ..
            }) => {
                assert_eq!(named, field, "{yaml}");
                assert!(!why.is_empty());
            }
            other => panic!("{yaml} as {format}: {other:?}"),
        }
    }
}

#[test]
fn a_real_world_style_hpa_with_its_deployment_imports() {
    let p = load_policy(&fixture("web-hpa.yaml")).unwrap();
    assert_eq!(
        (p.min, p.max, p.initial, p.startup),
        (3, 30, None, Duration::ZERO)
    );
    let hpa = p.hpa.unwrap();
    assert_eq!((hpa.metric, hpa.target), (Metric::Cpu, Some(70.0)));
    let behavior = hpa.behavior.expect("the manifest has a behavior");
    assert_eq!(behavior.scale_up, Default::default());
    let down = behavior.scale_down;
    assert_eq!(down.stabilization_window, Some(Duration::from_secs(600)));
    assert_eq!(down.select_policy, None);
    assert_eq!(
        down.policies,
        Some(vec![HpaPolicy {
            kind: HpaPolicyKind::Pods,
            value: 2,
            period: Duration::from_secs(60)
        }])
    );
}

#[test]
fn an_autoscaling_v1_hpa_and_a_pods_metric_import() {
    let v1 = load_policy(&fixture("legacy-hpa-v1.yaml")).unwrap();
    assert_eq!((v1.min, v1.max), (1, 10));
    assert_eq!(
        v1.hpa.as_ref().map(|h| (h.metric, h.target)),
        Some((Metric::Cpu, Some(50.0)))
    );
    // No behavior in the manifest (none exists in v1): the controller's legacy rules, as imported.
    assert_eq!(v1.hpa.as_ref().map(|h| h.behavior.clone()), Some(None));
    let pods = load_policy(&fixture("queue-hpa.yaml")).unwrap();
    // No minReplicas: Kubernetes' default 1. averageValue 1500m = 1.5.
    assert_eq!((pods.min, pods.max), (1, 8));
    assert_eq!(
        pods.hpa.map(|h| (h.metric, h.target)),
        Some((Metric::InFlightPerTarget, Some(1.5)))
    );
}

#[test]
fn a_terraform_directory_with_a_group_and_variables_imports() {
    let p = load_policy(&fixture("asg-step")).unwrap();
    // min_size 2, max_size = var.max_size (default 12), desired 3, OldestInstance first.
    assert_eq!((p.min, p.max, p.initial), (2, 12, Some(3)));
    assert_eq!(p.scale_in, ScaleInOrder::Oldest);
    let [step] = &p.step.unwrap()[..] else {
        panic!("one step policy")
    };
    assert_eq!(step.alarm.threshold, 65.0);
    assert_eq!(step.alarm.comparison, Comparison::GreaterThanOrEqual);
    assert_eq!(step.alarm.statistic, Statistic::Average);
    assert_eq!(
        (
            step.alarm.evaluation_periods,
            step.alarm.datapoints_to_alarm
        ),
        (3, Some(2))
    );
    assert_eq!(step.adjustment_type, AdjustmentType::ChangeInCapacity);
    assert_eq!(step.warmup, Duration::from_secs(120));
    let steps: Vec<_> = step
        .steps
        .iter()
        .map(|s| (s.lower, s.upper, s.adjustment))
        .collect();
    assert_eq!(
        steps,
        vec![(Some(0.0), Some(15.0), 1.0), (Some(15.0), None, 3.0)]
    );
}

#[test]
fn terraform_target_tracking_on_a_customized_metric_imports() {
    let p = load_policy(&fixture("tracking.tf")).unwrap();
    assert_eq!((p.min, p.max), (1, 6));
    let [t] = &p.target_tracking.unwrap()[..] else {
        panic!("one target tracking policy")
    };
    assert_eq!(
        (t.metric, t.target, t.disable_scale_in),
        (Metric::Memory, 65.5, true)
    );
    // No estimated_instance_warmup: AWS falls back on the group's default cooldown, 300 s.
    assert_eq!(t.warmup, Duration::from_secs(300));
    // AWS's own alarms: one-minute datapoints, 3 above the target, 15 below 0.9 x target.
    assert_eq!(
        (
            t.period,
            t.scale_out_datapoints,
            t.scale_in_datapoints,
            t.scale_in_below
        ),
        (Duration::from_secs(60), 3, 15, 0.9)
    );
}

#[test]
fn import_errors_name_the_file_and_the_field() {
    let missing_alarm = read_terraform(
        "variable \"max_size\" { default = 3 }\nresource \"aws_autoscaling_policy\" \"out\" {\n  scaling_adjustment = 1\n}\n",
        "main.tf",
    )
    .unwrap_err()
    .to_string();
    assert!(
        missing_alarm.contains("main.tf") && missing_alarm.contains("aws_autoscaling_policy.out"),
        "{missing_alarm}"
    );
    let external = read_yaml(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  scaleTargetRef: {kind: Deployment, name: a}\n  maxReplicas: 3\n  metrics:\n  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}\n  - {type: External, external: {metric: {name: queue}, target: {type: Value, value: 10}}}\n",
        "hpa.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        external.contains("hpa.yaml") && external.contains("spec.metrics[1]"),
        "{external}"
    );
    let tolerance = read_yaml(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n  scaleTargetRef: {kind: Deployment, name: a}\n  maxReplicas: 3\n  behavior:\n    scaleUp: {tolerance: lots}\n",
        "hpa.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        tolerance.contains("spec.behavior.scaleUp.tolerance"),
        "{tolerance}"
    );
    let syntax = read_terraform("resource \"x\" {", "broken.tf")
        .unwrap_err()
        .to_string();
    assert!(syntax.contains("broken.tf"), "{syntax}");
}

#[test]
fn a_native_policy_still_loads() {
    let p = load_policy(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/beanstalk-policy.yaml"
    )))
    .unwrap();
    assert_eq!(p.beanstalk.map(|b| b.upper_threshold), Some(25.0));
}

/// Every policy file under `examples/` and the fixtures: native policies (a top-level `max:`), HPA
/// manifests and Terraform (`.tf` files, read as one directory when several share one).
fn example_policies() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut found = Vec::new();
    let mut folders = vec![root.join("examples"), fixture("")];
    while let Some(folder) = folders.pop() {
        let mut tf = 0;
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                tf += 1;
                found.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.lines().any(|l| {
                    l.starts_with("max:") || l.starts_with("kind: HorizontalPodAutoscaler")
                }) {
                    found.push(path);
                }
            }
        }
        // A folder of several .tf files is one Terraform configuration.
        if tf > 1 {
            found.retain(|p| p.parent() != Some(&folder));
            found.push(folder);
        }
    }
    found.sort();
    found
}

#[test]
fn no_example_policy_exports_null_or_nan() {
    let policies = example_policies();
    assert!(policies.len() >= 13, "{policies:?}");
    let mut written = 0;
    for path in &policies {
        let policy = load_policy(path).unwrap_or_else(|e| panic!("{e}"));
        for format in [Format::Terraform, Format::Hpa, Format::Beanstalk] {
            let Ok(text) = export(&policy, format, &options()) else {
                continue;
            };
            written += 1;
            for word in ["null", "NaN", "inf"] {
                assert!(
                    !text
                        .split(|c: char| !c.is_alphanumeric())
                        .any(|w| w == word),
                    "{} as {format}: {word} in\n{text}",
                    path.display()
                );
            }
        }
    }
    assert!(
        written >= policies.len(),
        "{written} exports of {} policies",
        policies.len()
    );
}
