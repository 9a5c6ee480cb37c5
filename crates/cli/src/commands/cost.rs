//! `scalelab cost`: prices a fixed fleet, a weekly schedule or a `sim` timeline, and the saving of the
//! dynamic option against the fixed fleet.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use clap::{Args, ValueEnum};
use scalelab_capacity::commitment::{Term, cheapest_mix};
use scalelab_capacity::quote::{self, Quote};
use scalelab_capacity::{MAX_INSTANCES, PodPrices, ScaleInOrder, WeeklySchedule, saving_percent};
use scalelab_scaling::read_usage;

use crate::commands::sim::load_catalog;
use scalelab_report::{table, usd};

#[derive(Args)]
pub struct CostArgs {
    /// Instance type to price (see --list).
    #[arg(long, required_unless_present_any = ["list", "pod_cpu"])]
    instance_type: Option<String>,
    /// Price the timeline's replicas as Kubernetes pods requesting this many vCPUs (OpenCost's default
    /// per vCPU-hour and GiB-hour prices) instead of as instances.
    #[arg(long, requires_all = ["pod_memory_gib", "timeline"], conflicts_with_all = ["instance_type", "prices", "schedule", "list"])]
    pod_cpu: Option<f64>,
    /// Memory each pod requests, in GiB (with --pod-cpu).
    #[arg(long, requires = "pod_cpu")]
    pod_memory_gib: Option<f64>,
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
    #[arg(long)]
    schedule: Option<String>,
    /// Weeks the fixed fleet and the schedule run; a shorter timeline repeats to fill them.
    #[arg(long, conflicts_with = "hours")]
    weeks: Option<f64>,
    /// Hours the fixed fleet runs (instead of --weeks); a shorter timeline repeats to fill them.
    #[arg(long)]
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

impl From<Order> for ScaleInOrder {
    fn from(order: Order) -> Self {
        match order {
            Order::Newest => Self::Newest,
            Order::Oldest => Self::Oldest,
        }
    }
}

pub fn run(args: CostArgs) -> anyhow::Result<ExitCode> {
    if let Some(count) = args.fixed
        && count > MAX_INSTANCES
    {
        bail!("--fixed {count} must be at most {MAX_INSTANCES} instances");
    }
    if let (Some(vcpus), Some(gib)) = (args.pod_cpu, args.pod_memory_gib) {
        return pods(&args, vcpus, gib);
    }
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
                    unit_price(i.usd_per_hour),
                    or_dash(i.reserved_1y, unit_price),
                    or_dash(i.reserved_3y, unit_price),
                    or_dash(i.baseline_pct, |v| format!("{v}")),
                    or_dash(i.credits_per_hour, |v| format!("{v}")),
                    or_dash(i.max_credits, |v| format!("{v}")),
                ]
            })
            .collect();
        print!(
            "{}",
            table(
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
            )
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
        unit_price(instance.usd_per_hour)
    );

    if let Some(weeks) = args.weeks
        && !(weeks.is_finite() && weeks > 0.0 && weeks <= 520.0)
    {
        bail!("--weeks {weeks} must be above 0 and at most 520");
    }
    if let Some(hours) = args.hours
        && !(hours.is_finite() && hours > 0.0 && hours <= 87_600.0)
    {
        bail!("--hours {hours} must be above 0 and at most 87600");
    }
    let usage = match &args.timeline {
        Some(path) => Some(read_usage(path, args.scale_in.into())?),
        None => None,
    };
    // The period priced: --weeks or --hours, else the timeline's length.
    let hours = args
        .hours
        .or(args.weeks.map(|w| w * 168.0))
        .or(usage.as_ref().map(|u| u.hours()));
    let mut repeats = 1.0;
    if let (Some(usage), Some(hours), Some(path)) = (&usage, hours, &args.timeline) {
        if usage.seconds <= 0.0 {
            bail!("the timeline {} lasts 0 s", path.display());
        }
        repeats = hours / usage.hours();
        if repeats < 1.0 - 1e-9 {
            bail!(
                "the period ({hours} h) is shorter than the timeline ({} h)",
                round4(usage.hours())
            );
        }
        if repeats > 1.0 + 1e-9 {
            println!(
                "the timeline ({} h) repeats {} times to fill {hours} h\n",
                round4(usage.hours()),
                round4(repeats)
            );
        }
    }
    let requests = usage.as_ref().map(|u| u.served_requests * repeats);

    let mut options: Vec<Quote> = Vec::new();
    match (args.fixed, hours) {
        (Some(count), Some(hours)) => options.push(Quote {
            requests,
            ..quote::fixed(instance, count, hours)
        }),
        (Some(_), None) => bail!("--fixed needs --weeks, --hours or --timeline (how long it runs)"),
        (None, _) => {}
    }
    if let Some(text) = &args.schedule {
        let schedule = WeeklySchedule::parse(text)?;
        let Some(weeks) = args.weeks else {
            bail!("--schedule needs --weeks (how many weeks it runs)");
        };
        options.push(Quote {
            requests,
            ..quote::scheduled(instance, &schedule, text, weeks)
        });
    }
    let mut break_even = Vec::new();
    if let (Some(usage), Some(path)) = (&usage, &args.timeline) {
        let mut on_demand = quote::on_demand(instance, usage, repeats);
        on_demand.what = format!("timeline {}, on demand", path.display());
        options.push(on_demand);
        for term in [Term::OneYear, Term::ThreeYears] {
            match cheapest_mix(instance, usage, repeats, term) {
                Some(mix) => {
                    break_even.push(format!(
                        "a {} reservation ({}/h) pays off when used more than {:.1} % of the hours",
                        term.label(),
                        unit_price(term.price(instance).unwrap_or_default()),
                        mix.break_even * 100.0
                    ));
                    options.push(mix.quote);
                }
                None => break_even.push(format!(
                    "no {} reserved price for {} in the catalog: no commitment mix (see --prices)",
                    term.label(),
                    instance.name
                )),
            }
        }
    }
    if options.is_empty() {
        bail!("nothing to price: give --fixed, --schedule or --timeline");
    }
    print!("{}", quotes_table(["fleet", "instance-hours"], &options));
    let cheapest = options
        .iter()
        .min_by(|a, b| a.cost.total_cmp(&b.cost))
        .expect("at least one option");
    println!();
    for line in &break_even {
        println!("{line}");
    }
    if options.len() > 1 {
        println!("cheapest: {}", cheapest.what);
        for other in options.iter().filter(|o| !std::ptr::eq(*o, cheapest)) {
            println!("{}", saving(cheapest, other));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The timeline's replicas priced as pods by their requests.
fn pods(args: &CostArgs, vcpus: f64, gib: f64) -> anyhow::Result<ExitCode> {
    for (name, value) in [("--pod-cpu", vcpus), ("--pod-memory-gib", gib)] {
        if !(value.is_finite() && value > 0.0 && value <= 1024.0) {
            bail!("{name} {value} must be above 0 and at most 1024");
        }
    }
    let prices = PodPrices::OPENCOST_DEFAULT;
    println!("prices: {}\nsource: {}", prices.description, prices.source);
    println!(
        "a pod requesting {vcpus} vCPU and {gib} GiB: {}/h\n",
        usd(prices.per_pod_hour(vcpus, gib))
    );
    let path = args.timeline.as_ref().expect("clap requires --timeline");
    let usage = read_usage(path, args.scale_in.into())?;
    let hours = args
        .hours
        .or(args.weeks.map(|w| w * 168.0))
        .unwrap_or(usage.hours());
    let repeats = hours / usage.hours();
    if repeats.is_nan() || repeats < 1.0 - 1e-9 {
        bail!(
            "the period ({hours} h) is shorter than the timeline ({} h)",
            round4(usage.hours())
        );
    }
    let mut options = vec![];
    if let Some(count) = args.fixed {
        options.push(Quote {
            requests: Some(usage.served_requests * repeats),
            ..prices.fixed(count, hours, vcpus, gib)
        });
    }
    let mut timeline = prices.usage(&usage, vcpus, gib, repeats);
    timeline.what = format!("timeline {}, {}", path.display(), timeline.what);
    options.push(timeline);
    print!("{}", quotes_table(["pods", "pod-hours"], &options));
    if let [fixed, dynamic] = &options[..] {
        println!("\n{}", saving(dynamic, fixed));
    }
    Ok(ExitCode::SUCCESS)
}

/// `saving: 44.4 % ($0.0128 of $0.0288) against <other>`: what `cheaper` saves against `other`.
/// The quotes as a table: what, hours, cost, cost per million requests.
fn quotes_table([what, hours]: [&str; 2], quotes: &[Quote]) -> String {
    let rows: Vec<Vec<String>> = quotes
        .iter()
        .map(|q| {
            vec![
                q.what.clone(),
                format!("{}", round4(q.instance_hours)),
                usd(q.cost),
                q.per_million().map_or("-".into(), usd),
            ]
        })
        .collect();
    table(&[what, hours, "cost", "per million requests"], &rows)
}

fn saving(cheaper: &Quote, other: &Quote) -> String {
    format!(
        "saving: {:.1} % ({} of {}) against {}",
        saving_percent(other.cost, cheaper.cost),
        usd(other.cost - cheaper.cost),
        usd(other.cost),
        other.what
    )
}

/// A catalog's hourly price as the catalog gives it: `$0.0116`, `$0.10`, and `$0.006735` rather than
/// the four decimals [`usd`] keeps of an amount.
fn unit_price(price: f64) -> String {
    if round4(price) == price {
        usd(price)
    } else {
        format!("${price}")
    }
}

fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}
