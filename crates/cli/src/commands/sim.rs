//! `scalelab sim`: a policy over a traffic shape in virtual time; writes the timeline CSV and prints
//! the summary.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use scalelab_capacity::{InstanceType, LinearCapacity, PriceCatalog, cost_per_million};
use scalelab_scaling::{ParamValue, Policy, SimConfig, SimResult, set_param, simulate};
use scalelab_shape::{Shape, format_duration};

use crate::files::{print_table, read_text, usd};
use scalelab_metrics::output::write_atomic;

/// What `sim` and `sweep` share: the shape, the capacity model, the policy and the step.
#[derive(Args)]
pub struct Scenario {
    /// Offered load as inline k6-style stages DURATION:TARGET,... (each ramps from the previous value).
    #[arg(long, group = "load", required_unless_present_any = ["trace", "plan"])]
    stages: Option<String>,
    /// Load at time 0, where the first stage ramps from.
    #[arg(long, default_value_t = 0.0, requires = "stages")]
    start: f64,
    /// Offered load as a CSV trace of 'seconds,value' rows.
    #[arg(long, group = "load")]
    trace: Option<PathBuf>,
    /// Offered load of a plan's arrival-rate scenarios (k6, Artillery or native), in requests per second.
    #[arg(long, group = "load")]
    plan: Option<PathBuf>,
    /// The load's unit: requests per minute or per second.
    #[arg(long, value_enum, default_value_t = Per::Second)]
    per: Per,
    /// Policy file: native YAML/JSON (docs/sim.md), a Kubernetes HPA manifest or Terraform (.tf file or
    /// directory) with aws_autoscaling_policy and alarm resources (docs/export.md).
    #[arg(long)]
    policy: PathBuf,
    /// Override one policy parameter, e.g. --set upper_threshold=30 --set startup=2m (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = name_value)]
    overrides: Vec<(String, String)>,
    /// Capacity model: CPU % of one instance per unit of load it serves.
    #[arg(long)]
    cpu_per_load: f64,
    /// Capacity model: CPU % of an idle instance.
    #[arg(long, default_value_t = 0.0)]
    cpu_base: f64,
    /// Simulation step (1s to the shape's length).
    #[arg(long, value_parser = crate::args::duration, default_value = "60s")]
    step: Duration,
    /// CPU % above which time is counted as "above the limit".
    #[arg(long, default_value_t = 50.0)]
    cpu_limit: f64,
    /// Instance type to price the run with (e.g. t3.micro).
    #[arg(long)]
    instance_type: Option<String>,
    /// Price catalog CSV instead of the built-in one (see docs/cost.md).
    #[arg(long)]
    prices: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Per {
    Minute,
    Second,
}

/// `NAME=VALUE`.
pub fn name_value(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not NAME=VALUE"))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

/// A scenario read and checked, ready to simulate.
pub struct Loaded {
    pub shape: Shape,
    pub model: LinearCapacity,
    pub policy: Policy,
    pub config: SimConfig,
    pub instance: Option<(InstanceType, String)>,
    pub unit: &'static str,
}

impl Scenario {
    pub fn load(&self) -> anyhow::Result<Loaded> {
        let shape = match (&self.stages, &self.trace, &self.plan) {
            (Some(stages), _, _) => scalelab_shape::parse_inline_stages(stages, self.start)
                .with_context(|| format!("--stages '{stages}'"))?,
            (_, Some(path), _) => scalelab_shape::parse_csv_trace(&read_text(path, "trace")?)
                .with_context(|| format!("trace {}", path.display()))?,
            (_, _, Some(path)) => {
                if matches!(self.per, Per::Minute) {
                    bail!("a plan's offered load is in requests per second: drop --per minute");
                }
                let plan = scalelab_load::plan::load_file(path, &Default::default())?;
                plan.offered_load()
                    .map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))?
            }
            (None, None, None) => bail!("give --stages, --trace or --plan"),
        };
        let model = LinearCapacity::new(self.cpu_per_load, self.cpu_base)?;
        let mut policy = scalelab_policy_io::load_policy(&self.policy)?;
        for (name, value) in &self.overrides {
            policy = set_param(&policy, name, &ParamValue::parse(value))
                .with_context(|| format!("--set {name}={value}"))?;
        }
        if self.step < Duration::from_secs(1)
            || self.step > shape.duration().max(Duration::from_secs(1))
        {
            bail!(
                "--step {} must be between 1s and the shape's length ({})",
                format_duration(self.step),
                format_duration(shape.duration())
            );
        }
        let instance = match &self.instance_type {
            Some(name) => {
                let catalog = load_catalog(self.prices.as_ref())?;
                let found = catalog.find(name)?.clone();
                Some((
                    found,
                    format!("{} (as of {})", catalog.description, catalog.as_of),
                ))
            }
            None => None,
        };
        let (per, unit) = match self.per {
            Per::Minute => (Duration::from_secs(60), "per minute"),
            Per::Second => (Duration::from_secs(1), "per second"),
        };
        Ok(Loaded {
            config: SimConfig {
                step: self.step,
                per,
                cpu_limit: self.cpu_limit,
                usd_per_hour: instance.as_ref().map(|(i, _)| i.usd_per_hour),
                record_timeline: true,
            },
            shape,
            model,
            policy,
            instance,
            unit,
        })
    }
}

/// The built-in catalog or the one in `path`.
pub fn load_catalog(path: Option<&PathBuf>) -> anyhow::Result<PriceCatalog> {
    match path {
        Some(path) => PriceCatalog::parse(&read_text(path, "price catalog")?)
            .with_context(|| format!("price catalog {}", path.display())),
        None => Ok(PriceCatalog::built_in()),
    }
}

#[derive(Args)]
pub struct SimArgs {
    #[command(flatten)]
    scenario: Scenario,
    /// Where to write the timeline CSV.
    #[arg(long, default_value = "results/sim-timeline.csv")]
    out: PathBuf,
    /// Where to write the HTML report (charts of the timeline, offline).
    #[arg(long, default_value = "results/sim-report.html")]
    report: PathBuf,
}

/// The timeline CSV's header; `cost --timeline` reads these columns.
pub const TIMELINE_HEADER: &str = "start_s,end_s,offered_load,in_service,pending,cpu_percent,served_load,\
unserved_load,served_requests,unserved_requests,desired,launched,terminated,event";

pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    let loaded = args.scenario.load()?;
    let result = simulate(&loaded.shape, &loaded.model, &loaded.policy, &loaded.config)?;
    write_atomic(&args.out, timeline_csv(&result).as_bytes())
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    let (lines, rows) = summary(&loaded, &result);
    for line in &lines {
        println!("{line}");
    }
    let figures: Vec<(String, String)> = rows
        .iter()
        .map(|row| {
            (
                row[0].clone(),
                format!("{} {}", row[1], row[2]).trim().to_owned(),
            )
        })
        .collect();
    let page = scalelab_report::SimPage {
        lines: &lines,
        figures: &figures,
        unit: loaded.unit,
        cpu_limit: loaded.config.cpu_limit,
        usd_per_hour: loaded.config.usd_per_hour,
    };
    write_atomic(
        &args.report,
        scalelab_report::sim_report(&result, &page).as_bytes(),
    )
    .with_context(|| format!("cannot write {}", args.report.display()))?;
    print_table(&["figure", "value", "unit"], &rows);
    println!("\ntimeline: {}", args.out.display());
    println!("report: {}", args.report.display());
    Ok(ExitCode::SUCCESS)
}

fn timeline_csv(result: &SimResult) -> String {
    let mut csv = format!("{TIMELINE_HEADER}\n");
    for r in &result.timeline {
        let cpu = r.cpu_percent.map_or(String::new(), |c| format!("{c:.3}"));
        let event = r.event.as_deref().unwrap_or("").replace('"', "'");
        let _ = writeln!(
            csv,
            "{},{},{:.3},{},{},{cpu},{:.3},{:.3},{:.3},{:.3},{},{},{},\"{event}\"",
            r.start,
            r.end,
            r.offered_load,
            r.in_service,
            r.pending,
            r.served_load,
            r.unserved_load,
            r.served_requests,
            r.unserved_requests,
            r.desired,
            r.launched,
            r.terminated,
        );
    }
    csv
}

/// The verdict and settings lines, and the summary table's rows (figure, value, unit).
fn summary(loaded: &Loaded, result: &SimResult) -> (Vec<String>, Vec<Vec<String>>) {
    let s = &result.summary;
    let limit = loaded.config.cpu_limit;
    let verdict = if s.max_cpu > limit {
        format!(
            "CPU breaches {limit} %: above it for {}",
            format_duration(Duration::from_secs_f64(s.time_above_limit))
        )
    } else {
        format!("CPU stays at or below {limit} %")
    };
    let mut lines = vec![
        format!(
            "simulated {} in {} steps of {} (load {})",
            format_duration(Duration::from_secs_f64(s.duration)),
            result.timeline.len(),
            format_duration(loaded.config.step),
            loaded.unit
        ),
        verdict,
        String::new(),
    ];
    let mut rows = vec![
        vec![
            "max CPU per instance".into(),
            format!("{:.1}", s.max_cpu),
            "%".into(),
        ],
        vec![
            "mean CPU per instance".into(),
            format!("{:.1}", s.mean_cpu),
            "%".into(),
        ],
        vec![
            format!("time above {limit} % CPU"),
            format!("{:.0}", s.time_above_limit),
            "s".into(),
        ],
        vec![
            "offered requests".into(),
            format!("{:.0}", s.offered_requests),
            String::new(),
        ],
        vec![
            "unserved requests".into(),
            format!("{:.0}", s.unserved_requests),
            String::new(),
        ],
        vec![
            "instance-hours (billed)".into(),
            format!("{:.3}", s.instance_hours),
            "h".into(),
        ],
        vec![
            "peak instances".into(),
            s.peak_instances.to_string(),
            String::new(),
        ],
        vec![
            "scaling events".into(),
            s.scaling_events.to_string(),
            String::new(),
        ],
    ];
    if let (Some(cost), Some((instance, catalog))) = (s.cost, &loaded.instance) {
        rows.push(vec![
            format!(
                "cost ({} at {}/h)",
                instance.name,
                usd(instance.usd_per_hour)
            ),
            usd(cost),
            String::new(),
        ]);
        if let Some(per_million) = cost_per_million(cost, s.served_requests) {
            rows.push(vec![
                "cost per million requests served".into(),
                usd(per_million),
                String::new(),
            ]);
        }
        lines.push(format!("prices: {catalog}"));
    }
    (lines, rows)
}
