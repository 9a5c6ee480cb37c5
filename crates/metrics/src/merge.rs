//! Merges the results of a test's shards (`scalelab run --shard I/N`) into the results of the whole
//! test: every second's histograms and counters added exactly, thresholds judged once on the sum.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::output::{ResultsWriter, read_intervals, read_summary};
use crate::threshold::{RunView, Threshold, ThresholdError};
use crate::{Endpoint, Interval, MergeRecord, Summary, SummaryInput};

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("no shard directories to merge")]
    NoShards,
    #[error("{0}: not a shard's results (its summary.json has no 'shard'; run with --shard I/N)")]
    NotAShard(PathBuf),
    #[error("{dir}: {what} differs from {first}'s: not a shard of the same test")]
    Foreign {
        dir: PathBuf,
        first: PathBuf,
        what: String,
    },
    #[error("shard {index} is given twice: {} and {}", .dirs.0.display(), .dirs.1.display())]
    Duplicate {
        index: u64,
        dirs: (PathBuf, PathBuf),
    },
    #[error(
        "shards {missing:?} of {count} are missing (merge them too, or pass --allow-partial to merge without them)"
    )]
    Missing { missing: Vec<u64>, count: u64 },
    #[error("a threshold of the shards cannot be read again: {0}")]
    Threshold(#[from] ThresholdError),
}

/// The whole test, rebuilt from its shards.
#[derive(Debug)]
pub struct Merged {
    pub endpoints: Vec<Endpoint>,
    /// Every second, each the sum of the shards' same second.
    pub intervals: Vec<Interval>,
    pub summary: Summary,
    started: SystemTime,
}

/// Merges the shard results in `dirs`. Every shard of the test must be there once, all of the same
/// plan (hash) and start time; with `allow_partial`, missing shards are allowed and listed in the
/// summary's `merged.missing`.
pub fn merge_shards(dirs: &[PathBuf], allow_partial: bool) -> Result<Merged, MergeError> {
    let first_dir = dirs.first().ok_or(MergeError::NoShards)?;
    let mut by_index: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    let mut first: Option<(Summary, crate::output::IntervalLog)> = None;
    let mut seconds: BTreeMap<u64, Interval> = BTreeMap::new();
    let mut duration_seconds: f64 = 0.0;
    let mut open_model = false;
    for dir in dirs {
        let summary = read_summary(dir)?;
        let shard = summary
            .shard
            .clone()
            .ok_or_else(|| MergeError::NotAShard(dir.clone()))?;
        let log = read_intervals(dir)?;
        if let Some((head, head_log)) = &first {
            let head_shard = head.shard.as_ref().expect("checked when read");
            let foreign = |what: &str| MergeError::Foreign {
                dir: dir.clone(),
                first: first_dir.clone(),
                what: what.to_owned(),
            };
            if shard.plan_sha256 != head_shard.plan_sha256 {
                return Err(foreign("the plan's SHA-256"));
            }
            if shard.start_at != head_shard.start_at {
                return Err(foreign("the start time"));
            }
            if shard.count != head_shard.count {
                return Err(foreign("the number of shards"));
            }
            if log.endpoints != head_log.endpoints || log.check_names != head_log.check_names {
                return Err(foreign("the endpoint or check table"));
            }
        }
        if let Some(other) = by_index.insert(shard.index, dir) {
            return Err(MergeError::Duplicate {
                index: shard.index,
                dirs: (other.clone(), dir.clone()),
            });
        }
        duration_seconds = duration_seconds.max(summary.duration_seconds);
        open_model |= summary.open_model;
        for interval in &log.intervals {
            seconds
                .entry(interval.second)
                .or_insert_with(|| Interval::new(interval.second))
                .merge(interval);
        }
        if first.is_none() {
            first = Some((summary, log));
        }
    }
    let (head, log) = first.expect("dirs is not empty");
    let shard = head.shard.clone().expect("checked when read");
    let missing: Vec<u64> = (0..shard.count)
        .filter(|i| !by_index.contains_key(i))
        .collect();
    if !missing.is_empty() && !allow_partial {
        return Err(MergeError::Missing {
            missing,
            count: shard.count,
        });
    }
    let intervals: Vec<Interval> = seconds.into_values().collect();
    let mut total = Interval::new(0);
    for interval in &intervals {
        total.merge(interval);
    }
    let view = RunView {
        endpoints: &log.endpoints,
        check_names: &log.check_names,
        total: &total,
        duration_seconds,
    };
    let thresholds = head
        .thresholds
        .iter()
        .map(|t| Ok(Threshold::parse(&t.metric, &t.condition, t.abort_on_fail)?.evaluate(&view)))
        .collect::<Result<Vec<_>, ThresholdError>>()?;
    let per_second: Vec<(u64, u64)> = intervals.iter().map(|i| (i.second, i.requests())).collect();
    let mut summary = Summary::build(SummaryInput {
        started_at: head.started_at.clone(),
        duration_seconds,
        open_model,
        endpoints: &log.endpoints,
        check_names: &log.check_names,
        total: &total,
        requests_per_second: &per_second,
        max_vus: intervals.iter().map(|i| i.gauges.vus).max().unwrap_or(0),
        thresholds,
    });
    summary.merged = Some(MergeRecord {
        count: shard.count,
        plan_sha256: shard.plan_sha256,
        start_at: shard.start_at.clone(),
        shards: by_index.keys().copied().collect(),
        missing,
    });
    let started = humantime::parse_rfc3339(&shard.start_at).unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(Merged {
        endpoints: log.endpoints,
        intervals,
        summary,
        started,
    })
}

impl Merged {
    /// Writes `summary.json`, `timeseries.csv` and `latency.hlog` to `dir`, as a single run would.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let mut writer = ResultsWriter::create(dir, self.endpoints.clone(), self.started)?;
        for interval in &self.intervals {
            writer.push(interval)?;
        }
        writer.finish(&self.summary)
    }
}
