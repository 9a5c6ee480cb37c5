//! `scalelab export`: a policy in the form a platform deploys (Terraform, Kubernetes HPA, Elastic
//! Beanstalk option settings).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use scalelab_metrics::output::write_atomic;
use scalelab_policy_io::{ExportOptions, Format, export, load_policy};

#[derive(Args)]
pub struct ExportArgs {
    /// Policy file: native YAML/JSON, an HPA manifest or Terraform (.tf file or directory).
    #[arg(long)]
    policy: PathBuf,
    /// What to write.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Name of the Deployment (hpa), the prefix of policy and alarm names (terraform), the environment (beanstalk).
    #[arg(long, default_value = "app")]
    name: String,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Terraform,
    Hpa,
    Beanstalk,
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let policy = load_policy(&args.policy)?;
    let format = match args.format {
        ExportFormat::Terraform => Format::Terraform,
        ExportFormat::Hpa => Format::Hpa,
        ExportFormat::Beanstalk => Format::Beanstalk,
    };
    let text = export(&policy, format, &ExportOptions { name: args.name })
        .with_context(|| args.policy.display().to_string())?;
    match &args.out {
        Some(out) => write_atomic(out, text.as_bytes())
            .with_context(|| format!("cannot write {}", out.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
