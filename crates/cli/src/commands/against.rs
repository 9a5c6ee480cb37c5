//! `scalelab sim --against RESULTS_DIR`: a `scalelab cluster` run replayed in the simulator (its
//! offered load, policy and measured start-up, with a capacity model fitted from the run or given)
//! and set beside what the run measured; prints the figures and events, writes the simulated
//! timeline and the report overlaying both timelines.

use std::path::Path;
use std::process::ExitCode;

use crate::files::write_result;
use anyhow::Context;
use scalelab_capacity::LinearCapacity;
use scalelab_cluster::results::{GroupRun, POLICIES};
use scalelab_report::{against_report, against_tables, table, usd};
use scalelab_scaling::{Against, compare, timeline_csv};

use super::sim::Scenario;

pub fn run(dir: &Path, scenario: &Scenario, out: &Path, report: &Path) -> anyhow::Result<ExitCode> {
    let run = GroupRun::read(dir)?;
    let (model, origin) = match scenario.model()? {
        Some(model) => (model, "given".to_owned()),
        None => {
            let fit = scalelab_probe::fit::cluster_fit(&run.rows)
                .with_context(|| format!("fitting CPU against load in {}", dir.display()))?;
            let model = LinearCapacity::new(fit.slope, fit.intercept.clamp(0.0, 99.0))?;
            (
                model,
                format!(
                    "fitted on {} seconds of the run, R² {:.3}",
                    fit.points, fit.r2
                ),
            )
        }
    };
    let instance = scenario.instance()?;
    let comparison = compare(&Against {
        rows: &run.rows,
        offered: &run.offered,
        policy: &run.policy,
        startup: run.startup.median,
        model,
        cpu_limit: scenario.cpu_limit,
        usd_per_hour: instance.as_ref().map(|(i, _)| i.usd_per_hour),
    })?;
    let startup = run.startup;
    let (s, m) = (&comparison.simulated, &comparison.measured);
    let mut lines = vec![
        format!(
            "replayed group '{}' of {}: {} s, a step per second, the plan's offered load and \
             {POLICIES}/{}.yaml",
            run.group,
            dir.display(),
            run.rows.len(),
            run.group
        ),
        format!(
            "capacity model: CPU % = {:.4} x requests/s per replica + {:.2} ({origin})",
            model.coefficient, model.base
        ),
        format!(
            "start-up: {:.1} s (median of {} replicas; {:.1} to {:.1} s)",
            startup.median.as_secs_f64(),
            startup.replicas,
            startup.min.as_secs_f64(),
            startup.max.as_secs_f64()
        ),
        format!(
            "max replicas: {} simulated, {} measured; scale-outs {} (within {:.1} s: evaluation \
             period {} s + start-up)",
            s.max_replicas,
            m.max_replicas,
            if comparison.scale_outs_on_time() {
                "on time"
            } else {
                "NOT on time"
            },
            comparison.tolerance(),
            comparison.evaluation_period.as_secs_f64()
        ),
    ];
    let price = instance
        .as_ref()
        .map(|(i, _)| format!("{} at {}/h", i.name, usd(i.usd_per_hour)));
    if let Some((_, catalog)) = &instance {
        lines.push(format!("prices: {catalog}"));
    }
    let tables = against_tables(&comparison, scenario.cpu_limit, price.as_deref());
    for line in &lines {
        println!("{line}");
    }
    for t in &tables {
        let header: Vec<&str> = t.header.iter().map(String::as_str).collect();
        print!("\n{}\n{}", t.caption, table(&header, &t.rows));
    }
    let out = write_result(
        out,
        timeline_csv(&comparison.simulation.timeline).as_bytes(),
    )?;
    let page = against_report(&comparison, &run.rows, &lines, &tables, scenario.cpu_limit);
    let report = write_result(report, page.as_bytes())?;
    println!("\ntimeline: {out}");
    println!("report: {report}");
    Ok(ExitCode::SUCCESS)
}
