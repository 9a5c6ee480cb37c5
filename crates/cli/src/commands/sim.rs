//! `scalelab sim`: a policy over a traffic shape in virtual time; writes the timeline CSV and prints
//! the summary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use scalelab_capacity::{
    CapacityFile, InstanceType, LinearCapacity, PriceCatalog, cost_per_million,
};
use scalelab_config::format_duration;
use scalelab_scaling::{
    CreditMode, CreditModel, ParamValue, Policy, SimConfig, SimResult, set_param, simulate,
    timeline_csv,
};
use scalelab_shape::Shape;

use crate::files::{read_text, write_result};
use scalelab_report::{number, table, usd};

/// What `sim` and `sweep` share: the shape, the capacity model, the policy and the step.
#[derive(Args)]
pub struct Scenario {
    /// Offered load as inline k6-style stages DURATION:TARGET,... (each ramps from the previous value).
    /// (One of --stages, --trace and --plan is required.)
    #[arg(long, group = "load")]
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
    /// directory) with aws_autoscaling_policy and alarm resources (docs/export.md). Required.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Override one policy parameter, e.g. --set upper_threshold=30 --set startup=2m (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = name_value)]
    overrides: Vec<(String, String)>,
    /// Capacity model: CPU % of one instance per unit of load it serves (this or --capacity is
    /// required).
    #[arg(long)]
    cpu_per_load: Option<f64>,
    /// Capacity model: CPU % of an idle instance.
    #[arg(long, default_value_t = 0.0, conflicts_with = "capacity")]
    cpu_base: f64,
    /// Capacity model from capacity.yaml (written by `scalelab capacity` or `scalelab fit`)
    /// instead of --cpu-per-load and --cpu-base.
    #[arg(long, conflicts_with = "cpu_per_load")]
    capacity: Option<PathBuf>,
    /// Simulation step (1s to the shape's length).
    #[arg(long, value_parser = scalelab_config::parse_duration, default_value = "60s")]
    step: Duration,
    /// CPU % above which time is counted as "above the limit".
    #[arg(long, default_value_t = 50.0, value_parser = cpu_percent)]
    pub cpu_limit: f64,
    /// Instance type to price the run with (e.g. t3.micro).
    #[arg(long)]
    instance_type: Option<String>,
    /// Price catalog CSV instead of the built-in one (see docs/cost.md).
    #[arg(long)]
    prices: Option<PathBuf>,
    /// CPU credit mode of a burstable --instance-type (default: t2 standard, t3/t3a/t4g unlimited).
    #[arg(long, value_enum, requires = "instance_type")]
    credits: Option<Credits>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Credits {
    Standard,
    Unlimited,
}

#[derive(Clone, Copy, ValueEnum)]
enum Per {
    Minute,
    Second,
}

/// A CPU % from 0 to 100.
fn cpu_percent(text: &str) -> Result<f64, String> {
    text.parse()
        .ok()
        .filter(|percent| (0.0..=100.0).contains(percent))
        .ok_or_else(|| "must be a CPU % from 0 to 100".to_owned())
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
    /// The capacity model of `--capacity` (its per-second coefficient converted to `--per`), or of
    /// `--cpu-per-load` and `--cpu-base`; `None` when neither is given.
    pub fn model(&self) -> anyhow::Result<Option<LinearCapacity>> {
        let Some(path) = &self.capacity else {
            return match self.cpu_per_load {
                Some(coefficient) => Ok(Some(LinearCapacity::new(coefficient, self.cpu_base)?)),
                None => Ok(None),
            };
        };
        let file = CapacityFile::from_yaml(&read_text(path, "capacity model")?)
            .with_context(|| format!("{}", path.display()))?;
        let model = file.model()?;
        if let Some(rate) = file.max_sustainable_rate
            && rate < 0.9 * model.capacity_per_instance()
        {
            eprintln!(
                "warning: {} kept up only to {rate} requests/s, below the {:.0} requests/s at \
                 which its CPU model reaches 100 %: the limit was not the CPU, and the simulator \
                 models only CPU",
                path.display(),
                model.capacity_per_instance()
            );
        }
        let per_unit = match self.per {
            Per::Second => 1.0,
            Per::Minute => 1.0 / 60.0,
        };
        Ok(Some(LinearCapacity::new(
            model.coefficient * per_unit,
            model.base,
        )?))
    }

    /// The `--instance-type` found in the catalog, with the catalog's description.
    pub fn instance(&self) -> anyhow::Result<Option<(InstanceType, String)>> {
        let Some(name) = &self.instance_type else {
            return Ok(None);
        };
        let catalog = load_catalog(self.prices.as_ref())?;
        let found = catalog.find(name)?.clone();
        Ok(Some((
            found,
            format!("{} (as of {})", catalog.description, catalog.as_of),
        )))
    }

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
        let model = self.model()?.context("give --cpu-per-load or --capacity")?;
        let path = self.policy.as_ref().context("give --policy")?;
        let mut policy = scalelab_policy_io::load_policy(path)?;
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
        let instance = self.instance()?;
        let mode = self.credits.map(|c| match c {
            Credits::Standard => CreditMode::Standard,
            Credits::Unlimited => CreditMode::Unlimited,
        });
        let credits = instance
            .as_ref()
            .and_then(|(i, _)| CreditModel::for_type(i, mode));
        if let (Some(_), None, Some((i, _))) = (mode, credits, &instance) {
            bail!("--credits: {} is not a burstable instance type", i.name);
        }
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
                credits,
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
    /// Replay a `scalelab cluster --out` run: its offered load, policy and replicas' start-up, with a
    /// capacity model fitted from the run (or --cpu-per-load / --capacity), beside what it measured
    /// (docs/sim.md, "Simulation versus real life").
    #[arg(long, value_name = "RESULTS_DIR", conflicts_with_all = [
        "stages", "start", "trace", "plan", "per", "policy", "overrides", "step", "credits",
    ])]
    against: Option<PathBuf>,
    /// Where to write the timeline CSV [default: results/sim-timeline.csv; with --against,
    /// RESULTS_DIR/sim-timeline.csv].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where to write the HTML report (charts of the timeline, offline) [default:
    /// results/sim-report.html; with --against, RESULTS_DIR/sim-against.html].
    #[arg(long)]
    report: Option<PathBuf>,
}

pub fn run(args: SimArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.against {
        let out = args.out.unwrap_or_else(|| dir.join("sim-timeline.csv"));
        let report = args.report.unwrap_or_else(|| dir.join("sim-against.html"));
        return super::against::run(dir, &args.scenario, &out, &report);
    }
    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from("results/sim-timeline.csv"));
    let report = args
        .report
        .unwrap_or_else(|| PathBuf::from("results/sim-report.html"));
    let loaded = args.scenario.load()?;
    let result = simulate(&loaded.shape, &loaded.model, &loaded.policy, &loaded.config)?;
    let out = write_result(&out, timeline_csv(&result.timeline).as_bytes())?;
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
    let report = write_result(
        &report,
        scalelab_report::sim_report(&result, &page).as_bytes(),
    )?;
    print!("{}", table(&["figure", "value", "unit"], &rows));
    println!("\ntimeline: {out}");
    println!("report: {report}");
    Ok(ExitCode::SUCCESS)
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
    ];
    if let Some(credits) = &loaded.config.credits {
        let mode = match credits.mode {
            CreditMode::Standard => "standard",
            CreditMode::Unlimited => "unlimited",
        };
        lines.push(if s.throttled_seconds > 0.0 {
            format!(
                "CPU credits run out ({mode} mode): instances held to the {} % baseline for {} \
                 of instance time",
                credits.rates.baseline_pct,
                format_duration(Duration::from_secs_f64(s.throttled_seconds.round()))
            )
        } else if s.surplus_credits > 0.0 {
            format!(
                "CPU credits run out ({mode} mode): {} surplus credits charged",
                number(s.surplus_credits, 1)
            )
        } else {
            format!("CPU credits last ({mode} mode)")
        });
    }
    lines.push(String::new());
    let mut rows = vec![
        vec![
            "max CPU per instance".into(),
            number(s.max_cpu, 1),
            "%".into(),
        ],
        vec![
            "mean CPU per instance".into(),
            number(s.mean_cpu, 1),
            "%".into(),
        ],
        vec![
            format!("time above {limit} % CPU"),
            number(s.time_above_limit, 0),
            "s".into(),
        ],
        vec![
            "offered requests".into(),
            number(s.offered_requests, 0),
            String::new(),
        ],
        vec![
            "unserved requests".into(),
            number(s.unserved_requests, 0),
            String::new(),
        ],
        vec![
            "instance-hours (billed)".into(),
            number(s.instance_hours, 3),
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
    if loaded.config.credits.is_some() {
        rows.push(vec![
            "throttled (instance-seconds)".into(),
            number(s.throttled_seconds, 0),
            "s".into(),
        ]);
        rows.push(vec![
            "surplus credits charged".into(),
            number(s.surplus_credits, 1),
            String::new(),
        ]);
    }
    if let (Some(cost), Some((instance, catalog))) = (s.cost, &loaded.instance) {
        rows.push(vec![
            format!(
                "cost ({} at {}/h{})",
                instance.name,
                usd(instance.usd_per_hour),
                if s.surplus_credits > 0.0 {
                    " + credits"
                } else {
                    ""
                }
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
