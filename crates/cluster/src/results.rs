//! What `scalelab sim --against` needs of a cluster run, written when the cluster starts and read back
//! with the run's own files:
//! - `offered-load.csv`: the plan's offered load in requests per second (a `seconds,value` trace);
//! - `policies/<group>.yaml`: each autoscaled group's policy as it ran (limits included), in the
//!   native format;
//! - `cluster.csv`, `events.csv`: the measured seconds, and each replica's launch and entry into
//!   service (its real start-up time).

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use scalelab_metrics::{ClusterRow, read_cluster};
use scalelab_scaling::Policy;
use scalelab_shape::Shape;

use crate::config::ClusterConfig;
use crate::events::{EventKind, read_events};

/// The file holding the plan's offered load.
pub const OFFERED_LOAD: &str = "offered-load.csv";
/// The directory holding each autoscaled group's policy.
pub const POLICIES: &str = "policies";

/// Why a results directory cannot be compared with the simulator.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

/// Writes `offered-load.csv` (when the plan offers an open-model load) and every autoscaled group's
/// policy into `dir`.
pub fn write_inputs(dir: &Path, config: &ClusterConfig, offered: Option<&Shape>) -> io::Result<()> {
    if let Some(shape) = offered {
        std::fs::write(dir.join(OFFERED_LOAD), scalelab_shape::csv_trace(shape))?;
    }
    for group in &config.groups {
        if let Some(policy) = group.policy() {
            let policies = dir.join(POLICIES);
            std::fs::create_dir_all(&policies)?;
            std::fs::write(
                policies.join(format!("{}.yaml", group.name)),
                policy.to_yaml(),
            )?;
        }
    }
    Ok(())
}

/// The measured start-up of a group's replicas: launch to first entry into service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Startup {
    /// The median over the replicas measured.
    pub median: Duration,
    /// The shortest and the longest.
    pub min: Duration,
    pub max: Duration,
    /// Replicas measured: those launched while the cluster ran, or the initial ones if none was.
    pub replicas: usize,
}

/// One autoscaled group's run, as `sim --against` compares it.
#[derive(Debug, Clone)]
pub struct GroupRun {
    pub group: String,
    /// Its seconds of `cluster.csv`, in order.
    pub rows: Vec<ClusterRow>,
    pub policy: Policy,
    pub startup: Startup,
    /// The offered load over the run's seconds: the plan's, then 0 to the end of the cool-down tail.
    pub offered: Shape,
}

impl GroupRun {
    /// Reads the run in `dir`, which must be of a cluster of one autoscaled group run with a plan of
    /// arrival-rate scenarios (the plan's offered load is the load balancer's, not a group's).
    pub fn read(dir: &Path) -> Result<Self, ResultsError> {
        let read = |path: PathBuf| move |source| ResultsError::Read { path, source };
        let invalid = |path: PathBuf, message: String| ResultsError::Invalid { path, message };
        let cluster = dir.join(ClusterRow::FILE);
        let rows = read_cluster(dir)
            .map_err(read(cluster.clone()))?
            .ok_or_else(|| {
                invalid(
                    cluster.clone(),
                    "not found: not the results of `scalelab cluster --out`".into(),
                )
            })?;
        let group = match rows.first() {
            None => {
                return Err(invalid(
                    cluster,
                    "no rows: the cluster ran no second".into(),
                ));
            }
            Some(first) => first.group.clone(),
        };
        if let Some(other) = rows.iter().find(|r| r.group != group) {
            return Err(invalid(
                cluster,
                format!(
                    "groups '{group}' and '{}': the plan's offered load reaches the whole load \
                     balancer, so only a cluster of one group can be compared",
                    other.group
                ),
            ));
        }
        let offered_path = dir.join(OFFERED_LOAD);
        if !offered_path.exists() {
            return Err(invalid(
                offered_path,
                "not found: the cluster ran without a plan, or its plan has virtual-user \
                 scenarios, whose rate depends on the latency they meet"
                    .into(),
            ));
        }
        let text =
            scalelab_config::read_text_bounded(&offered_path, scalelab_config::MAX_CONFIG_BYTES)
                .map_err(read(offered_path.clone()))?;
        let plan = scalelab_shape::parse_csv_trace(&text)
            .map_err(|e| invalid(offered_path, e.to_string()))?;
        let policy_path = dir.join(POLICIES).join(format!("{group}.yaml"));
        if !policy_path.exists() {
            return Err(invalid(
                policy_path,
                format!("not found: group '{group}' ran without a policy"),
            ));
        }
        let text =
            scalelab_config::read_text_bounded(&policy_path, scalelab_config::MAX_CONFIG_BYTES)
                .map_err(read(policy_path.clone()))?;
        let policy = Policy::from_yaml(&text).map_err(|e| invalid(policy_path, e.to_string()))?;
        let events = dir.join(crate::events::FILE);
        let startup = startup(dir, &group)?
            .ok_or_else(|| invalid(events, format!("no replica of '{group}' entered service")))?;
        let end = rows.last().map_or(0, |r| r.second + 1) as f64;
        Ok(Self {
            offered: over(&plan, end),
            group,
            rows,
            policy,
            startup,
        })
    }
}

/// The start-up of `group`'s replicas in `dir/events.csv`; `None` when none entered service.
fn startup(dir: &Path, group: &str) -> Result<Option<Startup>, ResultsError> {
    let events = read_events(dir).map_err(|source| ResultsError::Read {
        path: dir.join(crate::events::FILE),
        source,
    })?;
    let mut launched = std::collections::BTreeMap::new();
    let mut measured: Vec<(f64, f64)> = Vec::new();
    for event in events.iter().filter(|e| e.group == group) {
        let Some(replica) = event.replica else {
            continue;
        };
        match event.kind {
            EventKind::Launch => {
                launched.insert(replica, event.seconds);
            }
            EventKind::InService => {
                if let Some(at) = launched.remove(&replica) {
                    measured.push((at, event.seconds - at));
                }
            }
            _ => {}
        }
    }
    let during: Vec<f64> = measured
        .iter()
        .filter(|(at, _)| *at >= 0.0)
        .map(|m| m.1)
        .collect();
    let mut times = if during.is_empty() {
        measured.iter().map(|m| m.1).collect()
    } else {
        during
    };
    if times.is_empty() {
        return Ok(None);
    }
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median = if n % 2 == 1 {
        times[n / 2]
    } else {
        (times[n / 2 - 1] + times[n / 2]) / 2.0
    };
    let seconds = |s: f64| Duration::from_secs_f64(s.max(0.0));
    Ok(Some(Startup {
        median: seconds(median),
        min: seconds(times[0]),
        max: seconds(times[n - 1]),
        replicas: n,
    }))
}

/// `plan` over `[0, end]`: cut at `end`, or followed by 0 from its own end.
fn over(plan: &Shape, end: f64) -> Shape {
    let mut points: Vec<(f64, f64)> = plan
        .points()
        .iter()
        .copied()
        .filter(|(t, _)| *t < end)
        .collect();
    let plan_end = plan.duration().as_secs_f64();
    if plan_end < end {
        points.extend([
            (plan_end, plan.value_before(plan_end)),
            (plan_end, 0.0),
            (end, 0.0),
        ]);
    } else {
        points.push((end, plan.value_before(end)));
    }
    Shape::from_points(points).expect("a shape's own points, cut, keep their order")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventLog;

    const ONE_GROUP: &str = "groups:\n  - name: api\n    max: 3\n    policy:\n      \
                             target_tracking: {target: 50, period: 1s}\n";

    fn row(second: u64, group: &str) -> ClusterRow {
        ClusterRow {
            second,
            group: group.into(),
            desired: 1,
            in_service: 1,
            ..ClusterRow::default()
        }
    }

    fn write_rows(dir: &Path, rows: &[ClusterRow]) {
        let mut writer = csv::Writer::from_path(dir.join(ClusterRow::FILE)).unwrap();
        for row in rows {
            writer.serialize(row).unwrap();
        }
        writer.flush().unwrap();
    }

    #[test]
    fn a_run_reads_back_with_its_policy_load_and_median_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let config = ClusterConfig::from_yaml(ONE_GROUP).unwrap();
        // 10/s for 4 s, then the tail: the run lasts 6 s.
        let plan = Shape::constant(10.0, Duration::from_secs(4));
        write_inputs(dir.path(), &config, Some(&plan)).unwrap();
        write_rows(
            dir.path(),
            &(0..6).map(|s| row(s, "api")).collect::<Vec<_>>(),
        );
        // Replica 0 starts before the clock (1.5 s); 1, 2 and 3 while it runs: 2, 3 and 5 s.
        let log = EventLog::new(Some(dir.path()), false).unwrap();
        log.record("api", Some(0), EventKind::Launch, String::new());
        std::thread::sleep(Duration::from_millis(10));
        log.record("api", Some(0), EventKind::InService, String::new());
        log.start_clock();
        drop(log);
        let mut events = std::fs::read_to_string(dir.path().join(crate::events::FILE)).unwrap();
        for (replica, launch, in_service) in [(1, 1.0, 3.0), (2, 1.0, 4.0), (3, 2.0, 7.0)] {
            events.push_str(&format!(
                "{launch},api,{replica},launch,\n{in_service},api,{replica},in_service,\n"
            ));
        }
        std::fs::write(dir.path().join(crate::events::FILE), events).unwrap();

        let run = GroupRun::read(dir.path()).unwrap();
        assert_eq!(run.group, "api");
        assert_eq!(run.rows.len(), 6);
        assert_eq!(run.policy, config.groups[0].policy().unwrap());
        assert_eq!(
            run.startup,
            Startup {
                median: Duration::from_secs(3),
                min: Duration::from_secs(2),
                max: Duration::from_secs(5),
                replicas: 3,
            }
        );
        assert_eq!(run.offered.duration(), Duration::from_secs(6));
        assert_eq!(
            (run.offered.value(3.9), run.offered.value(4.5)),
            (10.0, 0.0)
        );
        assert_eq!(run.offered.integral(6.0), 40.0);
    }

    #[test]
    fn what_cannot_be_compared_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let error = GroupRun::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("cluster.csv: not found"), "{error}");
        write_rows(dir.path(), &[row(0, "api"), row(0, "web")]);
        let error = GroupRun::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("groups 'api' and 'web'"), "{error}");
        write_rows(dir.path(), &[row(0, "api")]);
        let error = GroupRun::read(dir.path()).unwrap_err().to_string();
        assert!(error.contains("offered-load.csv: not found"), "{error}");
        let config = ClusterConfig::from_yaml("groups: [{name: api, max: 1}]\n").unwrap();
        write_inputs(
            dir.path(),
            &config,
            Some(&Shape::constant(1.0, Duration::from_secs(1))),
        )
        .unwrap();
        let error = GroupRun::read(dir.path()).unwrap_err().to_string();
        assert!(
            error.contains("group 'api' ran without a policy"),
            "{error}"
        );
    }

    #[test]
    fn a_longer_plan_is_cut_at_the_runs_end() {
        let plan = Shape::from_points(vec![(0.0, 0.0), (10.0, 10.0)]).unwrap();
        let cut = over(&plan, 5.0);
        assert_eq!(cut.points(), &[(0.0, 0.0), (5.0, 5.0)]);
    }
}
