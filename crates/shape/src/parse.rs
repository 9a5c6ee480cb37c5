//! Shapes from text: inline stage lists (`10m:30000,8m:150000`) and CSV traces (`seconds,value`),
//! which [`csv_trace`] writes.

use scalelab_config::parse_duration;

use crate::{Shape, ShapeError, Stage, check_point};

/// Parses `DURATION:TARGET[,DURATION:TARGET...]` as k6 stages starting at `start`.
pub fn parse_inline_stages(text: &str, start: f64) -> Result<Shape, ShapeError> {
    let stages = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (duration, target) = part.split_once(':').ok_or_else(|| {
                ShapeError::Invalid(format!(
                    "stage '{part}' is not DURATION:TARGET (e.g. 10m:30000)"
                ))
            })?;
            let duration = parse_duration(duration)
                .map_err(|e| ShapeError::Invalid(format!("stage '{part}': {e}")))?;
            let target: f64 = target.trim().parse().map_err(|_| {
                ShapeError::Invalid(format!("stage '{part}': target '{target}' is not a number"))
            })?;
            Ok(Stage { duration, target })
        })
        .collect::<Result<Vec<_>, ShapeError>>()?;
    if stages.is_empty() {
        return Err(ShapeError::Invalid("no stages given".into()));
    }
    Shape::from_stages(start, &stages)
}

/// Parses a CSV trace of `seconds,value` rows (a header row and `#` comments are skipped). Times must
/// start at 0 and not decrease, values be finite and at least 0, both within the bounds of
/// [`check_point`]; values are interpolated linearly between rows. Errors name the line.
pub fn parse_csv_trace(text: &str) -> Result<Shape, ShapeError> {
    let mut points = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split(',').map(str::trim);
        let (Some(t), Some(v)) = (fields.next(), fields.next()) else {
            return Err(ShapeError::Line {
                line: line_number,
                message: format!("expected 'seconds,value', found '{line}'"),
            });
        };
        match (t.parse::<f64>(), v.parse::<f64>()) {
            (Ok(t), Ok(v)) => {
                check_point(points.last().map(|p: &(f64, f64)| p.0), t, v).map_err(|message| {
                    ShapeError::Line {
                        line: line_number,
                        message,
                    }
                })?;
                points.push((t, v));
            }
            _ if points.is_empty() && t.parse::<f64>().is_err() => continue, // header row
            _ => {
                return Err(ShapeError::Line {
                    line: line_number,
                    message: format!("'{line}' is not two numbers 'seconds,value'"),
                });
            }
        }
    }
    Shape::from_points(points)
}

/// `shape` as the CSV trace [`parse_csv_trace`] reads: a header, then a `seconds,value` row per point
/// (Rust's shortest round-tripping decimals, so the trace reads back exactly).
pub fn csv_trace(shape: &Shape) -> String {
    let mut text = String::from("seconds,value\n");
    for (t, v) in shape.points() {
        text.push_str(&format!("{t},{v}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_stages_ramp_like_k6() {
        let shape = parse_inline_stages("10m:30000,8m:150000,30m:150000", 30_000.0).unwrap();
        assert_eq!(shape.duration().as_secs(), 48 * 60);
        assert_eq!(shape.value(300.0), 30_000.0);
        assert_eq!(shape.value(14.0 * 60.0), 90_000.0);
        assert_eq!(shape.value(40.0 * 60.0), 150_000.0);
        assert!(parse_inline_stages("10m=5", 0.0).is_err());
        assert!(parse_inline_stages("10x:5", 0.0).is_err());
        assert!(parse_inline_stages("", 0.0).is_err());
    }

    #[test]
    fn csv_trace_with_header_and_errors_with_lines() {
        let shape = parse_csv_trace("seconds,value\n0,10\n60,20\n# note\n120,20\n").unwrap();
        assert_eq!(shape.value(30.0), 15.0);
        assert_eq!(shape.duration().as_secs(), 120);
        assert_eq!(parse_csv_trace(&csv_trace(&shape)).unwrap(), shape);
        let jump = Shape::from_points(vec![(0.0, 0.1), (7.5, 1.0 / 3.0), (7.5, 0.0)]).unwrap();
        let text = csv_trace(&jump);
        assert!(
            text.starts_with("seconds,value\n0,0.1\n7.5,0.3333333333333333\n"),
            "{text}"
        );
        assert_eq!(parse_csv_trace(&text).unwrap(), jump);
        let error = parse_csv_trace("0,1\n10,x\n").unwrap_err();
        assert_eq!(
            error,
            ShapeError::Line {
                line: 2,
                message: "'10,x' is not two numbers 'seconds,value'".into()
            }
        );
        for (text, line, says) in [
            ("0,1\n60,1e300\n", 2, "value 1e300"),
            ("0,1\n60,NaN\n", 2, "value NaN"),
            ("0,1\n\n60,inf\n", 3, "value inf"),
            ("0,1\n60,-2\n", 2, "value -2"),
            ("seconds,value\n0,1\n1e300,5\n", 3, "time 1e300"),
            ("0,1\n60,1\n30,1\n", 3, "backwards"),
            ("5,1\n", 1, "starts at time 0"),
        ] {
            match parse_csv_trace(text) {
                Err(ShapeError::Line { line: at, message }) => {
                    assert_eq!(at, line, "{text:?}: {message}");
                    assert!(message.contains(says), "{text:?}: {message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
