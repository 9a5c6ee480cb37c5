//! Merges the results of a test's shards (`scalelab run --shard I/N`) into the results of the whole
//! test: every second's histograms and counters added exactly, thresholds judged once on the sum.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use scalelab_shape::MAX_SHARDS;

use crate::output::{IntervalLog, ResultsWriter, read_intervals, read_summary};
use crate::threshold::{RunView, Threshold, ThresholdError};
use crate::{Endpoint, Interval, MergeRecord, ShardRecord, Summary, SummaryInput, Unmergeable};

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("no shard directories to merge")]
    NoShards,
    #[error("{0}: not a shard's results (its summary.json has no 'shard'; run with --shard I/N)")]
    NotAShard(PathBuf),
    #[error("{}: its summary.json says shard {index} of {count}: {why}", .dir.display())]
    BadShard {
        dir: PathBuf,
        index: u64,
        count: u64,
        why: String,
    },
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
    #[error(
        "{}: intervals.jsonl does not hold what summary.json counts: {what} {in_intervals} in the \
         intervals, {in_summary} in the summary (a file cut short, or edited)",
        .dir.display()
    )]
    Inconsistent {
        dir: PathBuf,
        what: &'static str,
        in_intervals: u64,
        in_summary: u64,
    },
    #[error("{}: intervals.jsonl: {source}", .dir.display())]
    Shard { dir: PathBuf, source: Unmergeable },
    #[error("the shards together: {0}")]
    Sum(Unmergeable),
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

/// One shard's results, read and checked.
struct Shard {
    dir: PathBuf,
    record: ShardRecord,
    summary: Summary,
    log: IntervalLog,
}

impl Shard {
    /// Reads the shard in `dir`: its index within its count (at most [`MAX_SHARDS`]), and its
    /// intervals adding up to its summary's totals.
    fn read(dir: &Path) -> Result<Self, MergeError> {
        let summary = read_summary(dir)?;
        let record = summary
            .shard
            .clone()
            .ok_or_else(|| MergeError::NotAShard(dir.to_owned()))?;
        let bad = |why: String| MergeError::BadShard {
            dir: dir.to_owned(),
            index: record.index,
            count: record.count,
            why,
        };
        if record.count == 0 || record.count > MAX_SHARDS {
            return Err(bad(format!("a test has 1 to {MAX_SHARDS} shards")));
        }
        if record.index >= record.count {
            return Err(bad(format!("shards count from 0 to {}", record.count - 1)));
        }
        let log = read_intervals(dir)?;
        let shard = Self {
            dir: dir.to_owned(),
            record,
            summary,
            log,
        };
        shard.check_totals()?;
        Ok(shard)
    }

    /// Whether the intervals add up to the figures the summary counts, so that a cut or edited
    /// `intervals.jsonl` is not merged as if it were the shard's load.
    fn check_totals(&self) -> Result<(), MergeError> {
        let mut own = Interval::new(0);
        for interval in &self.log.intervals {
            own.checked_merge(interval)
                .map_err(|source| self.unmergeable(source))?;
        }
        own.check_sums()
            .map_err(|source| self.unmergeable(source))?;
        let series = || own.series.iter().map(|(_, s)| s);
        let (max_vus, vus_allocated) = vus_figures(&self.log.intervals);
        let t = &self.summary.totals;
        let pairs = [
            ("requests", own.requests(), t.requests),
            ("failed requests", own.failures(), t.failures),
            ("iterations", own.iterations, t.iterations),
            (
                "dropped iterations",
                own.dropped_iterations,
                t.dropped_iterations,
            ),
            (
                "interrupted iterations",
                own.interrupted_iterations,
                t.interrupted_iterations,
            ),
            (
                "bytes sent",
                series().map(|s| s.bytes_sent).sum(),
                t.bytes_sent,
            ),
            (
                "bytes received",
                series().map(|s| s.bytes_received).sum(),
                t.bytes_received,
            ),
            (
                "checks passed",
                own.checks.iter().map(|c| c.0).sum(),
                t.checks_passed,
            ),
            (
                "checks failed",
                own.checks.iter().map(|c| c.1).sum(),
                t.checks_failed,
            ),
            ("max VUs", max_vus, t.max_vus),
            ("VUs allocated", vus_allocated, t.vus_allocated),
        ];
        match pairs.into_iter().find(|(_, a, b)| a != b) {
            Some((what, in_intervals, in_summary)) => Err(MergeError::Inconsistent {
                dir: self.dir.clone(),
                what,
                in_intervals,
                in_summary,
            }),
            None => Ok(()),
        }
    }

    fn unmergeable(&self, source: Unmergeable) -> MergeError {
        MergeError::Shard {
            dir: self.dir.clone(),
            source,
        }
    }

    /// What differs from `first`, when this is not a shard of the same test.
    fn differs_from(&self, first: &Shard) -> Option<&'static str> {
        let (mine, theirs) = (&self.record, &first.record);
        let thresholds = |s: &Summary| {
            s.thresholds
                .iter()
                .map(|t| (t.metric.clone(), t.condition.clone(), t.abort_on_fail))
                .collect::<Vec<_>>()
        };
        if mine.plan_sha256 != theirs.plan_sha256 {
            Some("the plan's SHA-256")
        } else if mine.start_at != theirs.start_at {
            Some("the start time")
        } else if mine.count != theirs.count {
            Some("the number of shards")
        } else if self.log.endpoints != first.log.endpoints
            || self.log.check_names != first.log.check_names
        {
            Some("the endpoint or check table")
        } else if thresholds(&self.summary) != thresholds(&first.summary) {
            Some("the thresholds")
        } else {
            None
        }
    }
}

/// Merges the shard results in `dirs`. Every shard of the test must be there once, all of the same
/// plan (hash), start time and thresholds, each one's intervals adding up to its own summary;
/// with `allow_partial`, missing shards are allowed and listed in the summary's `merged.missing`.
/// Counts that would pass `u64::MAX` are an error, never a wrap.
pub fn merge_shards(dirs: &[PathBuf], allow_partial: bool) -> Result<Merged, MergeError> {
    let first_dir = dirs.first().ok_or(MergeError::NoShards)?;
    let mut by_index: BTreeMap<u64, &PathBuf> = BTreeMap::new();
    let mut first: Option<Shard> = None;
    let mut seconds: BTreeMap<u64, Interval> = BTreeMap::new();
    let mut duration_seconds: f64 = 0.0;
    let mut open_model = false;
    // A shard stopped early stops the whole test's verdict.
    let mut stopped_early = None;
    // Each shard plans its share of the VUs: they add up.
    let mut vus_planned: u64 = 0;
    for dir in dirs {
        let shard = Shard::read(dir)?;
        if let Some(what) = first.as_ref().and_then(|head| shard.differs_from(head)) {
            return Err(MergeError::Foreign {
                dir: dir.clone(),
                first: first_dir.clone(),
                what: what.to_owned(),
            });
        }
        if let Some(other) = by_index.insert(shard.record.index, dir) {
            return Err(MergeError::Duplicate {
                index: shard.record.index,
                dirs: (other.clone(), dir.clone()),
            });
        }
        duration_seconds = duration_seconds.max(shard.summary.duration_seconds);
        open_model |= shard.summary.open_model;
        stopped_early = stopped_early.or_else(|| shard.summary.stopped_early.clone());
        vus_planned =
            crate::interval::checked(vus_planned, shard.summary.totals.vus_planned, "planned VUs")
                .map_err(|source| shard.unmergeable(source))?;
        for interval in &shard.log.intervals {
            seconds
                .entry(interval.second)
                .or_insert_with(|| Interval::new(interval.second))
                .checked_merge(interval)
                .map_err(|source| shard.unmergeable(source))?;
        }
        if first.is_none() {
            first = Some(shard);
        }
    }
    let head = first.expect("dirs is not empty");
    let count = head.record.count;
    let missing: Vec<u64> = (0..count).filter(|i| !by_index.contains_key(i)).collect();
    if !missing.is_empty() && !allow_partial {
        return Err(MergeError::Missing { missing, count });
    }
    let intervals: Vec<Interval> = seconds.into_values().collect();
    let mut total = Interval::new(0);
    for interval in &intervals {
        total.checked_merge(interval).map_err(MergeError::Sum)?;
    }
    total.check_sums().map_err(MergeError::Sum)?;
    let log = &head.log;
    let view = RunView {
        endpoints: &log.endpoints,
        check_names: &log.check_names,
        total: &total,
        duration_seconds,
    };
    // A script's custom metrics, which its thresholds may name, with the kinds the shards recorded.
    let custom: Vec<_> = total
        .custom
        .iter()
        .map(|(name, values)| (name.clone(), values.kind()))
        .collect();
    let thresholds = head
        .summary
        .thresholds
        .iter()
        .map(|t| {
            let threshold =
                Threshold::parse_with(&t.metric, &t.condition, t.abort_on_fail, &custom)?;
            Ok(threshold.evaluate(&view))
        })
        .collect::<Result<Vec<_>, ThresholdError>>()?;
    let per_second: Vec<(u64, u64)> = intervals.iter().map(|i| (i.second, i.requests())).collect();
    // Each merged second's VUs are the shards' sum in that second.
    let (max_vus, vus_allocated) = vus_figures(&intervals);
    let mut summary = Summary::build(SummaryInput {
        started_at: head.summary.started_at.clone(),
        duration_seconds,
        open_model,
        endpoints: &log.endpoints,
        check_names: &log.check_names,
        total: &total,
        requests_per_second: &per_second,
        max_vus,
        vus_allocated,
        thresholds,
        stopped_early,
    });
    summary.totals.vus_planned = vus_planned;
    summary.merged = Some(MergeRecord {
        count,
        plan_sha256: head.record.plan_sha256.clone(),
        start_at: head.record.start_at.clone(),
        shards: by_index.keys().copied().collect(),
        missing,
    });
    let started = humantime::parse_rfc3339(&head.record.start_at).unwrap_or(SystemTime::UNIX_EPOCH);
    Ok(Merged {
        endpoints: head.log.endpoints,
        intervals,
        summary,
        started,
    })
}

/// A run's `max_vus` and `vus_allocated` from its seconds, as the engine counts them: the busiest
/// second's VUs running at the peak, and allocated (never fewer than running).
fn vus_figures(intervals: &[Interval]) -> (u64, u64) {
    let max = |gauge: fn(&Interval) -> u64| intervals.iter().map(gauge).max().unwrap_or(0);
    let running = max(|i| i.gauges.vus_peak);
    (running, max(|i| i.gauges.vus_allocated).max(running))
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
