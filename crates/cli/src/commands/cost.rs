//! `scalelab cost`: prices a fixed fleet, a weekly schedule or a `sim` timeline, and the saving of the
//! dynamic option against the fixed fleet.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use scalelab_capacity::{
    ScaleInOrder, WeeklySchedule, billed_seconds, cost_per_million, lifetimes_from_changes,
    saving_percent,
};

use crate::commands::sim::{TIMELINE_HEADER, load_catalog};
use crate::files::read_text;
use scalelab_report::{table, usd};

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
    /// A timeline CSV written by `scalelab sim`; the fixed fleet then runs as long as it.
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

/// One priced option.
struct Priced {
    what: String,
    instance_hours: f64,
    cost: f64,
    per_million: Option<f64>,
}

pub fn run(args: CostArgs) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(args.prices.as_ref())?;
    println!("prices: {} (as of {})", catalog.description, catalog.as_of);
    if args.list {
        let rows: Vec<Vec<String>> = catalog
            .instances
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    i.vcpus.to_string(),
                    format!("{}", i.memory_gib),
                    usd(i.usd_per_hour),
                ]
            })
            .collect();
        print!(
            "{}",
            table(&["instance type", "vCPUs", "memory GiB", "per hour"], &rows)
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
    let price = instance.usd_per_hour;
    let priced = |what: String, instance_hours: f64, requests: Option<f64>| {
        let cost = instance_hours * price;
        Priced {
            what,
            instance_hours,
            cost,
            per_million: requests.and_then(|r| cost_per_million(cost, r)),
        }
    };

    let mut dynamic = None;
    let mut hours = args.hours.or(args.weeks.map(|w| w * 168.0));
    let mut requests = None;
    if let Some(path) = &args.timeline {
        let timeline = read_timeline(&read_text(path, "timeline")?, args.scale_in)
            .with_context(|| format!("timeline {}", path.display()))?;
        hours = Some(timeline.hours);
        requests = Some(timeline.served_requests);
        dynamic = Some(priced(
            format!("timeline {}", path.display()),
            timeline.instance_hours,
            requests,
        ));
    }
    if let Some(text) = &args.schedule {
        let schedule = WeeklySchedule::parse(text)?;
        let Some(weeks) = args.weeks else {
            bail!("--schedule needs --weeks (how many weeks it runs)");
        };
        dynamic = Some(priced(
            format!("schedule '{text}' for {weeks} weeks"),
            schedule.instance_hours_per_week() * weeks,
            None,
        ));
    }
    let fixed = match (args.fixed, hours) {
        (Some(count), Some(hours)) => Some(priced(
            format!("fixed: {count} x {name} for {hours} h"),
            f64::from(count) * hours,
            requests,
        )),
        (Some(_), None) => bail!("--fixed needs --weeks, --hours or --timeline (how long it runs)"),
        (None, _) => None,
    };
    let options: Vec<&Priced> = fixed.iter().chain(dynamic.iter()).collect();
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
                p.per_million.map_or("-".into(), usd),
            ]
        })
        .collect();
    print!(
        "{}",
        table(
            &["fleet", "instance-hours", "cost", "per million requests"],
            &rows,
        )
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

/// What `cost` needs from a `sim` timeline.
struct Timeline {
    hours: f64,
    instance_hours: f64,
    served_requests: f64,
}

/// Rebuilds instance lifetimes from a `sim` timeline: the instances at the start, then the launches and
/// terminations at the end of each step.
fn read_timeline(text: &str, order: Order) -> anyhow::Result<Timeline> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    if header != TIMELINE_HEADER {
        bail!(
            "line 1: not a timeline written by `scalelab sim` (expected the header '{TIMELINE_HEADER}')"
        );
    }
    let mut changes = Vec::new();
    let (mut end, mut served) = (0.0, 0.0);
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        let fields: Vec<&str> = line.splitn(14, ',').collect();
        let field = |column: usize, name: &str| -> anyhow::Result<f64> {
            fields
                .get(column)
                .and_then(|f| f.parse::<f64>().ok())
                .with_context(|| format!("line {number}: column {name} is not a number"))
        };
        if changes.is_empty() {
            let initial = field(3, "in_service")? + field(4, "pending")?;
            changes.push((0.0, initial as u32, 0));
        }
        end = field(1, "end_s")?;
        served += field(8, "served_requests")?;
        changes.push((
            end,
            field(11, "launched")? as u32,
            field(12, "terminated")? as u32,
        ));
    }
    if changes.is_empty() {
        bail!("the timeline has no rows");
    }
    let order = match order {
        Order::Newest => ScaleInOrder::Newest,
        Order::Oldest => ScaleInOrder::Oldest,
    };
    let lifetimes = lifetimes_from_changes(changes, end, order);
    Ok(Timeline {
        hours: end / 3600.0,
        instance_hours: billed_seconds(&lifetimes) / 3600.0,
        served_requests: served,
    })
}
