//! A server's CPU over time as users export it: CloudWatch `get-metric-data` JSON, a Prometheus
//! `query_range` JSON, or a CSV of `timestamp,value`.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// When a datapoint's value was measured, relative to its timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Over the period that starts at the timestamp (CloudWatch).
    Starting,
    /// Over the period that ends at the timestamp (Prometheus `rate()`, most exporters).
    Ending,
}

/// A series of (Unix seconds, value) in time order, and how its timestamps are to be read.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The format it was read from, for messages.
    pub format: &'static str,
    pub points: Vec<(f64, f64)>,
    pub window: Window,
}

/// Why a series could not be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SeriesError {
    #[error("{0}")]
    Invalid(String),
    #[error("line {line}: {message}")]
    Line { line: usize, message: String },
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CloudWatch {
    metric_data_results: Vec<CloudWatchResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CloudWatchResult {
    #[serde(default)]
    label: String,
    timestamps: Vec<String>,
    values: Vec<f64>,
}

#[derive(Deserialize)]
struct Prometheus {
    status: String,
    data: PrometheusData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PrometheusData {
    result_type: String,
    result: Vec<PrometheusSeries>,
}

#[derive(Deserialize)]
struct PrometheusSeries {
    values: Vec<(f64, String)>,
}

/// A timestamp as Unix seconds (`1700000000`, `1700000000.5`) or RFC 3339 with any offset
/// (`2024-05-01T12:00:00Z`, `2024-05-01T12:00:00+02:00`, as the AWS CLI prints them).
pub fn timestamp(text: &str) -> Result<f64, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Ok(seconds);
    }
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.unix_timestamp_nanos() as f64 / 1e9)
        .map_err(|e| format!("'{text}' is neither Unix seconds nor an RFC 3339 time: {e}"))
}

impl Series {
    /// Reads `text`: JSON with `MetricDataResults` (CloudWatch) or `data.result` (Prometheus),
    /// otherwise CSV rows of `timestamp,value` (a header row and `#` comments allowed).
    pub fn parse(text: &str) -> Result<Self, SeriesError> {
        let invalid = |why: String| SeriesError::Invalid(why);
        let trimmed = text.trim_start();
        let mut series = if trimmed.starts_with('{') {
            let json: serde_json::Value =
                serde_json::from_str(text).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
            if json.get("MetricDataResults").is_some() {
                Self::cloudwatch(json)?
            } else if json.get("data").is_some() {
                Self::prometheus(json)?
            } else {
                return Err(invalid(
                    "JSON that is neither CloudWatch get-metric-data (MetricDataResults) nor a \
                     Prometheus query_range answer (data.result)"
                        .into(),
                ));
            }
        } else {
            Self::csv(text)?
        };
        if series.points.is_empty() {
            return Err(invalid(format!(
                "the {} series has no data points",
                series.format
            )));
        }
        series.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(pair) = series.points.windows(2).find(|p| p[0].0 == p[1].0) {
            return Err(invalid(format!(
                "two data points at the same time {}",
                pair[0].0
            )));
        }
        Ok(series)
    }

    fn cloudwatch(json: serde_json::Value) -> Result<Self, SeriesError> {
        let parsed: CloudWatch = serde_json::from_value(json)
            .map_err(|e| SeriesError::Invalid(format!("CloudWatch get-metric-data JSON: {e}")))?;
        let [result] = &parsed.metric_data_results[..] else {
            return Err(SeriesError::Invalid(format!(
                "CloudWatch JSON has {} MetricDataResults: keep the CPU one",
                parsed.metric_data_results.len()
            )));
        };
        if result.timestamps.len() != result.values.len() {
            return Err(SeriesError::Invalid(format!(
                "CloudWatch result '{}' has {} Timestamps but {} Values",
                result.label,
                result.timestamps.len(),
                result.values.len()
            )));
        }
        let points = result
            .timestamps
            .iter()
            .zip(&result.values)
            .enumerate()
            .map(|(i, (t, v))| {
                timestamp(t)
                    .map(|t| (t, *v))
                    .map_err(|e| SeriesError::Invalid(format!("Timestamps[{i}]: {e}")))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            format: "CloudWatch",
            points,
            window: Window::Starting,
        })
    }

    fn prometheus(json: serde_json::Value) -> Result<Self, SeriesError> {
        let parsed: Prometheus = serde_json::from_value(json)
            .map_err(|e| SeriesError::Invalid(format!("Prometheus query_range JSON: {e}")))?;
        if parsed.status != "success" || parsed.data.result_type != "matrix" {
            return Err(SeriesError::Invalid(format!(
                "Prometheus answer with status '{}' and resultType '{}': a query_range answer has \
                 'success' and 'matrix'",
                parsed.status, parsed.data.result_type
            )));
        }
        let [series] = &parsed.data.result[..] else {
            return Err(SeriesError::Invalid(format!(
                "Prometheus answer has {} series: aggregate the query to one (e.g. sum or avg)",
                parsed.data.result.len()
            )));
        };
        let points = series
            .values
            .iter()
            .enumerate()
            .map(|(i, (t, v))| {
                v.parse::<f64>().map(|v| (*t, v)).map_err(|_| {
                    SeriesError::Invalid(format!("values[{i}]: '{v}' is not a number"))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            format: "Prometheus",
            points,
            window: Window::Ending,
        })
    }

    fn csv(text: &str) -> Result<Self, SeriesError> {
        let mut points = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |message: String| SeriesError::Line {
                line: line_no,
                message,
            };
            let Some((t, v)) = line.split_once(',') else {
                return Err(fail(format!("'{line}' is not 'timestamp,value'")));
            };
            let parsed = (timestamp(t), v.trim().parse::<f64>());
            match parsed {
                (Ok(t), Ok(v)) if v.is_finite() => points.push((t, v)),
                _ if points.is_empty()
                    && t.trim().parse::<f64>().is_err()
                    && v.trim().parse::<f64>().is_err() =>
                {
                    // A header row.
                }
                (Err(e), _) => return Err(fail(e)),
                _ => return Err(fail(format!("value '{}' is not a number", v.trim()))),
            }
        }
        Ok(Self {
            format: "CSV",
            points,
            window: Window::Ending,
        })
    }

    /// The spacing of the datapoints (the median gap), which is the period each one covers.
    pub fn period(&self) -> Option<f64> {
        let mut gaps: Vec<f64> = self.points.windows(2).map(|p| p[1].0 - p[0].0).collect();
        gaps.sort_by(f64::total_cmp);
        gaps.get(gaps.len() / 2).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_written_form() {
        assert_eq!(timestamp("1700000000"), Ok(1_700_000_000.0));
        assert_eq!(timestamp("2023-11-14T22:13:20Z"), Ok(1_700_000_000.0));
        assert_eq!(timestamp("2023-11-15T00:13:20+02:00"), Ok(1_700_000_000.0));
        assert_eq!(timestamp("2023-11-14T22:13:20.5Z"), Ok(1_700_000_000.5));
        assert!(timestamp("yesterday").is_err());
    }

    #[test]
    fn csv_with_header_and_comments() {
        let s = Series::parse("# cpu\ntimestamp,value\n1700000060,20\n1700000000,10.5\n").unwrap();
        assert_eq!(
            s.points,
            vec![(1_700_000_000.0, 10.5), (1_700_000_060.0, 20.0)]
        );
        assert_eq!(s.period(), Some(60.0));
        assert_eq!(
            Series::parse("1,2\n3,x\n"),
            Err(SeriesError::Line {
                line: 2,
                message: "value 'x' is not a number".into()
            })
        );
        assert!(
            Series::parse("timestamp,value\n")
                .unwrap_err()
                .to_string()
                .contains("no data points")
        );
    }

    #[test]
    fn json_formats_are_told_apart_and_checked() {
        let cw = r#"{"MetricDataResults":[{"Id":"m1","Label":"CPUUtilization",
            "Timestamps":["2023-11-14T22:14:20+00:00","2023-11-14T22:13:20+00:00"],
            "Values":[40.0,20.0],"StatusCode":"Complete"}],"Messages":[]}"#;
        let s = Series::parse(cw).unwrap();
        assert_eq!((s.format, s.window), ("CloudWatch", Window::Starting));
        assert_eq!(
            s.points,
            vec![(1_700_000_000.0, 20.0), (1_700_000_060.0, 40.0)]
        );
        let short = cw.replace("[40.0,20.0]", "[40.0]");
        assert!(
            Series::parse(&short)
                .unwrap_err()
                .to_string()
                .contains("2 Timestamps but 1 Values")
        );
        let prom = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"job":"api"},"values":[[1700000000,"12.5"],[1700000015,"13"]]}]}}"#;
        let s = Series::parse(prom).unwrap();
        assert_eq!((s.format, s.window), ("Prometheus", Window::Ending));
        assert_eq!(
            s.points,
            vec![(1_700_000_000.0, 12.5), (1_700_000_015.0, 13.0)]
        );
        let two = prom.replace("]]}]}}", "]]},{\"metric\":{},\"values\":[]}]}}");
        assert!(
            Series::parse(&two)
                .unwrap_err()
                .to_string()
                .contains("2 series")
        );
        assert!(Series::parse("{\"x\":1}").is_err());
    }
}
