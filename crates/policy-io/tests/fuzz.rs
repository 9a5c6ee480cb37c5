//! Policies on damaged and hostile input, in each form they are read: native YAML, Kubernetes HPA
//! manifests and Terraform. Each is a policy or an error, never a panic; a policy read holds only
//! finite numbers within the bounds and exports without null or NaN; memory stays bounded. Bounded in
//! time: a fixed number of cases, each a small text.

use proptest::prelude::*;
use scalelab_capacity::MAX_INSTANCES;
use scalelab_policy_io::{ExportOptions, Format, export, read_terraform, read_yaml};
use scalelab_scaling::Policy;

const NATIVE: &str = include_str!("../../../examples/aws-mixed-policy.yaml");
const BEANSTALK: &str = include_str!("../../../examples/beanstalk-policy.yaml");
const HPA: &str = include_str!("fixtures/web-hpa.yaml");
const TERRAFORM: &str = include_str!("fixtures/tracking.tf");
const STEP_TERRAFORM: &str = include_str!("fixtures/asg-step/main.tf");

/// Words and numbers that make interesting YAML or HCL when spliced into a valid file.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\n".to_owned()),
        Just(": ".to_owned()),
        Just(" = ".to_owned()),
        Just("- ".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("]".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just(".nan".to_owned()),
        Just(".inf".to_owned()),
        Just("-.inf".to_owned()),
        Just("NaN".to_owned()),
        Just("1e300".to_owned()),
        Just("-1".to_owned()),
        Just("4000000000".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("0.0001".to_owned()),
        Just("999999999999s".to_owned()),
        Just("count = 0\n".to_owned()),
        Just("count = 7\n".to_owned()),
        Just("var.x".to_owned()),
        Just("~".to_owned()),
        Just("null".to_owned()),
        "[ -~]{0,12}",
    ]
}

/// A number as a policy might state it, the hostile ones included (YAML's and HCL's spellings).
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => (0u32..200).prop_map(|n| n.to_string()),
        1 => (-100.0f64..100.0).prop_map(|x| format!("{x:.3}")),
        2 => prop::sample::select(vec![
            ".nan", ".inf", "-.inf", "NaN", "1e300", "1e400", "-1e400", "4000000000",
            "18446744073709551616", "-1", "0", "0.0001", "\"50\"",
        ])
        .prop_map(str::to_owned),
    ]
}

/// Native policies of every rule with their numbers drawn from [`number`].
fn native_with_numbers() -> impl Strategy<Value = String> {
    let max = prop_oneof![3 => (5u32..100).prop_map(|n| n.to_string()), 1 => number()];
    (proptest::collection::vec(number(), 4), max, 0usize..4).prop_map(|(n, max, rule)| {
        let rule = match rule {
            0 => format!(
                "simple:\n  - alarm: {{threshold: {}, comparison: greater_than, period: 1m}}\n    adjustment: {}\n",
                n[0], n[1]
            ),
            1 => format!(
                "step:\n  - alarm: {{threshold: {}, comparison: greater_than, period: 1m}}\n    \
                 steps: [{{lower: 0, upper: {}, adjustment: {}}}, {{lower: {}, adjustment: 2}}]\n",
                n[0], n[1], n[2], n[3]
            ),
            2 => format!(
                "target_tracking: {{target: {}, scale_in_below: {}}}\n",
                n[0], n[1]
            ),
            _ => format!(
                "beanstalk: {{period: 1m, breach_duration: 1m, upper_threshold: {}, lower_threshold: {}, \
                 scale_up_increment: {}}}\n",
                n[0], n[1], n[2]
            ),
        };
        format!("max: {max}\n{rule}")
    })
}

/// An HPA manifest with its numbers drawn from [`number`].
fn hpa_with_numbers() -> impl Strategy<Value = String> {
    proptest::collection::vec(number(), 3).prop_map(|n| {
        format!(
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\n\
             spec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}\n  \
             minReplicas: 1\n  maxReplicas: {}\n  metrics:\n  - type: Pods\n    pods: {{metric: \
             {{name: rps}}, target: {{type: AverageValue, averageValue: {}}}}}\n  behavior:\n    \
             scaleUp: {{tolerance: {}}}\n",
            n[0], n[1], n[2]
        )
    })
}

/// Terraform with its numbers drawn from [`number`] (strings unquoted: HCL has no .nan).
fn terraform_with_numbers() -> impl Strategy<Value = String> {
    proptest::collection::vec(number(), 5).prop_map(|n| {
        let n: Vec<String> = n.iter().map(|x| x.trim_start_matches('.').to_owned()).collect();
        format!(
            "variable \"max_size\" {{\n  default = {}\n}}\n\
             resource \"aws_autoscaling_policy\" \"up\" {{\n  count = {}\n  name = \"up\"\n  \
             autoscaling_group_name = \"g\"\n  policy_type = \"SimpleScaling\"\n  \
             scaling_adjustment = {}\n  cooldown = 60\n}}\n\
             resource \"aws_cloudwatch_metric_alarm\" \"up\" {{\n  alarm_name = \"up\"\n  \
             namespace = \"AWS/EC2\"\n  metric_name = \"CPUUtilization\"\n  statistic = \"Average\"\n  \
             period = 60\n  evaluation_periods = {}\n  threshold = {}\n  \
             comparison_operator = \"GreaterThanThreshold\"\n  \
             alarm_actions = [aws_autoscaling_policy.up.arn]\n}}\n",
            n[0], n[1], n[2], n[3], n[4]
        )
    })
}

/// `text` with a few ranges replaced by fragments.
fn damaged(text: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec((0usize..text.len(), 0usize..8, fragment()), 1..6).prop_map(
        move |cuts| {
            let mut text = text.to_owned();
            for (at, remove, insert) in cuts {
                let at = text.floor_char_boundary(at.min(text.len()));
                let end = text.floor_char_boundary((at + remove).min(text.len()));
                text.replace_range(at..end, &insert);
            }
            text
        },
    )
}

/// What a policy read must be: within the bounds, valid, and exported (where a format expresses
/// it) without null or NaN.
fn check(read: Result<Policy, impl std::fmt::Display>) -> Result<(), TestCaseError> {
    let policy = match read {
        Ok(policy) => policy,
        Err(error) => {
            prop_assert!(!error.to_string().is_empty());
            return Ok(());
        }
    };
    prop_assert!(policy.max <= MAX_INSTANCES);
    prop_assert!(policy.validate().is_ok());
    let options = ExportOptions { name: "app".into() };
    for format in [Format::Terraform, Format::Hpa, Format::Beanstalk] {
        if let Ok(text) = export(&policy, format, &options) {
            let words: Vec<&str> = text.split(|c: char| !c.is_alphanumeric()).collect();
            for bad in ["null", "NaN", "nan", "inf"] {
                prop_assert!(!words.contains(&bad), "{bad} in {format}:\n{text}");
            }
        }
    }
    prop_assert!(peak_resident_kib() < 512 * 1024);
    Ok(())
}

/// This process's peak resident memory: far below what an unbounded allocation would take.
fn peak_resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_native_policies_are_policies_or_errors(
        text in prop_oneof![damaged(NATIVE), damaged(BEANSTALK), native_with_numbers()]
    ) {
        check(read_yaml(&text, "policy.yaml"))?;
    }

    #[test]
    fn damaged_hpa_manifests_are_policies_or_errors(
        text in prop_oneof![damaged(HPA), hpa_with_numbers()]
    ) {
        check(read_yaml(&text, "hpa.yaml"))?;
    }

    #[test]
    fn damaged_terraform_is_a_policy_or_an_error(
        text in prop_oneof![damaged(TERRAFORM), damaged(STEP_TERRAFORM), terraform_with_numbers()]
    ) {
        check(read_terraform(&text, "main.tf"))?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n]{0,400}") {
        check(read_yaml(&text, "policy.yaml"))?;
        check(read_terraform(&text, "main.tf"))?;
    }
}
