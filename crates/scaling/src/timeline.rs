//! The simulator's timeline file (a [`TimelineRow`] per step, CSV) and the one reader `cost` uses for
//! both a simulated timeline and a live cluster's results directory ([`read_usage`]).

use std::path::Path;

use scalelab_capacity::{CapacityError, MAX_INSTANCES, ScaleInOrder, Usage};
use scalelab_metrics::{ClusterRow, read_cluster};
use scalelab_shape::{MAX_SECONDS, short};
use serde::{Deserialize, Serialize, Serializer};

/// One step of a simulation; a row of the timeline CSV (the column names are the serde names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineRow {
    /// The step is `[start, end)`, in seconds.
    #[serde(rename = "start_s")]
    pub start: f64,
    #[serde(rename = "end_s")]
    pub end: f64,
    /// Mean offered load over the step (in the shape's unit).
    #[serde(serialize_with = "milli")]
    pub offered_load: f64,
    pub in_service: u32,
    pub pending: u32,
    /// CPU % of each instance in service; `None` with none in service.
    #[serde(serialize_with = "milli_option")]
    pub cpu_percent: Option<f64>,
    #[serde(serialize_with = "milli")]
    pub served_load: f64,
    #[serde(serialize_with = "milli")]
    pub unserved_load: f64,
    /// Requests served and unserved during the step.
    #[serde(serialize_with = "milli")]
    pub served_requests: f64,
    #[serde(serialize_with = "milli")]
    pub unserved_requests: f64,
    /// Capacity the Autoscaler wants at `end`.
    pub desired: u32,
    /// Instances launched and terminated at `end`.
    pub launched: u32,
    pub terminated: u32,
    /// Burstable instances: instance-seconds held to the baseline during the step, and the mean credit
    /// balance of the instances in service at `end` (earned minus surplus credits).
    #[serde(default, serialize_with = "milli")]
    pub throttled_seconds: f64,
    #[serde(default, serialize_with = "milli_option")]
    pub credit_balance: Option<f64>,
    /// Why the capacity changed at `end`.
    pub event: Option<String>,
}

/// Why a timeline or a results directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TimelineError {
    #[error("line 1: not a timeline written by `scalelab sim` (its header starts with 'start_s')")]
    NotATimeline,
    #[error("line {line}{column}: {message}")]
    Row {
        line: u64,
        /// `, column NAME` when the bad cell is known.
        column: String,
        message: String,
    },
    #[error("{0}")]
    Csv(String),
    #[error(transparent)]
    Capacity(#[from] CapacityError),
    #[error("no rows")]
    Empty,
    #[error("no {} here (not a cluster's results directory)", ClusterRow::FILE)]
    NoCluster,
    #[error("{path}: {error}")]
    In {
        path: String,
        /// Shown in this error's text, so not its `source` (which would print it twice).
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn milli<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64((value * 1000.0).round() / 1000.0)
}

fn milli_option<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => milli(value, serializer),
        None => serializer.serialize_none(),
    }
}

/// The timeline as CSV: a header, then a row per step.
pub fn timeline_csv(rows: &[TimelineRow]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .serialize(row)
            .expect("a timeline row serializes to memory");
    }
    let bytes = writer.into_inner().expect("writing to memory cannot fail");
    String::from_utf8(bytes).expect("the CSV writer writes UTF-8")
}

/// Reads a timeline written by [`timeline_csv`]; errors give the line and the column.
pub fn parse_timeline(text: &str) -> Result<Vec<TimelineRow>, TimelineError> {
    let csv_error = |e: csv::Error| TimelineError::Csv(e.to_string());
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    if headers.get(0) != Some("start_s") {
        return Err(TimelineError::NotATimeline);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let row = record
            .deserialize(Some(&headers))
            .map_err(|e| match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => TimelineError::Row {
                    line,
                    column: err
                        .field()
                        .and_then(|f| headers.get(f as usize))
                        .map_or(String::new(), |name| format!(", column {name}")),
                    message: err.kind().to_string(),
                },
                _ => csv_error(e),
            })?;
        let previous = rows.last().map(|r: &TimelineRow| r.end);
        check_row(&row, previous).map_err(|(column, message)| TimelineError::Row {
            line,
            column: format!(", column {column}"),
            message,
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(TimelineError::Empty);
    }
    Ok(rows)
}

/// Why a row cannot follow a row ending at `previous`, with the column at fault: each step starts
/// where the one before ended (the first at 0, both to within rounding) and ends after it starts, within a shape's longest
/// length; loads, requests and seconds are finite and not negative.
fn check_row(row: &TimelineRow, previous: Option<f64>) -> Result<(), (&'static str, String)> {
    let start = previous.unwrap_or(0.0);
    // To within rounding: the simulator computes a step's start and the one before's end apart.
    let apart = (row.start - start).abs();
    if apart.is_nan() || apart > 1e-9 * start.max(1.0) {
        return Err((
            "start_s",
            format!(
                "{} is not {}, where the step before ended",
                short(row.start),
                short(start)
            ),
        ));
    }
    if !(row.end > row.start && row.end <= scalelab_shape::MAX_SECONDS) {
        return Err((
            "end_s",
            format!(
                "{} is not after start_s and at most {MAX_SECONDS} s",
                short(row.end)
            ),
        ));
    }
    let amounts = [
        ("offered_load", Some(row.offered_load)),
        ("cpu_percent", row.cpu_percent),
        ("served_load", Some(row.served_load)),
        ("unserved_load", Some(row.unserved_load)),
        ("served_requests", Some(row.served_requests)),
        ("unserved_requests", Some(row.unserved_requests)),
        ("throttled_seconds", Some(row.throttled_seconds)),
    ];
    for (column, value) in amounts {
        if let Some(value) = value
            && !(value.is_finite() && value >= 0.0)
        {
            return Err((
                column,
                format!("{} is not a finite number of at least 0", short(value)),
            ));
        }
    }
    match row.credit_balance {
        Some(balance) if !balance.is_finite() => Err((
            "credit_balance",
            format!("{} is not a finite number", short(balance)),
        )),
        _ => Ok(()),
    }
}

/// The fleet's usage in a timeline: the instances at the start, then the launches and terminations
/// at the end of each step, removed in `order`; fleets beyond the bounds of
/// [`Usage::from_changes`] are refused.
pub fn timeline_usage(rows: &[TimelineRow], order: ScaleInOrder) -> Result<Usage, CapacityError> {
    let initial = rows.first().map_or(0, |r| r.in_service + r.pending);
    let changes = std::iter::once((0.0, initial, 0))
        .chain(rows.iter().map(|r| (r.end, r.launched, r.terminated)));
    let end = rows.last().map_or(0.0, |r| r.end);
    let served = rows.iter().map(|r| r.served_requests).sum();
    Usage::from_changes(changes, end, order, served)
}

/// The fleet's usage in a live cluster's rows: each second's replicas (in service, pending and
/// draining, summed over groups), launched and terminated in `order` as the count changes; requests
/// answered without a 5xx count as served.
pub fn cluster_usage(rows: &[ClusterRow], order: ScaleInOrder) -> Result<Usage, CapacityError> {
    let mut seconds: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut served = 0.0;
    for row in rows {
        let replicas = seconds.entry(row.second).or_default();
        *replicas = replicas.saturating_add(row.replicas());
        served += row.served() as f64;
    }
    let end = seconds.keys().next_back().map_or(0.0, |s| *s as f64 + 1.0);
    let mut counts = Vec::with_capacity(seconds.len());
    for (second, replicas) in seconds {
        let count = u32::try_from(replicas)
            .ok()
            .filter(|n| *n <= MAX_INSTANCES)
            .ok_or_else(|| {
                CapacityError::Invalid(format!(
                    "{replicas} replicas at second {second}: more than {MAX_INSTANCES}"
                ))
            })?;
        counts.push((second as f64, count));
    }
    Usage::from_counts(counts, end, order, served)
}

/// Reads what a fleet used from `path`: a timeline CSV written by `scalelab sim`, or a results
/// directory holding the `cluster.csv` of `scalelab cluster`.
pub fn read_usage(path: &Path, order: ScaleInOrder) -> Result<Usage, TimelineError> {
    let within = |error: Box<dyn std::error::Error + Send + Sync>| TimelineError::In {
        path: path.display().to_string(),
        error,
    };
    if path.is_dir() {
        let rows = read_cluster(path)
            .map_err(|e| within(e.into()))?
            .ok_or_else(|| within(TimelineError::NoCluster.into()))?;
        if rows.is_empty() {
            return Err(within(TimelineError::Empty.into()));
        }
        return cluster_usage(&rows, order).map_err(|e| within(e.into()));
    }
    let text = scalelab_config::read_text_bounded(path, scalelab_metrics::output::MAX_FILE_BYTES)
        .map_err(|e| within(e.into()))?;
    let rows = parse_timeline(&text).map_err(|e| within(e.into()))?;
    timeline_usage(&rows, order).map_err(|e| within(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(start: f64, in_service: u32, launched: u32, terminated: u32) -> TimelineRow {
        TimelineRow {
            start,
            end: start + 60.0,
            in_service,
            cpu_percent: Some(100.0 / 3.0),
            served_requests: 10.0,
            launched,
            terminated,
            event: (launched + terminated > 0).then(|| "upper trigger: cpu 26.9 > 25, now".into()),
            ..TimelineRow::default()
        }
    }

    #[test]
    fn the_timeline_round_trips_and_prices_its_lifetimes() {
        // 2 at the start; +1 at 60 s; -2 at 120 s; to 180 s. Newest first: the one from 60 s lives
        // 60 s, one of the first two 120 s, the other 180 s: 360 s.
        let rows = vec![row(0.0, 2, 1, 0), row(60.0, 2, 0, 2), row(120.0, 1, 0, 0)];
        let text = timeline_csv(&rows);
        assert!(text.starts_with("start_s,end_s,offered_load,in_service,pending,cpu_percent,"));
        assert!(text.lines().nth(1).unwrap().contains(",33.333,"), "{text}");
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with("\"upper trigger: cpu 26.9 > 25, now\"")
        );
        let back = parse_timeline(&text).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back[0].cpu_percent, Some(33.333));
        assert_eq!(back[2].event, None);
        let usage = timeline_usage(&back, ScaleInOrder::Newest).unwrap();
        assert_eq!(usage.instance_hours() * 3600.0, 360.0);
        assert_eq!(usage.served_requests, 30.0);
        // Oldest first: the two from 0 live 120 s each, the one from 60 s to the end, 120 s: 360 s.
        let oldest = timeline_usage(&back, ScaleInOrder::Oldest).unwrap();
        assert_eq!(
            oldest
                .lifetimes
                .iter()
                .filter(|l| l.terminated == 120.0)
                .count(),
            2
        );
    }

    #[test]
    fn bad_timelines_name_the_line_and_column() {
        let text = timeline_csv(&[row(0.0, 1, 0, 0), row(60.0, 1, 0, 0)]);
        let broken = text.replacen(",1,0,", ",one,0,", 2);
        let error = parse_timeline(&broken).unwrap_err().to_string();
        assert!(error.starts_with("line 2, column in_service:"), "{error}");
        let header = parse_timeline("seconds,value\n1,2\n").unwrap_err();
        assert!(header.to_string().starts_with("line 1"), "{header}");
        for (from, to, says) in [
            (
                "0.0,60.0,",
                "0.0,1e300,",
                "line 2, column end_s: 1e300 is not after start_s",
            ),
            (
                "60.0,120.0,",
                "60.0,30.0,",
                "line 3, column end_s: 30 is not after start_s",
            ),
            (
                "60.0,120.0,",
                "50.0,120.0,",
                "line 3, column start_s: 50 is not 60",
            ),
            (
                ",10.0,0.0,",
                ",NaN,0.0,",
                "line 2, column served_requests: NaN is not a finite",
            ),
            (
                ",10.0,0.0,",
                ",-1,0.0,",
                "line 2, column served_requests: -1 is not a finite",
            ),
        ] {
            let broken = text.replacen(from, to, 1);
            assert_ne!(broken, text, "{from}");
            let error = parse_timeline(&broken).unwrap_err().to_string();
            assert!(error.starts_with(says), "{to}: {error}");
        }
        let empty = parse_timeline(text.lines().next().unwrap()).unwrap_err();
        assert!(matches!(empty, TimelineError::Empty));
    }

    #[test]
    fn a_cluster_counts_every_replica_of_every_group() {
        // Second 0: api 1 in service; second 1: api 1 + 1 pending, web 1; seconds 2-3: api 1.
        // Replicas 1, 3, 1, 1 over 4 s: the first lives 4 s, two launched at 1 s are removed at 2 s:
        // 6 s of instance time, each of the 3 launches billed the 60 s minimum = 180 s; served
        // 5 rows x (5 - 1) = 20.
        let group = |second, group: &str, in_service, pending| ClusterRow {
            second,
            group: group.into(),
            in_service,
            pending,
            requests: 5,
            errors: 1,
            ..ClusterRow::default()
        };
        let rows = [
            group(0, "api", 1, 0),
            group(1, "api", 1, 1),
            group(1, "web", 1, 0),
            group(2, "api", 1, 0),
            group(3, "api", 1, 0),
        ];
        let usage = cluster_usage(&rows, ScaleInOrder::Newest).unwrap();
        assert_eq!(usage.seconds, 4.0);
        let lived: f64 = usage
            .lifetimes
            .iter()
            .map(|l| l.terminated - l.launched)
            .sum();
        assert_eq!((usage.lifetimes.len(), lived), (3, 6.0));
        assert_eq!(usage.instance_hours() * 3600.0, 180.0);
        assert_eq!(usage.served_requests, 20.0);
    }
}
