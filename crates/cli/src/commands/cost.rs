//! `scalelab cost`: prices a fixed fleet, a weekly schedule or a `sim` timeline, and the saving of the
//! dynamic option against the fixed fleet.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, ValueEnum};
use scalelab_capacity::quote::{self, Quote};
use scalelab_capacity::{ScaleInOrder, WeeklySchedule, saving_percent};
use scalelab_scaling::read_usage;

use crate::commands::sim::load_catalog;
use crate::files::{print_table, usd};

#[derive(Args)]
pub struct CostArgs {
    /// Instance type to price (see --list).
    #[arg(long, required_unless_present = "list")]
    instance_type: Option<String>,
    /// Price catalog CSV instead of the built-in one.
    #[arg(long)]
    prices: Option<PathBuf>,
    /// Print the catalog and exit.
    #[arg(long)]
    list: bool,
    /// A fixed fleet of this many instances, around the clock.
    #[arg(long)]
    fixed: Option<u32>,
    /// Weekly schedule, e.g. 'mon-fri 08:00-20:00=5, otherwise=1'.
    #[arg(long, conflicts_with = "timeline")]
    schedule: Option<String>,
    /// Weeks the fixed fleet and the schedule run.
    #[arg(long, conflicts_with_all = ["hours", "timeline"])]
    weeks: Option<f64>,
    /// Hours the fixed fleet runs (instead of --weeks).
    #[arg(long, conflicts_with = "timeline")]
    hours: Option<f64>,
    /// A timeline CSV written by `scalelab sim`, or a `scalelab cluster` results directory; the fixed
    /// fleet then runs as long as it.
    #[arg(long)]
    timeline: Option<PathBuf>,
    /// Which instances the timeline's scale-ins removed (as the policy's scale_in).
    #[arg(long, value_enum, default_value_t = Order::Newest, requires = "timeline")]
    scale_in: Order,
}

#[derive(Clone, Copy, ValueEnum)]
enum Order {
    Newest,
    Oldest,
}

pub fn run(args: CostArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(args.prices.as_ref())?;
    println!("prices: {} (as of {})", catalog.description, catalog.as_of);
    if args.list {
        let rows: Vec<Vec<String>> = catalog
            .instances
            .iter()
            .map(|i| {
                let or_dash = |v: Option<f64>, show: fn(f64) -> String| v.map_or("-".into(), show);
                vec![
                    i.name.clone(),
                    i.vcpus.to_string(),
                    format!("{}", i.memory_gib),
                    usd(i.usd_per_hour),
                    or_dash(i.reserved_1y, usd),
                    or_dash(i.reserved_3y, usd),
                    or_dash(i.baseline_pct, |v| format!("{v}")),
                    or_dash(i.credits_per_hour, |v| format!("{v}")),
                    or_dash(i.max_credits, |v| format!("{v}")),
                ]
            })
            .collect();
        print_table(
            &[
                "instance type",
                "vCPUs",
                "memory GiB",
                "on demand /h",
                "1y /h",
                "3y /h",
                "baseline % per vCPU",
                "credits/h",
                "max credits",
            ],
            &rows,
        );
        return Ok(ExitCode::SUCCESS);
    }
    let name = args
        .instance_type
        .as_deref()
        .expect("clap requires --instance-type");
    let instance = catalog.find(name)?;
    println!(
        "{}: {} vCPU, {} GiB, {}/h\n",
        instance.name,
        instance.vcpus,
        instance.memory_gib,
        usd(instance.usd_per_hour)
    );

    let mut dynamic = None;
    let mut hours = args.hours.or(args.weeks.map(|w| w * 168.0));
    let mut requests = None;
    if let Some(path) = &args.timeline {
        let order = match args.scale_in {
            Order::Newest => ScaleInOrder::Newest,
            Order::Oldest => ScaleInOrder::Oldest,
        };
        let usage = read_usage(path, order)?;
        hours = Some(usage.hours());
        requests = Some(usage.served_requests);
        let mut priced = quote::on_demand(instance, &usage, 1.0);
        priced.what = format!("timeline {}", path.display());
        dynamic = Some(priced);
    }
    if let Some(text) = &args.schedule {
        let schedule = WeeklySchedule::parse(text)?;
        let Some(weeks) = args.weeks else {
            bail!("--schedule needs --weeks (how many weeks it runs)");
        };
        dynamic = Some(quote::scheduled(instance, &schedule, text, weeks));
    }
    let fixed = match (args.fixed, hours) {
        (Some(count), Some(hours)) => Some(Quote {
            requests,
            ..quote::fixed(instance, count, hours)
        }),
        (Some(_), None) => bail!("--fixed needs --weeks, --hours or --timeline (how long it runs)"),
        (None, _) => None,
    };
    let options: Vec<&Quote> = fixed.iter().chain(dynamic.iter()).collect();
    if options.is_empty() {
        bail!("nothing to price: give --fixed, --schedule or --timeline");
    }
    let rows: Vec<Vec<String>> = options
        .iter()
        .map(|p| {
            vec![
                p.what.clone(),
                format!("{}", round4(p.instance_hours)),
                usd(p.cost),
                p.per_million().map_or("-".into(), usd),
            ]
        })
        .collect();
    print_table(
        &["fleet", "instance-hours", "cost", "per million requests"],
        &rows,
    );
    if let (Some(fixed), Some(dynamic)) = (&fixed, &dynamic) {
        println!(
            "\nsaving: {:.1} % ({} of {})",
            saving_percent(fixed.cost, dynamic.cost),
            usd(fixed.cost - dynamic.cost),
            usd(fixed.cost)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}
