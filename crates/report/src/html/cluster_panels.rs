//! Panels of a cluster run (`scalelab cluster --plan --out`): replicas, CPU, memory and load-balancer
//! requests per group, on the same time axis as the load (the cluster's second 0 is the plan's).

use std::collections::BTreeMap;

use super::chart::{Line, Panel};
use scalelab_metrics::ClusterRow;

const GROUP_COLORS: [&str; 6] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
];

/// One panel per figure, one line per group (replicas: in service solid, desired dashed).
pub fn cluster_panels(rows: &[ClusterRow]) -> Vec<Panel> {
    let mut by_group: BTreeMap<&str, Vec<&ClusterRow>> = BTreeMap::new();
    for row in rows {
        by_group.entry(row.group.as_str()).or_default().push(row);
    }
    if by_group.is_empty() {
        return Vec::new();
    }
    let lines = |value: fn(&ClusterRow) -> Option<f64>, suffix: &str, dashed: bool| -> Vec<Line> {
        by_group
            .iter()
            .enumerate()
            .map(|(i, (group, rows))| Line {
                label: format!("{group}{suffix}"),
                color: GROUP_COLORS[i % GROUP_COLORS.len()],
                dashed,
                points: rows
                    .iter()
                    .filter_map(|row| value(row).map(|v| (row.second as f64, v)))
                    .collect(),
            })
            .collect()
    };
    let mut replicas = lines(|r| Some(f64::from(r.in_service)), " in service", false);
    replicas.extend(lines(|r| Some(f64::from(r.desired)), " desired", true));
    vec![
        Panel {
            title: "Replicas".into(),
            unit: "replicas".into(),
            note: "Replicas in service (passing health checks) and the capacity the autoscaler wants, per group, at the end of each second.".into(),
            lines: replicas,
        },
        Panel {
            title: "CPU per replica".into(),
            unit: "% of vcpus".into(),
            note: "Average CPU utilisation of a group's replicas: CPU seconds used / (elapsed × vcpus). Replicas share the host's cores.".into(),
            lines: lines(|r| r.cpu_avg_pct, "", false),
        },
        Panel {
            title: "Memory per replica".into(),
            unit: "MiB".into(),
            note: "Average resident memory of a group's replicas (process groups).".into(),
            lines: lines(|r| r.memory_avg_mib, "", false),
        },
        Panel {
            title: "Load balancer requests per second".into(),
            unit: "requests/s".into(),
            note: "Requests the load balancer completed for each group in each second.".into(),
            lines: lines(|r| Some(r.requests as f64), "", false),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        second: u64,
        group: &str,
        in_service: u32,
        desired: u32,
        cpu: Option<f64>,
    ) -> ClusterRow {
        ClusterRow {
            second,
            group: group.into(),
            in_service,
            desired,
            cpu_avg_pct: cpu,
            ..ClusterRow::default()
        }
    }

    #[test]
    fn a_line_per_group_and_no_panels_without_a_cluster() {
        assert!(cluster_panels(&[]).is_empty());
        let rows = [
            row(0, "api", 1, 1, None),
            row(0, "web", 2, 2, Some(10.0)),
            row(1, "api", 1, 3, Some(90.0)),
        ];
        let panels = cluster_panels(&rows);
        let replicas = &panels[0];
        let labels: Vec<&str> = replicas.lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "api in service",
                "web in service",
                "api desired",
                "web desired"
            ]
        );
        assert_eq!(replicas.lines[2].points, [(0.0, 1.0), (1.0, 3.0)]);
        assert!(replicas.lines[2].dashed);
        // A second without a CPU measurement is left out, not drawn as 0.
        assert_eq!(panels[1].lines[0].points, [(1.0, 90.0)]);
    }
}
