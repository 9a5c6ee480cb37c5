//! `scalelab sweep`: a grid of policy parameters simulated in parallel, ranked by an objective
//! under a constraint; prints the top rows and writes the full table as CSV.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{ArgGroup, Args};
use scalelab_report::{SweepPage, SweepPoint, sweep_report};
use scalelab_scaling::{Objective, Sweep, parse_range, sweep, sweep_csv};

use crate::commands::sim::{Scenario, name_value};
use crate::files::write_result;
use scalelab_report::{number, table, usd};

#[derive(Args)]
#[command(group(ArgGroup::new("objective").required(true).args(["maximize", "minimize"])))]
pub struct SweepArgs {
    #[command(flatten)]
    scenario: Scenario,
    /// A grid parameter: NAME=FROM..TO[:STEP] or NAME=A,B,C (repeatable; the first varies slowest).
    #[arg(long = "param", value_name = "NAME=RANGE", value_parser = name_value, required = true)]
    params: Vec<(String, String)>,
    /// A parameter computed from others, e.g. 'lower_threshold=round(upper_threshold*0.7)' (repeatable).
    #[arg(long = "derive", value_name = "NAME=EXPR", value_parser = name_value)]
    derived: Vec<(String, String)>,
    /// Only rank rows for which this is true, e.g. 'max_cpu<50'.
    #[arg(long = "where", value_name = "EXPR")]
    constraint: Option<String>,
    /// Rank by this summary figure, highest first.
    #[arg(long, value_name = "FIGURE")]
    maximize: Option<String>,
    /// Rank by this summary figure, lowest first.
    #[arg(long, value_name = "FIGURE")]
    minimize: Option<String>,
    /// Rows to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Where to write the full table.
    #[arg(long, default_value = "results/sweep.csv")]
    out: PathBuf,
    /// Where to write the HTML report (best rows, mean CPU against max CPU of every combination).
    #[arg(long, default_value = "results/sweep-report.html")]
    report: PathBuf,
}

pub fn run(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.scenario.load()?;
    let params = args
        .params
        .iter()
        .map(|(name, range)| {
            parse_range(range)
                .map(|values| (name.clone(), values))
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("--param {name}={range}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let objective = match (&args.maximize, &args.minimize) {
        (Some(figure), _) => Objective {
            figure: figure.clone(),
            maximize: true,
        },
        (None, Some(figure)) => Objective {
            figure: figure.clone(),
            maximize: false,
        },
        (None, None) => unreachable!("clap requires --maximize or --minimize"),
    };
    let spec = Sweep {
        params,
        derived: args.derived.clone(),
        constraint: args.constraint.clone(),
        objective,
    };
    let rows = sweep(
        &loaded.policy,
        &loaded.shape,
        &loaded.model,
        &loaded.config,
        &spec,
    )?;
    let out = write_result(&args.out, sweep_csv(&spec, &rows).as_bytes())?;

    let ranked = rows.iter().filter(|r| r.rank.is_some()).count();
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    let headline = format!(
        "{} combinations simulated on {} threads; {ranked} meet {}{}",
        rows.len(),
        rayon::current_num_threads(),
        args.constraint.as_deref().unwrap_or("no constraint"),
        if failed > 0 {
            format!("; {failed} are not valid policies (see the CSV)")
        } else {
            String::new()
        }
    );
    println!("{headline}");
    let direction = if spec.objective.maximize {
        "highest"
    } else {
        "lowest"
    };
    let ranking = format!("ranked by {}, {direction} first", spec.objective.figure);
    println!("{ranking}\n");
    let columns = spec.columns();
    let mut headers = vec!["rank"];
    headers.extend(&columns);
    headers.extend(["max_cpu", "mean_cpu", "unserved", "inst_h", "events"]);
    let credits = loaded.config.credits.is_some();
    if credits {
        headers.push("throttled_s");
    }
    if loaded.config.usd_per_hour.is_some() {
        headers.push("cost");
    }
    let printed: Vec<Vec<String>> = rows
        .iter()
        .take_while(|r| r.rank.is_some())
        .take(args.top)
        .map(|row| {
            let s = row.summary.expect("ranked rows were simulated");
            let mut cells = vec![row.rank.unwrap_or_default().to_string()];
            cells.extend(row.values.iter().map(|v| format!("{v}")));
            cells.extend([
                number(s.max_cpu, 1),
                number(s.mean_cpu, 1),
                number(s.unserved_requests, 0),
                number(s.instance_hours, 2),
                s.scaling_events.to_string(),
            ]);
            if credits {
                cells.push(number(s.throttled_seconds, 0));
            }
            cells.extend(s.cost.map(usd));
            cells
        })
        .collect();
    if printed.is_empty() {
        println!("  no combination meets the constraint");
    } else {
        print!("{}", table(&headers, &printed));
    }
    let points: Vec<SweepPoint> = rows
        .iter()
        .filter_map(|row| {
            row.summary.map(|s| SweepPoint {
                mean_cpu: s.mean_cpu,
                max_cpu: s.max_cpu,
                meets: row.rank.is_some(),
                rank: row.rank,
            })
        })
        .collect();
    let page = SweepPage {
        lines: &[headline, ranking],
        headers: &headers,
        best: &printed,
        points: &points,
        constraint: args.constraint.as_deref(),
    };
    let report = write_result(&args.report, sweep_report(&page).as_bytes())?;
    println!("\nfull table: {out}");
    println!("report: {report}");
    Ok(ExitCode::SUCCESS)
}
