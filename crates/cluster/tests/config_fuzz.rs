//! The cluster-file loader on damaged and hostile input: never a panic, memory bounded. Bounded in
//! time: a fixed number of cases, each a small text.

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
