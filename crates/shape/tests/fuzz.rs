//! CSV traces on damaged and hostile input: a shape or an error naming a line, never a panic; a shape
//! read is within the bounds, so its length and values are finite. Bounded in time: a fixed number
//! of cases, each a small text.

use proptest::prelude::*;
use scalelab_shape::{MAX_SECONDS, MAX_VALUE, ShapeError, parse_csv_trace};

/// Numbers as a trace might hold them, the hostile ones included.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u32..100_000).prop_map(|n| n.to_string()),
        (-1e6f64..1e6).prop_map(|x| x.to_string()),
        any::<f64>().prop_map(|x| x.to_string()),
        Just("1e300".to_owned()),
        Just("-0".to_owned()),
        Just("NaN".to_owned()),
        Just("inf".to_owned()),
        Just("-inf".to_owned()),
        Just("1e12".to_owned()),
        Just("315360000".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("0x10".to_owned()),
        Just(String::new()),
    ]
}

fn row() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (number(), number()).prop_map(|(t, v)| format!("{t},{v}")),
        1 => (number(), number(), number()).prop_map(|(t, v, x)| format!("{t},{v},{x}")),
        1 => Just("seconds,value".to_owned()),
        1 => Just("# comment".to_owned()),
        1 => "[ -~]{0,20}",
    ]
}

fn check(text: &str) -> Result<(), TestCaseError> {
    match parse_csv_trace(text) {
        Ok(shape) => {
            let end = shape.duration().as_secs_f64();
            prop_assert!(end <= MAX_SECONDS, "{end}");
            for (t, v) in shape.points() {
                prop_assert!((0.0..=MAX_SECONDS).contains(t) && (0.0..=MAX_VALUE).contains(v));
            }
            for t in [0.0, end / 3.0, end] {
                prop_assert!(shape.value(t).is_finite() && shape.integral(t).is_finite());
            }
        }
        Err(ShapeError::Line { line, .. }) => {
            prop_assert!(line >= 1 && line <= text.lines().count(), "line {line}");
        }
        Err(ShapeError::Invalid(_)) => {}
    }
    Ok(())
}

/// A valid trace (times from 0, increasing; values from 0) with up to three of its cells replaced by
/// hostile numbers.
fn damaged_trace() -> impl Strategy<Value = String> {
    let rows = proptest::collection::vec((0.0f64..1e4, 0.0f64..1e6), 1..30);
    let damage = proptest::collection::vec((any::<usize>(), any::<bool>(), number()), 0..4);
    (rows, damage).prop_map(|(rows, damage)| {
        let mut t = 0.0;
        let mut cells: Vec<[String; 2]> = rows
            .iter()
            .enumerate()
            .map(|(i, (dt, v))| {
                if i > 0 {
                    t += dt;
                }
                [t.to_string(), v.to_string()]
            })
            .collect();
        for (row, column, text) in damage {
            let len = cells.len();
            cells[row % len][usize::from(column)] = text;
        }
        let lines: Vec<String> = cells.iter().map(|[t, v]| format!("{t},{v}")).collect();
        format!("seconds,value\n{}\n", lines.join("\n"))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn damaged_traces_are_shapes_or_errors_naming_the_line(text in damaged_trace()) {
        check(&text)?;
    }

    #[test]
    fn traces_of_any_rows_are_shapes_or_errors(rows in proptest::collection::vec(row(), 0..40)) {
        check(&rows.join("\n"))?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n]{0,400}") {
        check(&text)?;
    }
}
