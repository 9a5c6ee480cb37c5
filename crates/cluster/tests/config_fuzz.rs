//! The cluster-file loader on damaged, generated and hostile input: a valid config or an error saying
//! what is wrong, never a panic, memory bounded. Bounded in time: a fixed number of cases, each a small
//! text.

use proptest::prelude::*;
use scalelab_cluster::ClusterConfig;

const VALID: &str = "\
listen: 127.0.0.1:0
client: {header_timeout: 5s, idle_timeout: 30s, max_request_body: 8MiB}
groups:
  - name: one
    serve: --mode sync --workers 2 --cpu-cap 20
    min: 1
    max: 4
    initial: 2
    vcpus: 0.5
    memory_mib: 256
    algorithm: least_outstanding_requests
    health_check: {path: /health, interval: 500ms, timeout: 1s, healthy_threshold: 1}
    startup_grace: 10s
    policy:
      target_tracking: {metric: cpu, target: 50, period: 1s, warmup: 2s}
  - name: two
    command: [python3, -m, http.server, '{port}']
    max: 1
rules:
  - {path: /cluster1, group: one, strip_prefix: true}
  - {path: /cluster2, group: two}
default_group: two
";

/// Words and numbers that make interesting YAML when spliced into the valid file.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\n".to_owned()),
        Just(": ".to_owned()),
        Just("- ".to_owned()),
        Just("{".to_owned()),
        Just("]".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("!!binary ".to_owned()),
        Just("'{port}'".to_owned()),
        Just("--workers".to_owned()),
        Just("1e308".to_owned()),
        Just("-1".to_owned()),
        Just("NaN".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("4294967295".to_owned()),
        Just("999999999999s".to_owned()),
        Just("0s".to_owned()),
        Just("~".to_owned()),
        "[ -~]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_files_are_errors_or_valid_configs_never_panics(
        cuts in proptest::collection::vec((0usize..VALID.len(), 0usize..8, fragment()), 1..6)
    ) {
        let mut text = VALID.to_owned();
        for (at, remove, insert) in cuts {
            let at = text.floor_char_boundary(at.min(text.len()));
            let end = text.floor_char_boundary((at + remove).min(text.len()));
            text.replace_range(at..end, &insert);
        }
        if let Ok(config) = ClusterConfig::from_yaml(&text) {
            // What loads is valid: every limit holds.
            for group in &config.groups {
                prop_assert!(group.min <= group.max && group.max >= 1);
                prop_assert!((group.min..=group.max).contains(&group.initial()));
            }
            prop_assert!(config.client.max_request_body > 0);
            let _ = config.stress_caps(1 << 30);
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n]{0,400}") {
        let _ = ClusterConfig::from_yaml(&text);
    }
}

/// One option of a `serve:` block with its value: mostly valid, now and then unknown, the cluster's
/// own or out of range; drawn independently, so an option may come twice.
fn serve_option() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        8 => prop_oneof![
            Just("--mode sync"),
            Just("--workers 2"),
            Just("--cpu-cap=10"),
            Just("--memory-cap 64MiB"),
            Just("--grace 1s"),
        ],
        1 => prop_oneof![
            Just("--wrkers 2"),
            Just("--port 9000"),
            Just("--cpu-cap=150"),
            Just("--workers"),
            Just("="),
        ],
    ]
}

/// A whole number as YAML writes it, or now and then an extreme or not a whole number.
fn number(plain: std::ops::Range<u64>) -> impl Strategy<Value = String> {
    prop_oneof![
        9 => plain.prop_map(|n| n.to_string()),
        1 => prop_oneof![
            Just("4294967296".to_owned()),
            Just("-1".to_owned()),
            Just("0.5".to_owned()),
            Just(".nan".to_owned()),
            Just("1e400".to_owned()),
            Just("'3'".to_owned()),
        ],
    ]
}

/// A duration as a cluster file may (or may not) write it.
fn duration() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        9 => prop_oneof![Just("1s"), Just("250ms"), Just("1m30s")],
        1 => prop_oneof![Just("0s"), Just("18446744073709551615s"), Just("-5s"), Just("soon")],
    ]
}

/// Lines of one group named `{name}`: mostly valid, a field now and then given twice.
fn group() -> impl Strategy<Value = String> {
    let serve = proptest::collection::vec(serve_option(), 0..4).prop_map(|o| o.join(" "));
    let fields = (
        prop_oneof![9 => Just("{name}"), 1 => Just("../x")],
        serve,
        (number(0..3), number(0..3), number(0..3)),
        (duration(), duration(), duration()),
        proptest::option::of((number(1..100), duration())),
        proptest::bool::weighted(0.1),
    );
    fields.prop_map(
        |(name, serve, (min, extra, initial), (interval, grace, timeout), policy, twice)| {
            // max and initial are written as sums, so that most groups hold min <= initial <= max.
            let (min, max, initial) = match (
                min.parse::<u64>(),
                extra.parse::<u64>(),
                initial.parse::<u64>(),
            ) {
                (Ok(min), Ok(extra), Ok(initial)) => (
                    min.to_string(),
                    (min.max(1) + extra).to_string(),
                    (min + initial.min(extra)).to_string(),
                ),
                _ => (min, extra, initial),
            };
            let mut lines = vec![
                format!("  - name: '{name}'"),
                format!("    max: {max}"),
                format!("    min: {min}"),
                format!("    initial: {initial}"),
                format!("    health_check: {{interval: {interval}, timeout: {timeout}}}"),
                format!("    startup_grace: {grace}"),
            ];
            if !serve.is_empty() {
                lines.push(format!("    serve: {serve}"));
            }
            if let Some((target, period)) = policy {
                lines.push(format!(
                    "    policy: {{target_tracking: {{target: {target}, period: {period}}}}}"
                ));
            }
            if twice {
                lines.push(format!("    max: {max}"));
            }
            lines.join("\n")
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_files_load_valid_or_say_what_is_wrong(
        groups in proptest::collection::vec(group(), 1..4),
        rule in proptest::option::of(prop_oneof![4 => Just("/x"), 1 => Just("x"), 1 => Just("/")]),
        body in prop_oneof![8 => Just("1MiB"), 1 => Just("0"), 1 => Just("lots"), 1 => Just("18446744073709551615")],
    ) {
        let groups: Vec<String> = groups
            .iter()
            .enumerate()
            .map(|(i, group)| group.replace("{name}", &format!("g{i}")))
            .collect();
        let mut text = format!("listen: 127.0.0.1:0\nclient: {{max_request_body: {body}}}\ngroups:\n{}\n", groups.join("\n"));
        if let Some(path) = rule {
            text.push_str(&format!("rules: [{{path: '{path}', group: g0}}]\n"));
        }
        match ClusterConfig::from_yaml(&text) {
            Ok(config) => {
                for group in &config.groups {
                    prop_assert!(group.min <= group.max && (1..=256).contains(&group.max));
                    prop_assert!((group.min..=group.max).contains(&group.initial()));
                    prop_assert!(group.vcpus.is_finite() && group.vcpus > 0.0);
                    let mut options: Vec<&str> = group
                        .serve
                        .iter()
                        .filter(|w| w.starts_with("--"))
                        .map(|w| w.split('=').next().unwrap_or(w))
                        .collect();
                    let given = options.len();
                    options.sort();
                    options.dedup();
                    prop_assert_eq!(options.len(), given, "an option given twice loaded: {:?}", group.serve);
                }
                let _ = config.stress_caps(1 << 30);
            }
            Err(message) => prop_assert!(!message.trim().is_empty(), "an empty error for:\n{}", text),
        }
    }
}

#[test]
fn a_yaml_bomb_is_refused_and_memory_stays_bounded() {
    // "Billion laughs": nine levels of nine aliases, 9^9 strings once expanded.
    let mut bomb = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let names = ["b", "c", "d", "e", "f", "g", "h", "i"];
    let mut previous = "a";
    for name in names {
        bomb.push_str(&format!(
            "{name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"
        ));
        previous = name;
    }
    bomb.push_str("groups: [{name: x, max: 1}]\nlisten: *i\n");
    assert!(ClusterConfig::from_yaml(&bomb).is_err());
    // This test binary's peak resident memory (every case above included) stays far below what an
    // expanded bomb or an unbounded allocation would take.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(peak_kib < 512 * 1024, "peak resident memory {peak_kib} KiB");
}
